from django.urls import path

from governance.views import sso

urlpatterns = [
    path("auth/sso/find/", sso.sso_find_view, name="sso_find"),
    path("auth/sso/callback/", sso.sso_callback_view, name="sso_callback"),
    path("auth/sso/saml/<int:org_id>/metadata/", sso.saml_metadata_view, name="saml_metadata"),
    path("auth/sso/saml/<int:org_id>/acs/", sso.saml_acs_view, name="saml_acs"),
    path("auth/sso/saml/<int:org_id>/finish/", sso.saml_finish_view, name="saml_finish"),
    path("auth/sso/<slug:slug>/start/", sso.sso_start_view, name="sso_start"),
    path("governance/settings/sso/", sso.sso_settings_view, name="sso_settings"),
    path(
        "governance/settings/sso/pending/<int:pk>/",
        sso.sso_pending_view,
        name="sso_pending",
    ),
]
