"""Listening endpoints under /api/v1/listening/."""

from django.urls import path

from listening import api

urlpatterns = [
    path("listening/watches/", api.WatchListView.as_view(), name="api-listening-watches"),
    path("listening/watches/<int:pk>/", api.WatchDetailView.as_view(), name="api-listening-watch"),
    path(
        "listening/watches/<int:pk>/posts/",
        api.WatchStreamView.as_view(),
        name="api-listening-stream",
    ),
    path(
        "listening/posts/<int:pk>/send-to-inbox/",
        api.PostToInboxView.as_view(),
        name="api-listening-post-inbox",
    ),
    path(
        "listening/posts/<int:pk>/misinformation/",
        api.PostMisinformationView.as_view(),
        name="api-listening-post-misinformation",
    ),
    path(
        "listening/posts/<int:pk>/correction/",
        api.PostCorrectionView.as_view(),
        name="api-listening-post-correction",
    ),
    path("listening/cases/", api.CaseListView.as_view(), name="api-listening-cases"),
    path("listening/cases/<int:pk>/", api.CaseDetailView.as_view(), name="api-listening-case"),
    path(
        "listening/cases/<int:pk>/posts/",
        api.CasePostsView.as_view(),
        name="api-listening-case-posts",
    ),
    path(
        "listening/cases/<int:pk>/correction/",
        api.CaseCorrectionView.as_view(),
        name="api-listening-case-correction",
    ),
    path(
        "listening/cases/<int:pk>/close/",
        api.CaseCloseView.as_view(),
        name="api-listening-case-close",
    ),
    path("listening/alerts/", api.AlertListView.as_view(), name="api-listening-alerts"),
    path(
        "listening/alerts/<int:pk>/acknowledge/",
        api.AlertAcknowledgeView.as_view(),
        name="api-listening-alert-acknowledge",
    ),
]
