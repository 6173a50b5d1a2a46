from django.urls import path

from governance.views import sso

urlpatterns = [
    path("auth/sso/find/", sso.sso_find_view, name="sso_find"),
    path("auth/sso/callback/", sso.sso_callback_view, name="sso_callback"),
    path("auth/sso/<slug:slug>/start/", sso.sso_start_view, name="sso_start"),
    path("governance/settings/sso/", sso.sso_settings_view, name="sso_settings"),
    path(
        "governance/settings/sso/pending/<int:pk>/",
        sso.sso_pending_view,
        name="sso_pending",
    ),
]
