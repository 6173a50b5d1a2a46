from django.urls import path

from governance.views import overview

urlpatterns = [
    path("governance/", overview.index_view, name="index"),
    path("notifications/", overview.notifications_view, name="notifications"),
]
