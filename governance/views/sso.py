"""Single sign-on pages: the login page's provider step, the provider's return, the
waiting page, and the admins' settings page. Each parses, calls one service, renders."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from governance.forms.sso import PendingRoleForm, ProviderForm, SSOFindForm
from governance.models import OIDCPendingMember, OIDCProvider
from governance.selectors.access import get_in_org, request_membership_with_perm, request_user
from governance.selectors.sso import (
    sso_pending_members,
    sso_provider_for_organization,
    sso_provider_for_slug,
    sso_providers_for_email,
)
from governance.services.saml import (
    STASH_MAX_BYTES,
    saml_acs_url,
    saml_begin,
    saml_complete,
    saml_invalid_answer,
    saml_metadata_entity,
    saml_metadata_fetch,
    saml_sp_entity_id,
    saml_sp_metadata,
    saml_stash,
)
from governance.services.sso import (
    ProviderData,
    SSOError,
    SSOOutcome,
    sso_begin,
    sso_complete,
    sso_discovery_check,
    sso_pending_approve,
    sso_pending_dismiss,
    sso_provider_save,
    sso_redirect_uri,
)
from governance.views.auth import AUTH_PAGE_CONTEXT, _next_url, _with_next, login_page

# Remembers the organization of the last single sign-on in this browser, so the login
# page offers its button at once next time. Holds only the public short name.
SSO_ORG_COOKIE = "govsocial_sso_org"
SSO_ORG_COOKIE_SECONDS = 365 * 24 * 3600


def sso_login_context(request: HttpRequest, find_form: SSOFindForm | None = None) -> dict[str, Any]:
    """What the login page shows for single sign-on: the button of the organization
    named by ``?org=`` (or remembered from the last sign-in), else the e-mail step."""
    slug = request.GET.get("org") or request.COOKIES.get(SSO_ORG_COOKIE) or ""
    provider = sso_provider_for_slug(slug) if slug else None
    return {
        "sso_provider": provider,
        "sso_find_form": find_form or SSOFindForm(prefix="sso"),
    }


@require_POST
@csrf_protect
def sso_find_view(request: HttpRequest) -> HttpResponse:
    """The login page's "continue with single sign-on" step: find the provider that
    serves this address, then show its button."""
    form = SSOFindForm(request.POST, prefix="sso")
    if form.is_valid():
        providers = sso_providers_for_email(form.cleaned_data["email"])
        if providers:
            query = {"org": providers[0].organization.slug}
            next_url = _next_url(request)
            if next_url:
                query["next"] = next_url
            return redirect(f"{reverse('governance:login')}?{urlencode(query)}#sso")
        form.add_error(
            "email",
            _(
                "No single sign-on is set up for this address. Log in with your e-mail "
                "address and password instead."
            ),
        )
    return login_page(request, find_form=form, status=400)


@require_GET
@never_cache
def sso_start_view(request: HttpRequest, slug: str) -> HttpResponse:
    provider = sso_provider_for_slug(slug)
    if provider is None:
        raise Http404
    try:
        if provider.protocol == OIDCProvider.Protocol.SAML:
            url = saml_begin(request=request, provider=provider, next_url=_next_url(request))
        else:
            url = sso_begin(request=request, provider=provider, next_url=_next_url(request))
    except SSOError as error:
        return _error_page(request, error, provider, status=503)
    return redirect(url)


@never_cache
def sso_callback_view(request: HttpRequest) -> HttpResponse:
    try:
        outcome = sso_complete(request=request)
    except SSOError as error:
        status = 503 if error.reason == "unreachable" else 400
        return _error_page(request, error, None, status=status)
    return _outcome_response(request, outcome)


def _outcome_response(request: HttpRequest, outcome: SSOOutcome) -> HttpResponse:
    """Where a person the provider vouched for goes next (shared by both protocols)."""
    if outcome.next_step == "waiting":
        return render(
            request,
            "governance/sso/waiting.html",
            {**AUTH_PAGE_CONTEXT, "provider": outcome.provider},
        )
    next_url = outcome.next_url
    if outcome.next_step == "verify":
        response = redirect(_with_next("governance:verify", next_url))
    elif outcome.next_step == "enrol":
        response = redirect(_with_next("governance:enrol", next_url))
    else:
        response = redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
    response.set_cookie(
        SSO_ORG_COOKIE,
        outcome.provider.organization.slug,
        max_age=SSO_ORG_COOKIE_SECONDS,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    return response


def _saml_provider(org_id: int) -> OIDCProvider:
    provider = (
        OIDCProvider.objects.select_related("organization")
        .filter(organization_id=org_id, protocol=OIDCProvider.Protocol.SAML)
        .first()
    )
    if provider is None:
        raise Http404
    return provider


@require_GET
def saml_metadata_view(request: HttpRequest, org_id: int) -> HttpResponse:
    """Our service provider metadata for the organization's identity provider."""
    provider = _saml_provider(org_id)
    try:
        xml = saml_sp_metadata(provider)
    except SSOError as error:
        return _error_page(request, error, provider, status=503)
    return HttpResponse(xml, content_type="application/samlmetadata+xml; charset=utf-8")


