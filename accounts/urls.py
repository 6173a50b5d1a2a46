from django.urls import path

from accounts.views import (
    apps,
    connect,
    linkedin,
    meta,
    pages,
    sandbox,
    threads,
    tiktok,
    x,
    youtube,
)

app_name = "accounts"

urlpatterns = [
    path("", pages.account_list_view, name="list"),
    path("apps/", apps.network_app_list_view, name="network_apps"),
    # Threads and X have pages of their own (permissions with what each enables; X's plan).
    path("apps/threads/", threads.threads_app_view, name="threads_app"),
    path("apps/x/", x.x_app_view, name="x_app"),
    path("apps/meta/", meta.meta_app_view, name="meta_app"),
    path("apps/<str:platform>/", apps.network_app_edit_view, name="network_app_edit"),
    path("apps/<str:platform>/delete/", apps.network_app_delete_view, name="network_app_delete"),
    path("connect/", connect.connect_choose_view, name="connect"),
    path("connect/bluesky/", connect.connect_bluesky_view, name="connect_bluesky"),
    path("connect/mastodon/", connect.connect_mastodon_view, name="connect_mastodon"),
    path("connect/sandbox/", connect.connect_sandbox_view, name="connect_sandbox"),
    path("connect/x/", x.connect_x_view, name="connect_x"),
    path("x/callback/", x.x_callback_view, name="x_callback"),
    path("connect/tiktok/", tiktok.connect_tiktok_view, name="connect_tiktok"),
    path("tiktok/callback/", tiktok.tiktok_callback_view, name="tiktok_callback"),
    path("connect/youtube/", youtube.connect_youtube_view, name="connect_youtube"),
    path("youtube/callback/", youtube.youtube_callback_view, name="youtube_callback"),
    path("<int:pk>/budget/", x.account_budget_view, name="budget"),
    path("mastodon/callback/", connect.mastodon_callback_view, name="mastodon_callback"),
    path("connect/linkedin/", linkedin.connect_linkedin_view, name="connect_linkedin"),
    path("connect/linkedin/pages/", linkedin.linkedin_pages_view, name="linkedin_pages"),
    path(
        "connect/linkedin/app/delete/",
        linkedin.linkedin_app_delete_view,
        name="linkedin_app_delete",
    ),
    path("linkedin/callback/", linkedin.linkedin_callback_view, name="linkedin_callback"),
    path("connect/threads/", threads.connect_threads_view, name="connect_threads"),
    path("threads/callback/", threads.threads_callback_view, name="threads_callback"),
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
