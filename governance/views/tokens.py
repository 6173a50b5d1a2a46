"""The 'API tokens' page: a person's own personal tokens, made and revoked here.

A new token is rendered straight into the response to the POST that made it,
never redirected to or kept in the session, so it exists on screen once and
nowhere else.
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

from governance.forms.tokens import ApiTokenCreateForm
from governance.models import Membership
from governance.selectors.access import request_membership, require_perm
from governance.selectors.access import request_user as _user
from governance.selectors.tokens import api_token_get_for_membership, api_tokens_for_membership
from governance.services.tokens import api_token_create, api_token_revoke


def _membership(request: HttpRequest) -> Membership:
    membership = request_membership(request)
    require_perm(membership, "tokens.manage")
    return membership


def _list(request: HttpRequest, membership: Membership, form: ApiTokenCreateForm) -> HttpResponse:
    return render(
        request,
        "governance/tokens/list.html",
        {
            "form": form,
            "tokens": api_tokens_for_membership(membership),
            "api_base_url": f"{settings.SITE_URL.rstrip('/')}/api/v1/",
        },
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def api_tokens_view(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    if request.method != "POST":
        return _list(request, membership, ApiTokenCreateForm())
    form = ApiTokenCreateForm(request.POST)
    if not form.is_valid():
        return _list(request, membership, form)
    try:
        token, raw = api_token_create(
            user=_user(request),
            organization=membership.organization,
            name=form.cleaned_data["name"],
            request=request,
        )
    except ValidationError as exc:
        for message in exc.message_dict.get("name", exc.messages):
            form.add_error("name", message)
        return _list(request, membership, form)
    response = render(
        request,
        "governance/tokens/created.html",
        {
            "token": token,
            "raw_token": raw,
            "api_base_url": f"{settings.SITE_URL.rstrip('/')}/api/v1/",
        },
    )
    # never_cache already forbids caching; say it plainly for the one page holding a secret.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    token = api_token_get_for_membership(membership, pk)
    if api_token_revoke(token=token, actor=_user(request), request=request):
        messages.success(
            request,
            _("The token “%(name)s” is revoked. Scripts using it can no longer reach the API.")
            % {"name": token.name},
        )
    else:
        messages.info(
            request, _("The token “%(name)s” was already revoked.") % {"name": token.name}
        )
    return HttpResponseRedirect(reverse("governance:api_tokens"))
