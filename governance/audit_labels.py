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
    # The account registry and access reviews
    "registry.entry_created": _("Added an account to the registry"),
    "registry.entry_updated": _("Changed a registry entry"),
    "registry.entry_deleted": _("Removed an account from the registry"),
    "registry.channel_account_linked": _("Linked a connected account to its registry entry"),
    "registry.native_admin_added": _("Recorded a person with native access to an account"),
    "registry.native_admin_removed": _("Removed a person with native access to an account"),
    "registry.access_reviewed": _("Reviewed who has access to an account"),
    "registry.review_reminder_sent": _("Reminded an owner of a due access review"),
    # The credential vault
    "vault.secret_created": _("Stored a secret in the vault"),
    "vault.secret_updated": _("Changed a vault secret's details"),
    "vault.secret_rotated": _("Rotated a vault secret"),
    "vault.secret_deleted": _("Deleted a vault secret"),
    "vault.secret_revealed": _("Revealed a vault secret"),
    "vault.reveal_refused": _("Was refused a vault secret"),
    "vault.rotation_reminder_sent": _("Reminded about a vault secret past its rotation date"),
    # Policies and the governance model's review
    "policy.created": _("Published a policy"),
    "policy.version_published": _("Published a new version of a policy"),
    "policy.acknowledged": _("Acknowledged a policy"),
    "governance.review_scheduled": _("Scheduled the governance model's review"),
    "governance.reviewed": _("Reviewed the governance model"),
    "governance.review_reminder_sent": _("Reminded admins of the governance model's review"),
    # Handover of a leaving member's responsibilities
    "handover.case_opened": _("Opened a handover"),
    "handover.case_refreshed": _("Listed again what a leaving member holds"),
    "handover.items_reassigned": _("Gave a leaving member's items to a new holder"),
    "handover.case_signed_off": _("Signed off a handover"),
    "post.author_changed": _("Changed a post's author"),
    "approval_policy.approver_replaced": _("Replaced an approver in an approval policy"),
    "channel_account.holder_changed": _("Changed who looks after a channel account"),
    "inbox_note.added": _("Kept an internal note on an inbox item"),
    "network_app.created": _("Registered the organization's app on a network"),
    "network_app.updated": _("Changed the organization's app on a network"),
    "network_app.deleted": _("Removed the organization's app on a network"),
    "registry.native_admin_replaced": _("Replaced a person with native access to an account"),
    "vault.rotation_requested": _("Asked for a vault secret to be rotated"),
    # Records: retention, legal holds, disposal and records-request exports
    "records.retention_rule_saved": _("Set a retention rule"),
    "records.retention_rule_deleted": _("Removed a retention rule"),
    "records.legal_hold_placed": _("Placed a legal hold"),
    "records.legal_hold_released": _("Released a legal hold"),
    "records.disposed": _("Disposed of records past their retention"),
    "records.export_requested": _("Asked for a records export"),
    "records.export_built": _("Built a records export"),
    "records.export_failed": _("A records export failed"),
    "records.export_downloaded": _("Downloaded a records export"),
    # Analytics: goals and scheduled e-mail reports
    "analytics.goal_set": _("Set an analytics goal"),
    "analytics.goal_changed": _("Changed an analytics goal"),
    "analytics.goal_removed": _("Removed an analytics goal"),
    "analytics.report_scheduled": _("Scheduled an analytics report"),
    "analytics.report_changed": _("Changed a scheduled analytics report"),
    "analytics.report_removed": _("Removed a scheduled analytics report"),
    "analytics.report_sent": _("Sent a scheduled analytics report"),
    "analytics.report_failed": _("A scheduled analytics report could not be sent"),
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
    "registry": _("Account registry"),
    "vault": _("Credential vault"),
    "policy": _("Policies"),
    "governance": _("Governance model"),
    "handover": _("Handover"),
    "records": _("Records"),
    "analytics": _("Analytics"),
}


def audit_action_label(action: str) -> str:
    """The translated label of an action code, or the code itself when it has none."""
    label = AUDIT_LABELS.get(action)
    return str(label) if label is not None else action


def audit_category_label(category: str) -> str:
    label = AUDIT_CATEGORIES.get(category)
    return str(label) if label is not None else category
