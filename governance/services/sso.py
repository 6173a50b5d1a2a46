"""Single sign-on with OpenID Connect: each organization's own identity provider.

The flow is the authorization code flow with PKCE (S256), a ``state`` and a ``nonce``
per attempt (kept in the session, used once), the provider's endpoints read from
its discovery document, and the ID token's signature checked against the
provider's published keys (JWKS) with Authlib. The redirect address is one fixed
URL built from ``SITE_URL``, never from the request, so it matches the address
registered at the provider exactly.

After the provider vouches for a person, ``_sign_in`` decides who they are here:
the identity already linked to the provider's ``sub``; else the member with that
e-mail address (linked now); else a new person, made a member just in time with
the role their groups map to, or left waiting for an administrator. Every change
it makes is audited with ``"source": "sso"``.

Where the provider asserts multi-factor authentication (``amr`` or ``acr``), the
session counts as verified for django-otp through a ``ProviderMFADevice``; without
it the person proves our own second factor like after a password.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import django_otp
import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.django_client import DjangoIntegration, DjangoOAuth2App
from django.conf import settings
from django.contrib.auth import login
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from joserfc.errors import JoseError

from governance.middleware import SESSION_ORG_KEY, second_factor_required
from governance.models import (
    Membership,
    OIDCIdentity,
    OIDCPendingMember,
    OIDCProvider,
    Organization,
    ProviderMFADevice,
    Role,
    User,
)
from governance.selectors.sso import sso_organization_admins
from governance.services.audit import audit_record
from governance.services.auth import _mark_verified, _record_login, normalize_email
from governance.services.members import _refuse_losing_last_admin, _tell_providers_of_new_role
from governance.services.notifications import notification_send
from governance.services.role_mapping import groups_from_claim, role_for_groups

logger = logging.getLogger(__name__)

# Pending sign-ins of this browser, by state: at most a few (several tabs), each
# usable once and for a limited time.
SSO_SESSION_KEY = "govsocial_sso_pending"
SSO_PENDING_MAX = 5
SSO_PENDING_SECONDS = 600
SCOPES = "openid email profile groups"
HTTP_TIMEOUT_SECONDS = 10
METADATA_CACHE_SECONDS = 3600
# RFC 8176 methods that are a second factor or stronger on their own account.
MFA_AMR_VALUES = frozenset(
    {"mfa", "mca", "otp", "hwk", "sc", "sms", "tel", "fpt", "face", "iris", "retina", "vbm"}
)
# SAML authentication contexts (AuthnContextClassRef) that always mean multi-factor.
SAML_MFA_CONTEXTS = frozenset(
    {
        "https://refeds.org/profile/mfa",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:MultiFactor",
        "http://schemas.microsoft.com/claims/multipleauthn",
    }
)
PENDING_NOTICE_KIND = "sso.member_pending"
AUDIT_SOURCE = "sso"

Reason = Literal[
    "state",
    "provider_error",
    "issuer",
    "unreachable",
    "token",
    "no_email",
    "email_unverified",
    "domain",
    "account_elsewhere",
    "inactive",
    "deactivated",
    "disabled",
    "conflict",
    "assertion",
    "replay",
]


class SSOError(Exception):
    """A sign-in the provider or we refused; ``message`` is for the person."""

    def __init__(self, reason: Reason, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.detail = detail


def sso_redirect_uri() -> str:
    """The one redirect address to register at every provider."""
    return settings.SITE_URL.rstrip("/") + reverse("governance:sso_callback")


def sso_insecure_allowed() -> bool:
    """Whether http:// provider addresses are allowed (test machines only)."""
    return bool(getattr(settings, "SSO_ALLOW_INSECURE_ISSUERS", False))


def sso_issuer_problem(issuer: str) -> str:
    """Why this issuer address cannot be used ("" when it can)."""
    parts = urlsplit(issuer)
    if parts.scheme != "https" and not (parts.scheme == "http" and sso_insecure_allowed()):
        return _("The issuer address must start with https://.")
    if not parts.netloc or parts.query or parts.fragment:
        return _("Enter the issuer address without a query or fragment.")
    return ""


