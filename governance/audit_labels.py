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
    "auth.password_reset": _("Reset password with a link sent by e-mail"),
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
    # Connected channel accounts
    "channel_account.connected": _("Connected a channel account"),
    "channel_account.reconnected": _("Reconnected a channel account"),
    "channel_account.disconnected": _("Disconnected a channel account"),
    "channel_account.needs_reconnect": _("A channel account needs to be connected again"),
    "channel_account.expiry_notified": _("Warned that a channel account's access is expiring"),
    "mastodon_app.registered": _("Registered the app on a Mastodon server"),
    "sandbox.audience_simulated": _("The practice audience answered a post"),
    # Posts, campaigns and media
    "post.created": _("Wrote a post"),
    "post.edited": _("Edited a post"),
    "post.updated": _("Changed a post"),
    "post.submitted": _("Sent a post for approval"),
    "post.withdrawn": _("Withdrew a post from approval"),
    "post.returned_to_review": _("Sent a post back for approval"),
    "post.review_approved": _("Approved a post as one of its reviewers"),
    "post.approved": _("Approved a post"),
    "post.changes_requested": _("Asked for changes to a post"),
    "post.scheduled": _("Scheduled a post"),
    "post.rescheduled": _("Moved a post to another time"),
    "post.unscheduled": _("Took a post off the schedule"),
    "post.cancelled": _("Cancelled a post"),
    "post.publishing": _("Started publishing a post"),
    "post.published": _("Published a post"),
    "post.failed": _("A post could not be published"),
    "post.retried": _("Tried publishing a post again"),
    "campaign.created": _("Created a campaign"),
    "media.uploaded": _("Uploaded an image or video"),
    "media.alt_text_set": _("Wrote the text alternative of an image"),
    "media.deleted": _("Deleted an image or video"),
    # Publishing to each network, and the crisis pause
    "publish_job.published": _("Published a post on a network"),
    "publish_job.failed": _("Publishing on a network failed"),
    "publish_job.retried": _("Tried publishing on a network again"),
    "publish_job.held": _("Held a post back during the publishing pause"),
    "publish_job.released": _("Released a held post after the pause"),
    "publish_job.rescheduled": _("Moved a held post to another time"),
    "publish_job.cancelled": _("Cancelled publishing on a network"),
    "publish_job.deleted_from_network": _("A published post was deleted on the network"),
    "publishing.paused": _("Paused all publishing"),
    "publishing.resumed": _("Resumed publishing"),
    "publishing.emergency_publish": _("Published during the pause as an emergency"),
    "emergency_publisher.added": _("Allowed someone to publish during a pause"),
    "emergency_publisher.removed": _("Stopped someone publishing during a pause"),
    "publishing_settings.updated": _("Changed publishing settings"),
    "approval_policy.saved": _("Saved an approval policy"),
    "approval_policy.deleted": _("Deleted an approval policy"),
    "calendar_feed.created": _("Made a calendar feed link"),
    "calendar_feed.revoked": _("Revoked a calendar feed link"),
    # The inbox
    "inbox_item.assigned": _("Assigned an inbox item"),
    "inbox_item.status_changed": _("Changed an inbox item's status"),
    "inbox_item.priority_changed": _("Changed an inbox item's priority"),
    "inbox_item.tagged": _("Tagged an inbox item"),
    "inbox_item.deleted_on_network": _("An inbox item was deleted on the network"),
    "inbox_reply.created": _("Wrote a reply"),
    "inbox_reply.approved": _("Approved a reply"),
    "inbox_reply.rejected": _("Rejected a reply"),
    "inbox_reply.sent": _("Sent a reply"),
    "inbox_reply.failed": _("A reply could not be sent"),
    "inbox_reply.retried": _("Tried sending a reply again"),
    "inbox.settings_changed": _("Changed inbox settings"),
    "inbox.response_policy_changed": _("Changed the inbox response policy"),
    "inbox.priority_word_added": _("Added a priority word"),
    "inbox.priority_word_removed": _("Removed a priority word"),
    "inbox.saved_reply_saved": _("Saved a saved reply"),
    "inbox.saved_reply_deleted": _("Deleted a saved reply"),
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
    "channel_account": _("Channel accounts"),
    "mastodon_app": _("Channel accounts (Mastodon)"),
    "sandbox": _("Practice account"),
    "post": _("Posts"),
    "campaign": _("Campaigns"),
    "media": _("Images and videos"),
    "publish_job": _("Publishing on networks"),
    "publishing": _("Publishing pause"),
    "emergency_publisher": _("Publishing pause"),
    "publishing_settings": _("Publishing settings"),
    "approval_policy": _("Approval policies"),
    "calendar_feed": _("Calendar feeds"),
    "inbox_item": _("Inbox items"),
    "inbox_reply": _("Inbox replies"),
    "inbox": _("Inbox settings"),
    "network_app": _("Network apps"),
}


def audit_action_label(action: str) -> str:
    """The translated label of an action code, or the code itself when it has none."""
    label = AUDIT_LABELS.get(action)
    return str(label) if label is not None else action


def audit_category_label(category: str) -> str:
    label = AUDIT_CATEGORIES.get(category)
    return str(label) if label is not None else category