@csrf_exempt  # The identity provider posts here; the answer's own checks stand in.
@require_POST
@never_cache
def saml_acs_view(request: HttpRequest, org_id: int) -> HttpResponse:
    """The identity provider's answer arrives by a cross-site POST, without our session
    cookie: keep it, and let the browser bring it to ``finish/`` with its session."""
    provider = _saml_provider(org_id)
    saml_response = request.POST.get("SAMLResponse", "")
    if len(saml_response) > STASH_MAX_BYTES:
        return _error_page(request, saml_invalid_answer("too large"), provider, status=400)
    if not saml_response:
        return _error_page(
            request,
            SSOError("assertion", _("The identity provider sent no sign-in answer.")),
            provider,
            status=400,
        )
    key = saml_stash(saml_response)
    finish = reverse("governance:saml_finish", args=[org_id])
    return redirect(f"{finish}?{urlencode({'key': key})}", permanent=False)


@require_GET
@never_cache
def saml_finish_view(request: HttpRequest, org_id: int) -> HttpResponse:
    provider = _saml_provider(org_id)
    try:
        outcome = saml_complete(request=request, provider=provider, key=request.GET.get("key", ""))
    except SSOError as error:
        status = 503 if error.reason == "unreachable" else 400
        return _error_page(request, error, None, status=status)
    return _outcome_response(request, outcome)


def _error_page(
    request: HttpRequest, error: SSOError, provider: OIDCProvider | None, *, status: int
) -> HttpResponse:
    return render(
        request,
        "governance/sso/error.html",
        {**AUTH_PAGE_CONTEXT, "message": error.message, "provider": provider},
        status=status,
    )


# --- The settings page ---------------------------------------------------------------------


@sensitive_post_parameters("client_secret")
@login_required
@require_http_methods(["GET", "POST"])
def sso_settings_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership_with_perm(request, "org.manage")
    organization = membership.organization
    provider = sso_provider_for_organization(organization)
    form = ProviderForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        organization=organization,
        provider=provider,
    )
    if form.is_valid():
        data = form.provider_data()
        candidate = OIDCProvider(organization=organization, issuer=data.issuer)
        try:
            if data.protocol == OIDCProvider.Protocol.SAML:
                field = "saml_metadata_url"
                _saml_metadata_for(data, provider)
            elif data.enabled:
                field = "issuer"
                sso_discovery_check(candidate)
        except SSOError as error:
            form.add_error(field, error.message)
        else:
            sso_provider_save(
                organization=organization, actor=request_user(request), data=data, request=request
            )
            messages.success(request, _("The single sign-on settings were saved."))
            return redirect("governance:sso_settings")
    pending = list(sso_pending_members(organization))
    sp = provider or OIDCProvider(organization=organization)
    return render(
        request,
        "governance/sso/settings.html",
        {
            "form": form,
            "provider": provider,
            "organization": organization,
            "redirect_uri": sso_redirect_uri(),
            "saml_sp": {
                "entity_id": saml_sp_entity_id(sp),
                "acs": saml_acs_url(sp),
            },
            "login_url": settings.SITE_URL.rstrip("/")
            + reverse("governance:login")
            + "?"
            + urlencode({"org": organization.slug}),
            "pending": [(p, PendingRoleForm(prefix=f"pending-{p.pk}")) for p in pending],
        },
        status=400 if form.errors else 200,
    )


def _saml_metadata_for(data: ProviderData, provider: OIDCProvider | None) -> None:
    """Read (from the address) or take (uploaded) the identity provider's metadata and
    check it names one that can sign people in; ``data`` then holds it. SSOError."""
    if data.saml_metadata_url and not data.saml_metadata_xml:
        data.saml_metadata_xml = saml_metadata_fetch(data.saml_metadata_url)
    xml = data.saml_metadata_xml or (provider.saml_metadata_xml if provider is not None else "")
    data.saml_idp_entity_id = saml_metadata_entity(xml, data.saml_idp_entity_id)


@login_required
@require_POST
def sso_pending_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership_with_perm(request, "org.manage")
    organization = membership.organization
    pending = get_in_org(OIDCPendingMember.objects.select_related("user"), organization, pk=pk)
    if request.POST.get("action") == "dismiss":
        sso_pending_dismiss(
            organization=organization, pending=pending, actor=request_user(request), request=request
        )
        messages.success(request, _("%(email)s was turned down.") % {"email": pending.user.email})
        return redirect(reverse("governance:sso_settings") + "#pending")
    form = PendingRoleForm(request.POST, prefix=f"pending-{pk}")
    if form.is_valid():
        sso_pending_approve(
            organization=organization,
            pending=pending,
            role=form.cleaned_data["role"],
            actor=request_user(request),
            request=request,
        )
        messages.success(request, _("%(email)s is now a member.") % {"email": pending.user.email})
    else:
        messages.error(request, _("Choose a role."))
    return redirect(reverse("governance:sso_settings") + "#pending")
