"""Channel account endpoints under /api/v1/."""

from django.urls import path

from accounts import api

urlpatterns = [
    path("channel-accounts/", api.ChannelAccountListView.as_view(), name="api-channel-accounts"),
    path(
        "channel-accounts/connect/bluesky/",
        api.BlueskyConnectView.as_view(),
        name="api-channel-account-connect-bluesky",
    ),
    path(
        "channel-accounts/connect/mastodon/",
        api.MastodonConnectView.as_view(),
        name="api-channel-account-connect-mastodon",
    ),
    path(
        "channel-accounts/connect/sandbox/",
        api.SandboxConnectView.as_view(),
        name="api-channel-account-connect-sandbox",
    ),
    path(
        "channel-accounts/<int:pk>/",
        api.ChannelAccountDetailView.as_view(),
        name="api-channel-account",
    ),
    path(
        "channel-accounts/<int:pk>/check/",
        api.ChannelAccountCheckView.as_view(),
        name="api-channel-account-check",
    ),
    path(
        "channel-accounts/<int:pk>/disconnect/",
        api.ChannelAccountDisconnectView.as_view(),
        name="api-channel-account-disconnect",
    ),
]