def _cache_key(kind: str, url: str) -> str:
    return f"sso:{kind}:{hashlib.sha256(url.encode()).hexdigest()[:32]}"


class ProviderClient(DjangoOAuth2App):
    """Authlib's client for one provider, reading discovery and keys through the cache.

    Discovery is checked once per fetch: the document must name exactly the issuer
    configured (OpenID Connect Discovery 1.0, section 4.3), and the ID token's
    algorithms never include "none".
    """

    server_metadata: dict[str, Any]

    def __init__(self, provider: OIDCProvider) -> None:
        self.provider = provider
        super().__init__(
            DjangoIntegration(f"org{provider.organization_id}"),
            name=f"org{provider.organization_id}",
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=provider.discovery_url,
            client_kwargs={
                "scope": SCOPES,
                "code_challenge_method": "S256",
                "token_endpoint_auth_method": "client_secret_basic",
                "default_timeout": HTTP_TIMEOUT_SECONDS,
            },
        )

    def load_server_metadata(self) -> dict[str, Any]:
        if "_loaded_at" in self.server_metadata:
            return dict(self.server_metadata)
        key = _cache_key("metadata", self.provider.discovery_url)
        metadata = cache.get(key)
        if not isinstance(metadata, dict):
            metadata = dict(super().load_server_metadata())
            expected = self.provider.issuer.rstrip("/")
            if str(metadata.get("issuer", "")).rstrip("/") != expected:
                self.server_metadata = {}
                raise SSOError(
                    "issuer",
                    _("The provider's discovery document names another issuer."),
                    detail=f"expected {expected!r}, got {metadata.get('issuer')!r}",
                )
            algs = [
                str(alg)
                for alg in metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
                if str(alg).lower() != "none"
            ]
            metadata["id_token_signing_alg_values_supported"] = algs or ["RS256"]
            metadata.pop("jwks", None)
            metadata["_loaded_at"] = time.time()
            cache.set(key, metadata, METADATA_CACHE_SECONDS)
        self.server_metadata = dict(metadata)
        return dict(self.server_metadata)

    def fetch_jwk_set(self, force: bool = False) -> Any:
        metadata = self.load_server_metadata()
        uri = str(metadata.get("jwks_uri", ""))
        key = _cache_key("jwks", uri)
        if not force:
            cached = cache.get(key)
            if cached:
                return cached
        # A new key id (the provider rotated its keys) fetches again: Authlib asks with
        # force=True when no known key matches.
        self.server_metadata.pop("jwks", None)
        jwk_set = super().fetch_jwk_set(force=True)
        cache.set(key, jwk_set, METADATA_CACHE_SECONDS)
        return jwk_set


def sso_discovery_check(provider: OIDCProvider) -> dict[str, Any]:
    """Read the provider's discovery document now (not from the cache); raises SSOError."""
    cache.delete(_cache_key("metadata", provider.discovery_url))
    try:
        metadata = ProviderClient(provider).load_server_metadata()
    except SSOError:
        raise
    except (requests.RequestException, ValueError, AuthlibBaseError) as exc:
        raise SSOError(
            "unreachable",
            _("The provider's discovery document could not be read at %(url)s.")
            % {"url": provider.discovery_url},
            detail=type(exc).__name__,
        ) from exc
    for needed in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not metadata.get(needed):
            raise SSOError(
                "unreachable",
                _("The provider's discovery document has no %(field)s.") % {"field": needed},
            )
    return metadata


# --- Starting a sign-in ------------------------------------------------------------------


