"""Readable names for audit action codes.

The log stores stable codes (``member.role_changed``); people read these labels.
A code missing here is still shown, as its code, so a new action never hides.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

AUDIT_LABELS: dict[str, Promise] = {
    # Signing in and two-factor authentication
    "auth.login_succeeded": _("Logged in"),
    "auth.login_failed": _("Login failed"),
    "auth.password_accepted": _("Password accepted; second factor still to come"),
    "auth.locked_out": _("Locked out after failed logins"),
    "auth.logout": _("Logged out"),
    "auth.2fa_enrolled": _("Set up two-factor authentication"),
    "auth.2fa_failed": _("Two-factor code rejected"),
    "auth.2fa_verified": _("Two-factor code accepted"),
    "auth.backup_code_used": _("Used a backup code"),
    "auth.backup_codes_regenerated": _("Made new backup codes"),
    "auth.password_changed": _("Changed password"),
    # Members
    "member.invited": _("Invited a member"),
    "member.invitation_revoked": _("Revoked an invitation"),
    "member.invitation_resent": _("Resent an invitation"),
    "member.joined": _("Joined the organization"),
    "member.added": _("Added a member"),
    "member.role_changed": _("Changed a member's role"),
    "member.accounts_limited": _("Changed a member's channel accounts"),
    "member.deactivated": _("Deactivated a member"),
    "member.reactivated": _("Reactivated a member"),
    "member.leaving_date_set": _("Set a member's leaving date"),
    "member.added_by_admin": _("Added a member in the site administration"),
    "member.changed_by_admin": _("Changed a member in the site administration"),
    # The organization
    "org.created": _("Created the organization"),
    "organization.created": _("Created the organization"),
    "org.settings_changed": _("Changed organization settings"),
    # People's own profiles
    "user.profile_changed": _("Changed profile"),
    "user.created": _("Created a user"),
    "user.created_by_admin": _("Created a user in the site administration"),
    "user.changed_by_admin": _("Changed a user in the site administration"),
    "user.password_set_by_admin": _("Set a user's password in the site administration"),
    # API tokens
    "api_token.created": _("Created an API token"),
    "api_token.revoked": _("Revoked an API token"),
    # The audit log itself
    "audit.exported": _("Exported the audit log"),
}

# The part of a code before the first dot names its kind; the filter offers these.
AUDIT_CATEGORIES: dict[str, Promise] = {
    "auth": _("Signing in and two-factor"),
    "member": _("Members"),
    "org": _("Organization"),
    "organization": _("Organization (set-up)"),
    "user": _("Profiles"),
    "api_token": _("API tokens"),
    "audit": _("Audit log"),
}


def audit_action_label(action: str) -> str:
    """The translated label of an action code, or the code itself when it has none."""
    label = AUDIT_LABELS.get(action)
    return str(label) if label is not None else action


def audit_category_label(category: str) -> str:
    label = AUDIT_CATEGORIES.get(category)
    return str(label) if label is not None else category
