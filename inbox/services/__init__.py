"""Writes of the inbox. Every door (pages, the API, Celery tasks) calls these.

Each function is keyword-only, runs its writes in transactions, checks the
actor's permission and the object's current state itself, and writes an audit
entry for every change a person makes. Failures a person can fix raise
``django.core.exceptions.ValidationError``; a forbidden action raises
``PermissionDenied`` (403).

Modules: ``sync`` (pulling items from the networks, marking items deleted
there), ``triage`` (assigning, status, tags, priority, bulk actions),
``replies`` (answering, approval, retries), ``notes`` (the team's internal notes),
``org_settings`` (response policy, signature and approval rules, watch words, saved
replies, saved views).
"""

from inbox.services.notes import inbox_note_add
from inbox.services.org_settings import (
    inbox_settings_update,
    priority_word_add,
    priority_word_delete,
    response_policy_update,
    saved_reply_delete,
    saved_reply_save,
    saved_view_delete,
    saved_view_save,
)
from inbox.services.replies import (
    inbox_reply_approve,
    inbox_reply_create,
    inbox_reply_reject,
    inbox_reply_retry,
)
from inbox.services.sync import (
    SyncResult,
    inbox_check_deleted,
    inbox_item_mark_deleted_on_network,
    inbox_sync_account,
)
from inbox.services.triage import (
    BulkResult,
    inbox_item_assign,
    inbox_item_set_hidden,
    inbox_item_set_priority,
    inbox_item_set_status,
    inbox_item_set_tags,
    inbox_items_bulk,
)

__all__ = [
    "BulkResult",
    "SyncResult",
    "inbox_check_deleted",
    "inbox_item_assign",
    "inbox_item_mark_deleted_on_network",
    "inbox_item_set_hidden",
    "inbox_item_set_priority",
    "inbox_item_set_status",
    "inbox_item_set_tags",
    "inbox_items_bulk",
    "inbox_note_add",
    "inbox_reply_approve",
    "inbox_reply_create",
    "inbox_reply_reject",
    "inbox_reply_retry",
    "inbox_settings_update",
    "inbox_sync_account",
    "priority_word_add",
    "priority_word_delete",
    "response_policy_update",
    "saved_reply_delete",
    "saved_reply_save",
    "saved_view_delete",
    "saved_view_save",
]