def sso_begin(
    *, request: HttpRequest, provider: OIDCProvider, login_hint: str = "", next_url: str = ""
) -> str:
    """The provider's authorization address for a new sign-in attempt; the attempt's
    state, nonce and PKCE verifier wait in this browser's session."""
    if not provider.enabled:
        raise SSOError("disabled", _("Single sign-on is turned off for this organization."))
    client = ProviderClient(provider)
    extra: dict[str, str] = {}
    if login_hint:
        extra["login_hint"] = login_hint
    try:
        result = client.create_authorization_url(redirect_uri=sso_redirect_uri(), **extra)
    except SSOError:
        raise
    except (requests.RequestException, ValueError, RuntimeError, AuthlibBaseError) as exc:
        raise SSOError(
            "unreachable",
            _("%(provider)s cannot be reached right now. Try again in a moment.")
            % {"provider": provider.display_name},
            detail=type(exc).__name__,
        ) from exc
    pending: dict[str, Any] = dict(request.session.get(SSO_SESSION_KEY) or {})
    now = time.time()
    pending = {
        state: data
        for state, data in pending.items()
        if isinstance(data, dict) and data.get("at", 0) > now - SSO_PENDING_SECONDS
    }
    while len(pending) >= SSO_PENDING_MAX:
        pending.pop(min(pending, key=lambda state: pending[state]["at"]))
    pending[result["state"]] = {
        "provider": provider.pk,
        "nonce": result["nonce"],
        "code_verifier": result["code_verifier"],
        "next": next_url,
        "at": now,
    }
    request.session[SSO_SESSION_KEY] = pending
    return str(result["url"])


# --- Finishing a sign-in -----------------------------------------------------------------

NextStep = Literal["done", "verify", "enrol", "waiting"]


@dataclass(frozen=True)
class SSOOutcome:
    next_step: NextStep
    provider: OIDCProvider
    user: User
    next_url: str = ""
    changes: list[str] = field(default_factory=list)


def _take_pending(request: HttpRequest, state: str) -> dict[str, Any] | None:
    pending: dict[str, Any] = dict(request.session.get(SSO_SESSION_KEY) or {})
    data = pending.pop(state, None) if state else None
    request.session[SSO_SESSION_KEY] = pending
    if not isinstance(data, dict) or data.get("at", 0) <= time.time() - SSO_PENDING_SECONDS:
        return None
    return data


def _refused(
    *,
    request: HttpRequest,
    provider: OIDCProvider | None,
    error: SSOError,
    email: str = "",
) -> SSOError:
    new: dict[str, Any] = {"reason": error.reason, "source": AUDIT_SOURCE}
    if provider is not None:
        new["provider"] = provider.display_name
    if email:
        new["email"] = email
    if error.detail:
        new["detail"] = error.detail[:300]
    audit_record(
        action="sso.login_refused",
        organization=provider.organization if provider is not None else None,
        new=new,
        request=request,
        actor_label="anonymous",
    )
    return error


def _validated_claims(provider: OIDCProvider, pending: dict[str, Any], code: str) -> dict[str, Any]:
    client = ProviderClient(provider)
    try:
        token = client.fetch_access_token(
            redirect_uri=sso_redirect_uri(),
            code=code,
            code_verifier=pending["code_verifier"],
        )
        if not isinstance(token, dict) or not token.get("id_token"):
            raise SSOError("token", _("The provider sent no ID token."))
        userinfo = client.parse_id_token(token, nonce=pending["nonce"], leeway=60)
    except SSOError:
        raise
    except (JoseError, AuthlibBaseError, ValueError, KeyError, TypeError) as exc:
        raise SSOError(
            "token",
            _(
                "The sign-in could not be verified: the provider's answer was not valid "
                "or was changed on the way. Nothing was changed here. Try again; if it "
                "happens again, tell your administrator."
            ),
            detail=f"{type(exc).__name__}: {exc}"[:300],
        ) from exc
    except requests.RequestException as exc:
        raise SSOError(
            "unreachable",
            _("%(provider)s cannot be reached right now. Try again in a moment.")
            % {"provider": provider.display_name},
            detail=type(exc).__name__,
        ) from exc
    claims = dict(userinfo)
    if (not claims.get("email") or provider.groups_claim not in claims) and token.get(
        "access_token"
    ):
        claims = _with_userinfo(client, token, claims)
    return claims


