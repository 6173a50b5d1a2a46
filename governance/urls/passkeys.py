"""Passkey pages (in the governance namespace) and the WebAuthn ceremony endpoints
(in the ``otp_webauthn`` namespace the library's template tags reverse)."""

from django.urls import path
from django.views.i18n import JavaScriptCatalog

from governance.views import passkeys

urlpatterns = [
    path("me/passkeys/", passkeys.passkeys_view, name="passkeys"),
    path("me/passkeys/<int:pk>/rename/", passkeys.passkey_rename_view, name="passkey_rename"),
    path("me/passkeys/<int:pk>/remove/", passkeys.passkey_remove_view, name="passkey_remove"),
    path("governance/settings/passkeys/", passkeys.passkey_policy_view, name="passkey_policy"),
]

# Under /auth/passkeys/ (govsocial/urls.py): reachable before the second factor.
ceremony_urlpatterns = [
    path(
        "registration/begin/",
        passkeys.BeginRegistrationView.as_view(),
        name="credential-registration-begin",
    ),
    path(
        "registration/complete/",
        passkeys.CompleteRegistrationView.as_view(),
        name="credential-registration-complete",
    ),
    path(
        "authentication/begin/",
        passkeys.BeginAuthenticationView.as_view(),
        name="credential-authentication-begin",
    ),
    path(
        "authentication/complete/",
        passkeys.CompleteAuthenticationView.as_view(),
        name="credential-authentication-complete",
    ),
    # The library's script texts, with GovSocial's translations (locale/*/djangojs.po).
    path(
        "jsi18n/",
        JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]),
        name="js-i18n-catalog",
    ),
]
