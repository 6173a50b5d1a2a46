from django.urls import path

from governance.views import overview

urlpatterns = [
    path("governance/", overview.index_view, name="index"),
    path("notifications/", overview.notifications_view, name="notifications"),
    path(
        "notifications/read-all/",
        overview.notifications_read_all_view,
        name="notifications_read_all",
    ),
]
