"""The writing guidelines page (admins): the short style guide shown where people write,
hashtag sets, and words the organization avoids. Another organization's item is a 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from governance.models import Membership
from governance.selectors.access import get_in_org, request_membership_with_perm
from publishing.forms_guidelines import GUIDELINE_FORMS
from publishing.models import HashtagSet, StyleGuide, WordRule
from publishing.services.guidelines import Guideline, guideline_delete, guideline_save
from publishing.views.posts import render_page

_MODELS: dict[str, type[Guideline]] = {
    "guide": StyleGuide,
    "hashtags": HashtagSet,
    "word": WordRule,
}


def _item(membership: Membership, kind: str, pk: int) -> Guideline:
    model = _MODELS.get(kind)
    if model is None:
        raise Http404
    item: Guideline = get_in_org(model.objects.all(), membership.organization, pk=pk)  # type: ignore[assignment]
    return item


def _page(
    request: HttpRequest, membership: Membership, forms: dict[str, Any], status: int
) -> HttpResponse:
    org = membership.organization
    return render_page(
        request,
        "publishing/guidelines/page.html",
        {
            "guides": StyleGuide.objects.filter(organization=org).select_related("policy"),
            "hashtag_sets": HashtagSet.objects.filter(organization=org).select_related("campaign"),
            "word_rules": WordRule.objects.filter(organization=org),
            "forms": forms,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def guidelines_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership_with_perm(request, "org.manage")
    org = membership.organization
    kind = request.POST.get("kind", "") if request.method == "POST" else ""
    forms = {
        name: form_class(request.POST if name == kind else None, organization=org)
        for name, form_class in GUIDELINE_FORMS.items()
    }
    if kind in forms:
        form = forms[kind]
        if form.is_valid():
            guideline_save(item=form.save(commit=False), membership=membership, request=request)
            messages.success(request, _("Added."))
            return redirect("publishing:guidelines")
        return _page(request, membership, forms, 400)
    return _page(request, membership, forms, 200)


@login_required
@require_http_methods(["GET", "POST"])
def guideline_edit_view(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    membership = request_membership_with_perm(request, "org.manage")
    item = _item(membership, kind, pk)
    form = GUIDELINE_FORMS[kind](
        request.POST or None, instance=item, organization=membership.organization
    )
    if request.method == "POST" and form.is_valid():
        guideline_save(item=form.save(commit=False), membership=membership, request=request)
        messages.success(request, _("Saved."))
        return redirect("publishing:guidelines")
    return render_page(
        request,
        "publishing/guidelines/edit.html",
        {"form": form, "item": item, "kind": kind},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def guideline_delete_view(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    membership = request_membership_with_perm(request, "org.manage")
    item = _item(membership, kind, pk)
    guideline_delete(item=item, membership=membership, request=request)
    messages.success(request, _("Removed."))
    return redirect("publishing:guidelines")
