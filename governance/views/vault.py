"""Credential vault pages. A revealed value exists only in the one response that shows
it: never in a URL, the session, a message or a log; the page is not cached and
clears itself after a minute."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from governance.forms.registry import RevealForm, VaultSecretForm
from governance.models import Membership, VaultSecret
from governance.selectors.access import has_perm, request_membership, require_perm
from governance.selectors.access import request_user as _actor
from governance.selectors.registry import local_today
from governance.selectors.vault import (
    vault_reveal_history,
    vault_secret_get,
    vault_secret_rotation_due,
    vault_secrets_for_org,
)
from governance.services.vault import (
    RevealOutcome,
    vault_secret_create,
    vault_secret_delete,
    vault_secret_reveal,
    vault_secret_update,
)
from governance.views.registry import attach_service_errors

# How long a revealed value stays on screen before the page's script clears it.
REVEAL_VISIBLE_SECONDS = 60


def _secret_for(request: HttpRequest, pk: int, perm: str) -> tuple[Membership, VaultSecret]:
    membership = request_membership(request)
    # The lookup comes first: another organization's secret is a 404 whatever the role.
    secret = vault_secret_get(membership.organization, pk)
    require_perm(membership, perm)
    return membership, secret


@login_required
def vault_list_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "vault.view")
    today = local_today(membership.organization)
    secrets = list(vault_secrets_for_org(membership.organization))
    return render(
        request,
        "governance/vault/list.html",
        {
            "rows": [
                {"secret": secret, "rotation_due": vault_secret_rotation_due(secret, today)}
                for secret in secrets
            ],
            "can_manage": has_perm(membership, "vault.manage"),
            "can_reveal": has_perm(membership, "vault.reveal"),
        },
    )


@sensitive_post_parameters("value")
@login_required
def vault_create_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "vault.manage")
    form = VaultSecretForm(
        request.POST if request.method == "POST" else None,
        organization=membership.organization,
        initial={"registry_entry": request.GET.get("entry")} if "entry" in request.GET else None,
    )
    if form.is_valid():
        try:
            secret = vault_secret_create(
                organization=membership.organization,
                actor=_actor(request),
                data=form.to_data(),
                value=form.cleaned_data["value"],
                request=request,
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("Stored %(name)s in the vault.") % {"name": secret.name})
            return redirect("governance:vault_detail", pk=secret.pk)
    return render(request, "governance/vault/form.html", {"form": form, "secret": None})


@login_required
def vault_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership, secret = _secret_for(request, pk, "vault.view")
    return render(
        request,
        "governance/vault/detail.html",
        {
            "secret": secret,
            "rotation_due": vault_secret_rotation_due(secret, local_today(secret.organization)),
            "history": list(vault_reveal_history(secret)),
            "can_manage": has_perm(membership, "vault.manage"),
            "can_reveal": has_perm(membership, "vault.reveal"),
        },
    )


@sensitive_post_parameters("value")
@login_required
def vault_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership, secret = _secret_for(request, pk, "vault.manage")
    form = VaultSecretForm(
        request.POST if request.method == "POST" else None,
        organization=membership.organization,
        secret=secret,
    )
    if form.is_valid():
        try:
            vault_secret_update(
                secret=secret,
                actor=_actor(request),
                data=form.to_data(),
                new_value=form.cleaned_data["value"],
                request=request,
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            if form.cleaned_data["value"]:
                messages.success(request, _("Stored the new secret. The old one is gone."))
            else:
                messages.success(request, _("Saved %(name)s.") % {"name": secret.name})
            return redirect("governance:vault_detail", pk=secret.pk)
    return render(request, "governance/vault/form.html", {"form": form, "secret": secret})


@login_required
def vault_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    _membership, secret = _secret_for(request, pk, "vault.manage")
    if request.method == "POST":
        name = secret.name
        vault_secret_delete(secret=secret, actor=_actor(request), request=request)
        messages.success(request, _("Deleted %(name)s from the vault.") % {"name": name})
        return redirect("governance:vault")
    return render(request, "governance/vault/delete.html", {"secret": secret})


def _refusal_message(outcome: RevealOutcome) -> tuple[str, str]:
    """(field, message) for a refused reveal."""
    if outcome.refused == "reason_required":
        return "reason", _("Say why you need the secret.")
    if outcome.refused == "throttled":
        return "code", ngettext(
            "Too many wrong codes. Wait %(seconds)d second, then try again.",
            "Too many wrong codes. Wait %(seconds)d seconds, then try again.",
            outcome.wait_seconds,
        ) % {"seconds": outcome.wait_seconds}
    if outcome.refused == "wrong_code":
        return "code", _(
            "That code is not right. Enter the newest code from your authenticator app."
        )
    return "code", _("Enter the code your authenticator app shows now.")


@sensitive_post_parameters("code")
@never_cache
@login_required
@sensitive_variables("outcome", "response")
def vault_reveal_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership, secret = _secret_for(request, pk, "vault.reveal")
    form = RevealForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        outcome = vault_secret_reveal(
            secret=secret,
            membership=membership,
            reason=form.cleaned_data["reason"],
            otp_code=form.cleaned_data.get("code", ""),
            request=request,
        )
        if outcome.ok:
            response = render(
                request,
                "governance/vault/revealed.html",
                {
                    "secret": secret,
                    "value": outcome.value,
                    "lines": (outcome.value or "").splitlines(),
                    "seconds": REVEAL_VISIBLE_SECONDS,
                },
            )
            # never_cache already says no-store; say it alone too, for proxies that
            # read only the first directive.
            response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
            response["Pragma"] = "no-cache"
            return response
        field, message = _refusal_message(outcome)
        form.add_error(field, message)
    return render(
        request,
        "governance/vault/reveal.html",
        {
            "secret": secret,
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )
