"""Single sign-on with SAML 2.0: each organization's own identity provider, through
pysaml2 (which checks XML signatures with the ``xmlsec1`` program).

We are a service provider per organization: its entity ID is our metadata address
(``/auth/sso/saml/<org id>/metadata/``), its assertion consumer service the ``acs/``
beside it. The identity provider's metadata is stored on the provider (read from an
address or uploaded), so a sign-in never waits for the network.

What an answer must be to be accepted (pysaml2 checks the first five):

- the assertion signed by a key of the identity provider's metadata (an unsigned
  assertion is refused, even in a signed response);
- for our entity ID (``AudienceRestriction``), sent to our assertion consumer
  service (``Destination``, ``Recipient``);
- an answer to a request this browser started (``InResponseTo`` among the request
  IDs kept in its session; each is used once, and unsolicited answers are refused);
- within ``NotBefore`` … ``NotOnOrAfter``, with ``CLOCK_SKEW_SECONDS`` of leeway;
- not seen before: each assertion ID is remembered until it expires (replay).

The identity provider posts its answer across sites, where a browser does not send
our session cookie (SameSite=Lax); the assertion consumer service therefore keeps
the answer for a moment and sends the browser on to ``finish/`` with a GET, where the
session is there to check it against. After the checks, ``sso_finish_sign_in`` (shared
with OpenID Connect) decides who the person is here.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import OIDCProvider
from governance.services.sso import (
    HTTP_TIMEOUT_SECONDS,
    SSO_PENDING_MAX,
    SSO_PENDING_SECONDS,
    SSOError,
    SSOOutcome,
    _refused,
    sso_finish_sign_in,
)

if TYPE_CHECKING:
    from saml2.config import SPConfig

# pysaml2 is imported where it is used, never at start-up: with the XML schemas it
# loads, it adds about 15 MB to every web worker, and most organizations never use SAML.
# The protocol constants are its own values (saml2.BINDING_HTTP_*, NAMEID_FORMAT_PERSISTENT).
BINDING_HTTP_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
BINDING_HTTP_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
NAMEID_FORMAT_PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"

logger = logging.getLogger(__name__)

SAML_SESSION_KEY = "govsocial_saml_pending"
CLOCK_SKEW_SECONDS = 60
METADATA_MAX_BYTES = 2_000_000
METADATA_REFRESH = timedelta(days=1)
# The largest answer the assertion consumer service keeps (real ones are a few kB).
STASH_MAX_BYTES = 256_000
# How long the assertion consumer service keeps an answer for the browser's next step.
STASH_SECONDS = 120
# Signature and digest algorithms accepted on assertions: SHA-2 only (xmldsig-more,
# xmlenc and xmldsig11 URIs all end like this).
STRONG_ALGORITHM_SUFFIXES = ("sha256", "sha384", "sha512")
# E-mail attributes tried after the configured one, by name or friendly name.
EMAIL_ATTRIBUTES = (
    "email",
    "mail",
    "urn:oid:0.9.2342.19200300.100.1.3",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
)
NAME_ATTRIBUTES = (
    "displayName",
    "urn:oid:2.16.840.1.113730.3.1.241",
    "cn",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
)


def _site() -> str:
    return str(settings.SITE_URL).rstrip("/")


def saml_sp_entity_id(provider: OIDCProvider) -> str:
    """Our entity ID for this organization: also where our metadata is served."""
    return _site() + reverse("governance:saml_metadata", args=[provider.organization_id])


def saml_acs_url(provider: OIDCProvider) -> str:
    return _site() + reverse("governance:saml_acs", args=[provider.organization_id])


def _xmlsec_binary() -> str:
    found = shutil.which("xmlsec1")
    if not found:
        raise SSOError(
            "unreachable",
            _("Single sign-on with SAML is not available on this server right now."),
            detail="the xmlsec1 program is not installed",
        )
    return found


def _metadata_problem() -> SSOError:
    return SSOError(
        "unreachable",
        _(
            "The identity provider's metadata could not be read. Check the address or "
            "the file, then save again."
        ),
    )


def saml_metadata_fetch(url: str) -> str:
    """The identity provider's metadata at ``url``; raises SSOError."""
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT_SECONDS, stream=True)
        response.raise_for_status()
        body = response.raw.read(METADATA_MAX_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        error = _metadata_problem()
        error.detail = type(exc).__name__
        raise error from exc
    if len(body) > METADATA_MAX_BYTES:
        raise _metadata_problem()
    return bytes(body).decode("utf-8", errors="replace")


def saml_metadata_entity(xml: str, entity_id: str = "") -> str:
    """The entity ID of the identity provider described by ``xml`` (the one named
    ``entity_id`` when the file describes several); raises SSOError when there is none
    that can sign people in: a single sign-on address and a signing certificate."""
    from saml2.mdstore import InMemoryMetaData

    metadata = InMemoryMetaData(None, xml)
    try:
        metadata.load()
    except Exception as exc:
        error = _metadata_problem()
        error.detail = f"{type(exc).__name__}: {exc}"[:300]
        raise error from exc
    candidates = [
        eid
        for eid in metadata.keys()  # noqa: SIM118 - iterating it is by index, not by entity
        if metadata.service(eid, "idpsso_descriptor", "single_sign_on_service")
        and (not entity_id or eid == entity_id)
    ]
    if not candidates:
        raise SSOError(
            "unreachable",
            _("The metadata describes no identity provider with that entity ID.")
            if entity_id
            else _("The metadata describes no identity provider."),
        )
    if len(candidates) > 1:
        raise SSOError(
            "unreachable",
            _("The metadata describes several identity providers: enter the entity ID."),
        )
    found = str(candidates[0])
    if not metadata.service(
        found, "idpsso_descriptor", "single_sign_on_service", BINDING_HTTP_REDIRECT
    ):
        raise SSOError(
            "unreachable",
            _("The identity provider has no single sign-on address for redirects (HTTP-Redirect)."),
        )
    if not metadata.certs(found, "idpsso", "signing"):
        raise SSOError("unreachable", _("The metadata has no signing certificate."))
    return found


def _config(provider: OIDCProvider) -> SPConfig:
    from saml2.config import SPConfig

    config = SPConfig()
    config.load(
        {
            "entityid": saml_sp_entity_id(provider),
            "xmlsec_binary": _xmlsec_binary(),
            "metadata": {"inline": [provider.saml_metadata_xml]}
            if provider.saml_metadata_xml
            else {},
            "accepted_time_diff": CLOCK_SKEW_SECONDS,
            "allow_unknown_attributes": True,
            "service": {
                "sp": {
                    "name": provider.organization.name,
                    "endpoints": {
                        "assertion_consumer_service": [(saml_acs_url(provider), BINDING_HTTP_POST)]
                    },
                    "allow_unsolicited": False,
                    "want_assertions_signed": True,
                    "want_response_signed": False,
                    "authn_requests_signed": False,
                    "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                    "name_id_format_allow_create": True,
                }
            },
        }
    )
    return config


def saml_sp_metadata(provider: OIDCProvider) -> str:
    """Our service provider metadata for this organization, for its identity provider."""
    from saml2.metadata import entity_descriptor

    return str(entity_descriptor(_config(provider)))


# --- Starting a sign-in ------------------------------------------------------------------


def _refresh_metadata(provider: OIDCProvider) -> None:
    """Read metadata given by address again once it is a day old (the identity provider
    may have rotated its certificate). On any failure the stored copy stays in use."""
    if not provider.saml_metadata_url:
        return
    fetched = provider.saml_metadata_fetched_at
    if fetched is not None and timezone.now() - fetched < METADATA_REFRESH:
        return
    try:
        xml = saml_metadata_fetch(provider.saml_metadata_url)
        saml_metadata_entity(xml, provider.saml_idp_entity_id)
    except SSOError as error:
        logger.warning(
            "SAML metadata of organization %s not refreshed: %s",
            provider.organization_id,
            error.detail or error.reason,
        )
        xml = ""
    now = timezone.now()
    fields: dict[str, Any] = {"saml_metadata_fetched_at": now}
    if xml:
        fields["saml_metadata_xml"] = xml
        provider.saml_metadata_xml = xml
    provider.saml_metadata_fetched_at = now
    OIDCProvider.objects.filter(pk=provider.pk).update(**fields)


def saml_begin(*, request: HttpRequest, provider: OIDCProvider, next_url: str = "") -> str:
    """The identity provider's address with our AuthnRequest (HTTP-Redirect); the
    request's ID waits in this browser's session for the answer."""
    if not provider.enabled or not provider.saml_metadata_xml:
        raise SSOError("disabled", _("Single sign-on is turned off for this organization."))
    _refresh_metadata(provider)
    try:
        from saml2.client import Saml2Client

        client = Saml2Client(_config(provider))
        request_id, info = client.prepare_for_authenticate(
            entityid=provider.saml_idp_entity_id,
            binding=BINDING_HTTP_REDIRECT,
            relay_state="",
        )
    except SSOError:
        raise
    except Exception as exc:
        raise SSOError(
            "unreachable",
            _("%(provider)s cannot be reached right now. Try again in a moment.")
            % {"provider": provider.display_name},
            detail=f"{type(exc).__name__}: {exc}"[:300],
        ) from exc
    location = dict(info["headers"])["Location"]
    now = time.time()
    pending: dict[str, Any] = {
        rid: data
        for rid, data in dict(request.session.get(SAML_SESSION_KEY) or {}).items()
        if isinstance(data, dict) and data.get("at", 0) > now - SSO_PENDING_SECONDS
    }
    while len(pending) >= SSO_PENDING_MAX:
        pending.pop(min(pending, key=lambda rid: pending[rid]["at"]))
    pending[str(request_id)] = {"provider": provider.pk, "next": next_url, "at": now}
    request.session[SAML_SESSION_KEY] = pending
    return str(location)


# --- Finishing a sign-in -----------------------------------------------------------------


def saml_stash(saml_response: str) -> str:
    """Keep the posted answer for the browser's next request; the key to it."""
    key = secrets.token_urlsafe(24)
    cache.set(f"saml:stash:{key}", saml_response, STASH_SECONDS)
    return key


def _unstash(key: str) -> str:
    if not key or len(key) > 64:
        return ""
    value = cache.get(f"saml:stash:{key}")
    cache.delete(f"saml:stash:{key}")
    return value if isinstance(value, str) else ""


def saml_invalid_answer(detail: str) -> SSOError:
    return SSOError(
        "assertion",
        _(
            "The sign-in could not be verified: the identity provider's answer was not "
            "valid, has expired, or was changed on the way. Nothing was changed here. "
            "Try again; if it happens again, tell your administrator."
        ),
        detail=detail[:300],
    )


def _weak_signature(assertion: Any) -> str:
    """The assertion's signature or digest algorithm when it is not one of SHA-2's
    ("" when it is): xmlsec1 still verifies SHA-1 and MD5 signatures."""
    signature = getattr(assertion, "signature", None)
    signed_info = getattr(signature, "signed_info", None)
    if signed_info is None:
        return "(none)"
    algorithms = [str(signed_info.signature_method.algorithm or "")]
    algorithms += [str(ref.digest_method.algorithm or "") for ref in signed_info.reference or []]
    for algorithm in algorithms:
        if not algorithm.endswith(STRONG_ALGORITHM_SUFFIXES):
            return algorithm
    return ""


def _attributes(assertion: Any) -> dict[str, list[str]]:
    """Attribute values by name and by friendly name."""
    found: dict[str, list[str]] = {}
    for statement in assertion.attribute_statement or []:
        for attribute in statement.attribute or []:
            values = [str(v.text).strip() for v in attribute.attribute_value or [] if v.text]
            for name in (attribute.name, attribute.friendly_name):
                if name:
                    found.setdefault(str(name), []).extend(values)
    return found


def _first(attributes: dict[str, list[str]], names: tuple[str, ...]) -> str:
    for name in names:
        if name and attributes.get(name):
            return attributes[name][0]
    return ""


def _remember_assertion(provider: OIDCProvider, assertion: Any) -> bool:
    """True the first time this assertion is seen; False for a replay."""
    expires = time.time() + SSO_PENDING_SECONDS
    conditions = assertion.conditions
    if conditions is not None and conditions.not_on_or_after:
        try:
            moment = datetime.strptime(conditions.not_on_or_after[:19], "%Y-%m-%dT%H:%M:%S")
            expires = moment.replace(tzinfo=UTC).timestamp()
        except ValueError:
            pass
    timeout = max(60, int(expires - time.time()) + CLOCK_SKEW_SECONDS)
    return bool(cache.add(f"saml:seen:{provider.pk}:{assertion.id}", 1, timeout))


def saml_complete(*, request: HttpRequest, provider: OIDCProvider, key: str) -> SSOOutcome:
    """Check the answer kept under ``key`` and sign the person in. Raises SSOError
    (audited as ``sso.login_refused``) for anything that is not a valid sign-in."""
    saml_response = _unstash(key)
    all_pending: dict[str, Any] = dict(request.session.get(SAML_SESSION_KEY) or {})
    now = time.time()
    outstanding = {
        rid: data.get("next", "")
        for rid, data in all_pending.items()
        if isinstance(data, dict)
        and data.get("provider") == provider.pk
        and data.get("at", 0) > now - SSO_PENDING_SECONDS
    }
    if not saml_response or not outstanding:
        raise _refused(
            request=request,
            provider=provider,
            error=SSOError(
                "state",
                _(
                    "This sign-in link is not valid any more (it was used already, has "
                    "expired, or was started in another browser). Start again from the "
                    "login page."
                ),
                detail="no answer kept" if not saml_response else "no request outstanding",
            ),
        )
    try:
        from saml2.client import Saml2Client

        client = Saml2Client(_config(provider))
        try:
            response = client.parse_authn_request_response(
                saml_response, BINDING_HTTP_POST, outstanding=outstanding
            )
        except SSOError:
            raise
        except Exception as exc:
            raise saml_invalid_answer(f"{type(exc).__name__}: {exc}") from exc
        if response is None:
            raise saml_invalid_answer("no response")
        destination = getattr(getattr(response, "response", None), "destination", None)
        if destination and destination != saml_acs_url(provider):
            # pysaml2 stops reading such an answer (no assertion); say why.
            raise saml_invalid_answer(
                f"Destination {destination!r} is not our assertion consumer service"
            )
        if response.assertion is None:
            raise saml_invalid_answer("no assertion")
        if response.issuer() != provider.saml_idp_entity_id:
            raise saml_invalid_answer(f"issuer {response.issuer()!r}")
        weak = _weak_signature(response.assertion)
        if weak:
            raise saml_invalid_answer(f"weak signature algorithm {weak}")
        request_id = str(response.in_response_to or "")
        if request_id not in outstanding:
            raise saml_invalid_answer("InResponseTo names no request of this browser")
        all_pending.pop(request_id, None)
        request.session[SAML_SESSION_KEY] = all_pending
        assertion = response.assertion
        if not _remember_assertion(provider, assertion):
            raise SSOError(
                "replay",
                _("This sign-in answer was used already. Start again from the login page."),
                detail=f"assertion {assertion.id}",
            )
        claims = _claims(provider, response, assertion)
        if not claims["sub"]:
            raise saml_invalid_answer("no NameID")
    except SSOError as error:
        raise _refused(request=request, provider=provider, error=error) from error
    return sso_finish_sign_in(
        request=request, provider=provider, claims=claims, next_url=outstanding[request_id]
    )


def _claims(provider: OIDCProvider, response: Any, assertion: Any) -> dict[str, Any]:
    """The assertion in the words ``sso_finish_sign_in`` reads (OpenID Connect's)."""
    attributes = _attributes(assertion)
    name_id = response.name_id
    subject = str(name_id.text or "").strip() if name_id is not None else ""
    email = _first(attributes, (provider.saml_email_attribute, *EMAIL_ATTRIBUTES))
    if not email and name_id is not None and str(name_id.format or "").endswith("emailAddress"):
        email = subject
    contexts = [str(ref) for ref, _authorities, _instant in response.authn_info() if ref]
    claims: dict[str, Any] = {
        "sub": subject,
        "email": email,
        "name": _first(attributes, NAME_ATTRIBUTES),
        provider.groups_claim: attributes.get(provider.groups_claim, []),
    }
    if contexts:
        claims["acr"] = contexts[0]
    return claims