def _with_userinfo(
    client: ProviderClient, token: dict[str, Any], claims: dict[str, Any]
) -> dict[str, Any]:
    """Claims the ID token lacks (e-mail, groups), from the userinfo endpoint when the
    provider has one. Its ``sub`` must be the ID token's; how the person signed in
    (``amr``, ``acr``) is only ever read from the signed ID token."""
    endpoint = client.load_server_metadata().get("userinfo_endpoint")
    if not endpoint:
        return claims
    try:
        response = client.get(str(endpoint), token=token)
        response.raise_for_status()
        info = response.json()
    except (requests.RequestException, ValueError, AuthlibBaseError):
        return claims
    if not isinstance(info, dict) or info.get("sub") != claims.get("sub"):
        return claims
    merged = dict(claims)
    for name in ("email", "email_verified", "name", client.provider.groups_claim):
        if name not in merged and name in info:
            merged[name] = info[name]
    return merged


def mfa_asserted(provider: OIDCProvider, claims: dict[str, Any]) -> str:
    """How the provider says the person proved a second factor ("" when it does not)."""
    if not provider.trust_provider_mfa:
        return ""
    amr = claims.get("amr")
    methods = [str(value) for value in amr] if isinstance(amr, list) else []
    strong = sorted(MFA_AMR_VALUES.intersection(methods))
    if strong:
        return "amr: " + ", ".join(strong)
    acr = str(claims.get("acr") or "")
    if acr and acr in (provider.mfa_acr_values or []):
        return f"acr: {acr}"
    if acr and provider.protocol == OIDCProvider.Protocol.SAML and acr in SAML_MFA_CONTEXTS:
        return f"AuthnContextClassRef: {acr}"
    return ""


def sso_complete(*, request: HttpRequest) -> SSOOutcome:
    """Finish the sign-in the provider sent the browser back from. Raises SSOError
    (audited as ``sso.login_refused``) for anything that is not a valid sign-in."""
    params = request.GET
    state = params.get("state", "")
    pending = _take_pending(request, state)
    if pending is None:
        raise _refused(
            request=request,
            provider=None,
            error=SSOError(
                "state",
                _(
                    "This sign-in link is not valid any more (it was used already, has "
                    "expired, or was started in another browser). Start again from the "
                    "login page."
                ),
            ),
        )
    provider = (
        OIDCProvider.objects.select_related("organization")
        .filter(pk=int(pending.get("provider") or 0), enabled=True)
        .first()
    )
    if provider is None:
        raise _refused(
            request=request,
            provider=None,
            error=SSOError("disabled", _("Single sign-on is turned off for this organization.")),
        )
    if params.get("error"):
        raise _refused(
            request=request,
            provider=provider,
            error=SSOError(
                "provider_error",
                _("%(provider)s did not sign you in (%(error)s).")
                % {"provider": provider.display_name, "error": params.get("error", "")[:100]},
                detail=params.get("error_description", "")[:300],
            ),
        )
    try:
        issuer = ProviderClient(provider).load_server_metadata().get("issuer", "")
        # RFC 9207: an answer naming another issuer is a mix-up attack.
        if "iss" in params and params.get("iss") != issuer:
            raise SSOError(
                "issuer",
                _("The answer came from another provider than the one you signed in with."),
            )
        claims = _validated_claims(provider, pending, params.get("code", ""))
    except SSOError as error:
        raise _refused(request=request, provider=provider, error=error) from error
    except (requests.RequestException, ValueError, AuthlibBaseError) as exc:
        raise _refused(
            request=request,
            provider=provider,
            error=SSOError(
                "unreachable",
                _("%(provider)s cannot be reached right now. Try again in a moment.")
                % {"provider": provider.display_name},
                detail=type(exc).__name__,
            ),
        ) from exc
    return sso_finish_sign_in(
        request=request, provider=provider, claims=claims, next_url=str(pending.get("next") or "")
    )


