"""Inbox pages, in namespace ``inbox``."""

from django.urls import path

from inbox.views import item, listing, manage, webhooks

app_name = "inbox"

urlpatterns = [
    path("", listing.inbox_list, name="index"),
    path("webhooks/meta/<int:app_id>/", webhooks.meta_webhook, name="meta_webhook"),
    path("new-rows/", listing.inbox_new_rows, name="new_rows"),
    path("bulk/", listing.inbox_bulk, name="bulk"),
    path("sync/", listing.inbox_sync_now, name="sync_now"),
    path("views/", listing.saved_view_create, name="view_create"),
    path("views/<int:pk>/delete/", listing.saved_view_remove, name="view_delete"),
    path("<int:pk>/", item.inbox_item, name="item"),
    path("<int:pk>/assign/", item.item_assign, name="item_assign"),
    path("<int:pk>/status/", item.item_status, name="item_status"),
    path("<int:pk>/moderate/", item.item_moderate, name="item_moderate"),
    path("<int:pk>/priority/", item.item_priority, name="item_priority"),
    path("<int:pk>/tags/", item.item_tags, name="item_tags"),
    path("<int:pk>/hide/", item.item_hide, name="item_hide"),
    path("<int:pk>/notes/", item.item_note, name="item_note"),
    path("<int:pk>/reply/", item.item_reply, name="item_reply"),
    path("<int:pk>/replying/", item.item_replying, name="item_replying"),
    path("replies/<int:pk>/approve/", item.reply_approve, name="reply_approve"),
    path("replies/<int:pk>/reject/", item.reply_reject, name="reply_reject"),
    path("replies/<int:pk>/retry/", item.reply_retry, name="reply_retry"),
    path("approvals/", manage.approvals, name="approvals"),
    path("settings/", manage.inbox_settings, name="settings"),
    path("priority-words/", manage.priority_words, name="priority_words"),
    path(
        "priority-words/<int:pk>/delete/",
        manage.priority_word_remove,
        name="priority_word_delete",
    ),
    path("saved-replies/", manage.saved_replies, name="saved_replies"),
    path("saved-replies/<int:pk>/", manage.saved_reply_edit, name="saved_reply_edit"),
    path("saved-replies/<int:pk>/delete/", manage.saved_reply_remove, name="saved_reply_delete"),
]
