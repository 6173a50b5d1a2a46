"""Listening pages (``/listening/``): watches, streams, actions on found posts, cases."""

from django.urls import path

from listening import views

app_name = "listening"

urlpatterns = [
    path("", views.watch_list_view, name="index"),
    path("new/", views.watch_edit_view, name="watch_new"),
    path("<int:pk>/", views.stream_view, name="stream"),
    path("<int:pk>/edit/", views.watch_edit_view, name="watch_edit"),
    path("<int:pk>/follow/", views.watch_follow_view, name="watch_follow"),
    path("<int:pk>/pause/", views.watch_pause_view, name="watch_pause"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge_view, name="alert_acknowledge"),
    path("posts/<int:pk>/inbox/", views.post_to_inbox_view, name="post_inbox"),
    path("posts/<int:pk>/misinformation/", views.post_misinformation_view, name="post_misinfo"),
    path("posts/<int:pk>/correction/", views.post_correction_view, name="post_correction"),
    path("cases/", views.case_list_view, name="cases"),
    path("cases/<int:pk>/", views.case_view, name="case"),
]