def sso_finish_sign_in(
    *, request: HttpRequest, provider: OIDCProvider, claims: dict[str, Any], next_url: str
) -> SSOOutcome:
    """Who the person the provider vouched for is here, and their session: shared by
    OpenID Connect and SAML 2.0 once the protocol's own checks passed.

    ``claims`` speak OpenID Connect: ``sub`` (the provider's stable identifier),
    ``email``, ``name``, the groups under ``provider.groups_claim``, and ``amr`` /
    ``acr`` for how the person proved who they are. Raises SSOError (audited)."""
    email = normalize_email(str(claims.get("email") or ""))
    try:
        with transaction.atomic():
            user, membership, changes = _sign_in(
                request=request, provider=provider, claims=claims, email=email
            )
    except SSOError as error:
        raise _refused(request=request, provider=provider, error=error, email=email) from error
    except IntegrityError as exc:
        # The same person's first sign-in finishing twice at once: the other one won.
        raise _refused(
            request=request,
            provider=provider,
            error=SSOError(
                "conflict",
                _("You were being signed in twice at the same moment. Start again."),
            ),
            email=email,
        ) from exc
    if membership is None:
        return SSOOutcome("waiting", provider, user, next_url, changes)
    return SSOOutcome(
        _log_in(request=request, provider=provider, user=user, claims=claims),
        provider,
        user,
        next_url,
        changes,
    )


def _sign_in(
    *, request: HttpRequest, provider: OIDCProvider, claims: dict[str, Any], email: str
) -> tuple[User, Membership | None, list[str]]:
    """Who the provider's person is here, with their membership (None: waiting for a role)."""
    organization = provider.organization
    subject = str(claims.get("sub") or "")
    if not email or "@" not in email:
        raise SSOError("no_email", _("The provider did not tell us your e-mail address."))
    if claims.get("email_verified") is False:
        raise SSOError("email_unverified", _("The provider has not verified your e-mail address."))
    domain = email.rpartition("@")[2]
    if domain not in provider.allowed_domains:
        raise SSOError(
            "domain",
            _(
                "Addresses at %(domain)s cannot sign in to %(org)s with single sign-on. "
                "Ask an administrator of %(org)s if this is wrong."
            )
            % {"domain": domain, "org": organization.name},
        )
    groups = groups_from_claim(claims.get(provider.groups_claim))
    mapped = role_for_groups(provider.role_mapping, groups) or provider.default_role or None
    base = {"source": AUDIT_SOURCE, "provider": provider.display_name}
    changes: list[str] = []

    identity = (
        OIDCIdentity.objects.select_for_update()
        .select_related("user")
        .filter(provider=provider, subject=subject)
        .first()
    )
    if identity is not None:
        user = identity.user
    else:
        user = _user_for_new_identity(
            request=request, provider=provider, email=email, claims=claims, changes=changes
        )
        try:
            with transaction.atomic():
                identity = OIDCIdentity.objects.create(
                    provider=provider, user=user, subject=subject, email=email, groups=groups
                )
        except IntegrityError as exc:
            # Another identity of this provider already holds this person.
            raise SSOError(
                "account_elsewhere",
                _(
                    "Your account here is linked to another identity at %(provider)s. "
                    "Ask an administrator of %(org)s for help."
                )
                % {"provider": provider.display_name, "org": organization.name},
            ) from exc
        audit_record(
            action="sso.identity_linked",
            organization=organization,
            actor=user,
            target=user,
            new={**base, "email": email, "subject": subject},
            request=request,
        )
        changes.append("identity_linked")
    if not user.is_active:
        raise SSOError(
            "inactive",
            _("Your account is deactivated. Ask an administrator of %(org)s.")
            % {"org": organization.name},
        )
    identity.email = email
    identity.groups = groups
    identity.last_login_at = timezone.now()
    identity.save(update_fields=["email", "groups", "last_login_at"])

    membership = (
        Membership.objects.select_for_update(of=("self",), no_key=True)
        .filter(organization=organization, user=user)
        .first()
    )
    if membership is not None and not membership.is_active:
        raise SSOError(
            "deactivated",
            _(
                "Your membership of %(org)s was deactivated. Ask an administrator of "
                "%(org)s to reactivate it."
            )
            % {"org": organization.name},
        )
    if membership is None:
        if mapped is None:
            _wait_for_role(request=request, provider=provider, user=user, groups=groups)
            changes.append("pending")
            return user, None, changes
        membership = Membership.objects.create(organization=organization, user=user, role=mapped)
        OIDCPendingMember.objects.filter(organization=organization, user=user).delete()
        audit_record(
            action="sso.member_joined",
            organization=organization,
            actor=user,
            target=membership,
            new={**base, "email": email, "role": mapped, "groups": groups},
            request=request,
        )
        transaction.on_commit(lambda: _tell_providers_of_new_role(membership.pk))
        changes.append("joined")
    elif provider.resync_role and mapped is not None and mapped != membership.role:
        _resync_role(
            request=request, provider=provider, membership=membership, role=mapped, groups=groups
        )
        changes.append("role_synced")
    return user, membership, changes


