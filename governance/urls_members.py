from django.urls import path

from governance.views import members

urlpatterns = [
    path("governance/settings/", members.settings_view, name="settings"),
    path("me/", members.profile_view, name="profile"),
]
