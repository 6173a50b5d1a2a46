"""Post and media library endpoints under /api/v1/."""

from django.urls import path

from publishing import api

urlpatterns = [
    path("posts/", api.PostListView.as_view(), name="api-posts"),
    path("posts/<int:pk>/", api.PostDetailView.as_view(), name="api-post"),
    path("posts/<int:pk>/submit/", api.PostSubmitView.as_view(), name="api-post-submit"),
    path("posts/<int:pk>/approve/", api.PostApproveView.as_view(), name="api-post-approve"),
    path(
        "posts/<int:pk>/request-changes/",
        api.PostRequestChangesView.as_view(),
        name="api-post-request-changes",
    ),
    path("posts/<int:pk>/schedule/", api.PostScheduleView.as_view(), name="api-post-schedule"),
    path("posts/<int:pk>/cancel/", api.PostCancelView.as_view(), name="api-post-cancel"),
    path(
        "posts/<int:pk>/recurrence/",
        api.PostRecurrenceView.as_view(),
        name="api-post-recurrence",
    ),
    path("posts/<int:pk>/skip/", api.PostSkipView.as_view(), name="api-post-skip"),
    path("media/", api.MediaListView.as_view(), name="api-media"),
    path("media/<int:pk>/copies/", api.VideoCopyListView.as_view(), name="api-media-copies"),
    path("video-copies/<int:pk>/", api.VideoCopyDetailView.as_view(), name="api-video-copy"),
]