def _user_for_new_identity(
    *,
    request: HttpRequest,
    provider: OIDCProvider,
    email: str,
    claims: dict[str, Any],
    changes: list[str],
) -> User:
    """The person a first sign-in through ``provider`` is: an existing account with the
    address when it is this organization's member, else a new account.

    An account that belongs to other organizations only is never taken over: a
    provider speaks for its own organization's people, not for anyone whose
    address it can assert.
    """
    organization = provider.organization
    user = User.objects.select_for_update(no_key=True).filter(email__iexact=email).first()
    if user is not None:
        belongs_here = Membership.objects.filter(organization=organization, user=user).exists()
        belongs_elsewhere = (
            Membership.objects.filter(user=user).exclude(organization=organization).exists()
        )
        if user.is_staff or (belongs_elsewhere and not belongs_here):
            raise SSOError(
                "account_elsewhere",
                _(
                    "An account with the address %(email)s already exists here but is not "
                    "a member of %(org)s. Ask an administrator of %(org)s to invite it, "
                    "then sign in with single sign-on again."
                )
                % {"email": email, "org": organization.name},
            )
        return user
    name = str(claims.get("name") or "")[:200]
    user = User.objects.create_user(
        email,
        password=None,
        full_name=name,
        # The language the person's sign-in page was in; the organization's otherwise.
        preferred_language=(
            translation.get_language()
            if translation.get_language() in dict(settings.LANGUAGES)
            else organization.default_language
        ),
        time_zone=organization.time_zone,
    )
    audit_record(
        action="sso.user_created",
        organization=organization,
        actor=user,
        target=user,
        new={"source": AUDIT_SOURCE, "provider": provider.display_name, "email": email},
        request=request,
    )
    changes.append("user_created")
    return user


def _wait_for_role(
    *, request: HttpRequest, provider: OIDCProvider, user: User, groups: list[str]
) -> None:
    organization = provider.organization
    pending, created = OIDCPendingMember.objects.get_or_create(
        organization=organization, user=user, defaults={"groups": groups}
    )
    if not created:
        if pending.groups != groups:
            pending.groups = groups
            pending.save(update_fields=["groups"])
        return
    audit_record(
        action="sso.member_pending",
        organization=organization,
        actor=user,
        target=user,
        new={
            "source": AUDIT_SOURCE,
            "provider": provider.display_name,
            "email": user.email,
            "groups": groups,
        },
        request=request,
    )
    for admin in sso_organization_admins(organization):
        language = (
            admin.user.preferred_language or organization.default_language or settings.LANGUAGE_CODE
        )
        with translation.override(language):
            message = _(
                "%(person)s signed in with %(provider)s and waits for a role in %(org)s."
            ) % {"person": user.email, "provider": provider.display_name, "org": organization.name}
        notification_send(
            user=admin.user,
            organization=organization,
            kind=PENDING_NOTICE_KIND,
            message=message,
            link=reverse("governance:sso_settings") + "#pending",
        )


