from django.urls import path

from governance.lazy import lazy_view

# Imported on first use: the OpenID Connect and SAML clients are heavy and few
# requests need them.
SSO = "governance.views.sso."

urlpatterns = [
    path("auth/sso/find/", lazy_view(SSO + "sso_find_view"), name="sso_find"),
    path("auth/sso/callback/", lazy_view(SSO + "sso_callback_view"), name="sso_callback"),
    path(
        "auth/sso/saml/<int:org_id>/metadata/",
        lazy_view(SSO + "saml_metadata_view"),
        name="saml_metadata",
    ),
    path("auth/sso/saml/<int:org_id>/acs/", lazy_view(SSO + "saml_acs_view"), name="saml_acs"),
    path(
        "auth/sso/saml/<int:org_id>/finish/",
        lazy_view(SSO + "saml_finish_view"),
        name="saml_finish",
    ),
    path("auth/sso/<slug:slug>/start/", lazy_view(SSO + "sso_start_view"), name="sso_start"),
    path("governance/settings/sso/", lazy_view(SSO + "sso_settings_view"), name="sso_settings"),
    path(
        "governance/settings/sso/pending/<int:pk>/",
        lazy_view(SSO + "sso_pending_view"),
        name="sso_pending",
    ),
]
