"""Short links: the public redirect that counts a click, and the link settings page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from governance.selectors.access import request_membership_with_perm
from publishing.forms_links import LinkSettingsForm
from publishing.services.links import link_settings_for, link_settings_update, short_link_follow
from publishing.views.posts import render_page


def short_link_response(request: HttpRequest, code: str) -> HttpResponse | None:
    """The redirect for a known code (a GET counts one click), else None. Shared by the
    view and ``publishing.middleware.ShortLinkMiddleware``, its fast path."""
    if request.method == "HEAD":
        # Link checkers ask with HEAD: answer, but a HEAD is not a click.
        target = short_link_follow(code, user_agent="", count=False)
    else:
        target = short_link_follow(code, user_agent=request.META.get("HTTP_USER_AGENT", ""))
    if target is None:
        return None
    response = HttpResponseRedirect(target)
    # Every click must reach us to be counted; the redirect is nobody's to keep.
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "HEAD"])
def short_link_view(request: HttpRequest, code: str) -> HttpResponse:
    response = short_link_response(request, code)
    if response is not None:
        return response
    return render(request, "publishing/links/unknown.html", status=404)


@login_required
@require_http_methods(["GET", "POST"])
def link_settings_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership_with_perm(request, "org.manage")
    current = link_settings_for(membership.organization_id)
    form = LinkSettingsForm(request.POST or None, instance_values=current)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            link_settings_update(
                membership=membership,
                tag_utm=form.cleaned_data["tag_utm"],
                shorten=form.cleaned_data["shorten"],
                short_domain=form.cleaned_data["short_domain"],
                request=request,
            )
            messages.success(request, _("The link settings are saved."))
            return redirect("publishing:link_settings")
        status = 400
    return render_page(request, "publishing/links/settings.html", {"form": form}, status=status)