def _resync_role(
    *,
    request: HttpRequest,
    provider: OIDCProvider,
    membership: Membership,
    role: str,
    groups: list[str],
) -> None:
    """Give the member the role their groups map to now; never the last admin away."""
    base = {"source": AUDIT_SOURCE, "provider": provider.display_name, "groups": groups}
    if role != Role.ADMIN:
        try:
            _refuse_losing_last_admin(membership)
        except ValidationError:
            audit_record(
                action="sso.role_sync_skipped",
                organization=membership.organization,
                actor=membership.user,
                target=membership,
                old={"role": membership.role},
                new={**base, "role": role, "reason": "last active admin"},
                request=request,
            )
            return
    old_role = membership.role
    fields = ["role"]
    if role not in ("editor", "reviewer") and not membership.all_accounts:
        membership.channel_accounts.clear()
        membership.all_accounts = True
        fields.append("all_accounts")
    membership.role = role
    membership.save(update_fields=fields)
    audit_record(
        action="sso.role_synced",
        organization=membership.organization,
        actor=membership.user,
        target=membership,
        old={"role": old_role},
        new={**base, "role": role},
        request=request,
    )
    transaction.on_commit(lambda: _tell_providers_of_new_role(membership.pk))


def _log_in(
    *, request: HttpRequest, provider: OIDCProvider, user: User, claims: dict[str, Any]
) -> NextStep:
    """Start the person's session; where the provider proved a second factor, the
    session is verified at once, else our own second factor follows as usual."""
    with transaction.atomic():
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session[SESSION_ORG_KEY] = provider.organization_id
        organization = provider.organization
        how = mfa_asserted(provider, claims)
        if how:
            device, _created = ProviderMFADevice.objects.get_or_create(
                user=user,
                provider=provider,
                defaults={"name": provider.display_name[:64], "confirmed": True},
            )
            _mark_verified(request, device)
            _record_login(
                request=request,
                user=user,
                second_factor=f"identity provider ({how})",
                organization=organization,
                source=AUDIT_SOURCE,
            )
            return "done"
        if not second_factor_required(user):
            _record_login(
                request=request,
                user=user,
                second_factor="not required",
                organization=organization,
                source=AUDIT_SOURCE,
            )
            return "done"
        next_step: NextStep = "verify" if django_otp.user_has_device(user) else "enrol"
        audit_record(
            action="sso.provider_accepted",
            organization=organization,
            actor=user,
            target=user,
            new={
                "source": AUDIT_SOURCE,
                "provider": provider.display_name,
                "email": user.email,
                "next_step": next_step,
            },
            request=request,
        )
        return next_step


# --- Administration ----------------------------------------------------------------------


PROVIDER_AUDITED_FIELDS = (
    "display_name",
    "issuer",
    "client_id",
    "allowed_domains",
    "groups_claim",
    "role_mapping",
    "default_role",
    "resync_role",
    "trust_provider_mfa",
    "mfa_acr_values",
    "sso_only",
    "enabled",
    "protocol",
    "saml_metadata_url",
    "saml_idp_entity_id",
    "saml_email_attribute",
)


# What the audit log says of the client secret: that it changed, never its value.
SECRET_MARK_OLD = "(stored)"  # noqa: S105
SECRET_MARK_NEW = "(changed)"  # noqa: S105


def _provider_snapshot(provider: OIDCProvider | None) -> dict[str, Any]:
    if provider is None or provider.pk is None:
        return {}
    values = {name: getattr(provider, name) for name in PROVIDER_AUDITED_FIELDS}
    if provider.saml_metadata_xml:
        # The metadata itself is long: the log tells that it changed by its digest.
        values["saml_metadata_sha256"] = hashlib.sha256(
            provider.saml_metadata_xml.encode()
        ).hexdigest()
    values["break_glass_users"] = sorted(provider.break_glass_users.values_list("email", flat=True))
    return values


@dataclass
class ProviderData:
    """What an admin sets on the provider (``client_secret`` empty: keep the stored one)."""

    display_name: str
    issuer: str
    client_id: str
    client_secret: str = ""
    allowed_domains: list[str] = field(default_factory=list)
    groups_claim: str = "groups"
    role_mapping: dict[str, str] = field(default_factory=dict)
    default_role: str = ""
    resync_role: bool = False
    trust_provider_mfa: bool = True
    mfa_acr_values: list[str] = field(default_factory=list)
    sso_only: bool = False
    enabled: bool = True
    break_glass_user_ids: list[int] = field(default_factory=list)
    protocol: str = "oidc"
    saml_metadata_url: str = ""
    saml_metadata_xml: str = ""  # empty: keep the stored metadata
    saml_idp_entity_id: str = ""
    saml_email_attribute: str = "email"


