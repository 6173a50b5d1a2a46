from django.urls import path

from accounts.views import connect, meta, pages, sandbox

app_name = "accounts"

urlpatterns = [
    path("", pages.account_list_view, name="list"),
    path("connect/", connect.connect_choose_view, name="connect"),
    path("connect/bluesky/", connect.connect_bluesky_view, name="connect_bluesky"),
    path("connect/mastodon/", connect.connect_mastodon_view, name="connect_mastodon"),
    path("connect/sandbox/", connect.connect_sandbox_view, name="connect_sandbox"),
    path("mastodon/callback/", connect.mastodon_callback_view, name="mastodon_callback"),
    path("apps/meta/", meta.meta_app_view, name="meta_app"),
    path("connect/meta/", meta.connect_meta_view, name="connect_meta"),
    path("connect/meta/choose/", meta.connect_meta_pick_view, name="connect_meta_pick"),
    path("meta/callback/", meta.meta_callback_view, name="meta_callback"),
    path("<int:pk>/", pages.account_detail_view, name="detail"),
    path("<int:pk>/check/", pages.account_check_view, name="check"),
    path("<int:pk>/disconnect/", pages.account_disconnect_view, name="disconnect"),
    path("<int:pk>/reconnect/", pages.account_reconnect_view, name="reconnect"),
    path("<int:pk>/sandbox/", sandbox.sandbox_feed_view, name="sandbox_feed"),
    path("<int:pk>/sandbox/simulate/", sandbox.sandbox_simulate_view, name="sandbox_simulate"),
]
