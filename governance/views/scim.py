"""The SCIM settings page: the organization's SCIM token and its group → role mapping.

A new token is rendered straight into the response to the POST that made it,
never redirected to or kept in the session, so it exists on screen once.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from governance.forms.scim import BaseGroupRoleFormSet, GroupRoleFormSet, ScimSettingsForm
from governance.models import Membership
from governance.selectors.access import request_membership, require_perm
from governance.selectors.access import request_user as _user
from governance.selectors.scim import (
    provisioned_users,
    scim_groups_for_settings,
    scim_settings_for,
    scim_token_in_use,
)
from governance.services.scim import scim_settings_update, scim_token_create, scim_token_revoke


def _admin(request: HttpRequest) -> Membership:
    membership = request_membership(request)
    require_perm(membership, "org.manage")
    return membership


def _scim_url() -> str:
    return f"{settings.SITE_URL.rstrip('/')}/scim/v2/"


def _page(
    request: HttpRequest,
    membership: Membership,
    form: ScimSettingsForm,
    formset: BaseGroupRoleFormSet,
    status: int = 200,
) -> HttpResponse:
    organization = membership.organization
    return render(
        request,
        "governance/scim/settings.html",
        {
            "form": form,
            "formset": formset,
            "token": scim_token_in_use(organization),
            "scim_url": _scim_url(),
            "known_groups": scim_groups_for_settings(organization),
            "provisioned_count": provisioned_users(organization).count(),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def scim_settings_view(request: HttpRequest) -> HttpResponse:
    membership = _admin(request)
    organization = membership.organization
    current = scim_settings_for(organization)
    if request.method != "POST":
        initial = [{"group": name, "role": role} for name, role in current.group_roles.items()]
        return _page(
            request,
            membership,
            ScimSettingsForm(initial={"default_role": current.default_role}),
            GroupRoleFormSet(initial=initial, prefix="map"),  # type: ignore[arg-type]
        )
    form = ScimSettingsForm(request.POST)
    formset: BaseGroupRoleFormSet = GroupRoleFormSet(request.POST, prefix="map")  # type: ignore[assignment]
    if form.is_valid() and formset.is_valid():
        try:
            scim_settings_update(
                organization=organization,
                actor=_user(request),
                group_roles=formset.mapping(),
                default_role=form.cleaned_data["default_role"],
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The role mapping is saved and applied to everyone."))
            return HttpResponseRedirect(reverse("governance:scim_settings"))
    return _page(request, membership, form, formset, status=400)


@login_required
@never_cache
@require_POST
def scim_token_view(request: HttpRequest) -> HttpResponse:
    membership = _admin(request)
    token, raw = scim_token_create(
        organization=membership.organization, actor=_user(request), request=request
    )
    response = render(
        request,
        "governance/scim/token_created.html",
        {"token": token, "raw_token": raw, "scim_url": _scim_url()},
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def scim_token_revoke_view(request: HttpRequest) -> HttpResponse:
    membership = _admin(request)
    if scim_token_revoke(
        organization=membership.organization, actor=_user(request), request=request
    ):
        messages.success(
            request, _("The SCIM token is revoked: your identity provider can no longer use it.")
        )
    return HttpResponseRedirect(reverse("governance:scim_settings"))
