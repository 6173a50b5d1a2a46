"""Inbox endpoints under /api/v1/."""

from django.urls import path

from inbox import api

urlpatterns = [
    path("inbox/items/", api.InboxItemListView.as_view(), name="api-inbox-items"),
    path("inbox/items/<int:pk>/", api.InboxItemDetailView.as_view(), name="api-inbox-item"),
    path(
        "inbox/items/<int:pk>/assign/",
        api.InboxItemAssignView.as_view(),
        name="api-inbox-item-assign",
    ),
    path(
        "inbox/items/<int:pk>/status/",
        api.InboxItemStatusView.as_view(),
        name="api-inbox-item-status",
    ),
    path(
        "inbox/items/<int:pk>/priority/",
        api.InboxItemPriorityView.as_view(),
        name="api-inbox-item-priority",
    ),
    path("inbox/items/<int:pk>/tags/", api.InboxItemTagsView.as_view(), name="api-inbox-item-tags"),
    path(
        "inbox/items/<int:pk>/notes/",
        api.InboxItemNotesView.as_view(),
        name="api-inbox-item-notes",
    ),
    path(
        "inbox/items/<int:pk>/replies/",
        api.InboxItemReplyView.as_view(),
        name="api-inbox-item-reply",
    ),
    path(
        "inbox/replies/<int:pk>/approve/",
        api.ReplyApproveView.as_view(),
        name="api-inbox-reply-approve",
    ),
    path(
        "inbox/replies/<int:pk>/reject/",
        api.ReplyRejectView.as_view(),
        name="api-inbox-reply-reject",
    ),
    path("inbox/saved-replies/", api.SavedReplyListView.as_view(), name="api-inbox-saved-replies"),
]