def sso_provider_save(
    *,
    organization: Organization,
    actor: User,
    data: ProviderData,
    request: HttpRequest | None = None,
) -> OIDCProvider:
    """Create or change the organization's provider; audited without the secret."""
    with transaction.atomic():
        provider = (
            OIDCProvider.objects.select_for_update().filter(organization=organization).first()
        )
        created = provider is None
        old = _provider_snapshot(provider)
        if provider is None:
            provider = OIDCProvider(organization=organization)
        secret_changed = bool(data.client_secret) and data.client_secret != provider.client_secret
        for name in PROVIDER_AUDITED_FIELDS:
            setattr(provider, name, getattr(data, name))
        if data.client_secret:
            provider.client_secret = data.client_secret
        if data.saml_metadata_xml:
            provider.saml_metadata_xml = data.saml_metadata_xml
            provider.saml_metadata_fetched_at = timezone.now() if data.saml_metadata_url else None
        provider.updated_at = timezone.now()
        provider.save()
        if not created and old.get("protocol") != provider.protocol:
            # The other protocol names people differently (an OIDC ``sub`` is not a SAML
            # NameID): members are linked again by their e-mail address at their next
            # sign-in, as at the first one.
            provider.identities.all().delete()
        admins = Membership.objects.filter(
            organization=organization, role=Role.ADMIN, is_active=True
        ).values_list("user_id", flat=True)
        provider.break_glass_users.set([pk for pk in data.break_glass_user_ids if pk in admins])
        new = _provider_snapshot(provider)
        changed_old = {k: v for k, v in old.items() if new.get(k) != v}
        changed_new = {k: v for k, v in new.items() if old.get(k) != v}
        if secret_changed:
            # The value never enters the log; only that it changed.
            changed_old["client_secret"] = SECRET_MARK_OLD if not created else ""
            changed_new["client_secret"] = SECRET_MARK_NEW
        if created or changed_new:
            audit_record(
                action="sso.provider_created" if created else "sso.provider_changed",
                organization=organization,
                actor=actor,
                target=provider,
                old=changed_old or None,
                new=changed_new,
                request=request,
            )
        return provider


def sso_pending_approve(
    *,
    organization: Organization,
    pending: OIDCPendingMember,
    role: str,
    actor: User,
    request: HttpRequest | None = None,
) -> Membership:
    """Give a person waiting after their first sign-in a role: they are a member now."""
    if role not in Role.values:
        raise ValueError(f"Unknown role {role!r}")
    with transaction.atomic():
        pending = OIDCPendingMember.objects.select_for_update().get(
            pk=pending.pk, organization=organization
        )
        membership, created = Membership.objects.get_or_create(
            organization=organization, user=pending.user, defaults={"role": role}
        )
        pending.delete()
        if created:
            audit_record(
                action="sso.pending_approved",
                organization=organization,
                actor=actor,
                target=membership,
                new={"source": AUDIT_SOURCE, "email": pending.user.email, "role": role},
                request=request,
            )
            transaction.on_commit(lambda: _tell_providers_of_new_role(membership.pk))
        return membership


def sso_pending_dismiss(
    *,
    organization: Organization,
    pending: OIDCPendingMember,
    actor: User,
    request: HttpRequest | None = None,
) -> None:
    """Turn down a person waiting for a role (they may sign in again and wait again)."""
    with transaction.atomic():
        deleted, _rows = OIDCPendingMember.objects.filter(
            pk=pending.pk, organization=organization
        ).delete()
        if deleted:
            audit_record(
                action="sso.pending_dismissed",
                organization=organization,
                actor=actor,
                target=pending.user,
                new={"source": AUDIT_SOURCE, "email": pending.user.email},
                request=request,
            )
