"""Handover pages: the list of cases, one case with its items, reassigning, refreshing
and signing off. Views parse the form, call one service from
``governance.services.handover`` and render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from governance.forms.handover import OpenCaseForm, ReassignForm, SignOffForm
from governance.models import HandoverCase, HandoverReason, Membership
from governance.selectors.access import has_perm, request_membership, require_perm
from governance.selectors.access import request_user as _user
from governance.selectors.handover import (
    handover_case_get_for_org,
    handover_cases_for_org,
    handover_holder_choices,
    handover_item_groups,
    handover_source_label,
)
from governance.services import handover as services


def _case_for(request: HttpRequest, pk: int, perm: str) -> tuple[Membership, HandoverCase]:
    membership = request_membership(request)
    require_perm(membership, perm)
    # Looked up inside the caller's organization: another organization's case is a 404.
    return membership, handover_case_get_for_org(membership.organization, pk)


def _detail_url(case: HandoverCase) -> str:
    return reverse("governance:handover_detail", args=[case.pk])


@login_required
@require_GET
def handover_list_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "handover.view")
    return _list_page(request, membership)


def _list_page(
    request: HttpRequest, membership: Membership, open_form: OpenCaseForm | None = None
) -> HttpResponse:
    can_manage = has_perm(membership, "handover.manage")
    if can_manage and open_form is None:
        open_form = OpenCaseForm(organization=membership.organization)
    cases = handover_cases_for_org(membership.organization)
    context = {
        "open_cases": [case for case in cases if case.is_open],
        "closed_cases": [case for case in cases if not case.is_open],
        "can_manage": can_manage,
        "open_form": open_form,
    }
    status = 400 if open_form is not None and open_form.errors else 200
    return render(request, "governance/handover/list.html", context, status=status)


@login_required
@require_POST
def handover_open_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "handover.manage")
    form = OpenCaseForm(request.POST, organization=membership.organization)
    if not form.is_valid():
        return _list_page(request, membership, open_form=form)
    case = services.handover_case_open(
        membership=form.cleaned_data["membership"],
        actor=_user(request),
        reason=HandoverReason.MANUAL,
        request=request,
    )
    messages.success(request, _("Handover case opened."))
    return HttpResponseRedirect(_detail_url(case))


def _detail_page(
    request: HttpRequest,
    membership: Membership,
    case: HandoverCase,
    *,
    reassign_form: ReassignForm | None = None,
    error_row: int | None = None,
    sign_off_form: SignOffForm | None = None,
    sign_off_error: str = "",
    status: int = 200,
) -> HttpResponse:
    can_manage = has_perm(membership, "handover.manage") and case.is_open
    bulk_errors: list[str] = []
    row_errors: list[str] = []
    form_errors: list[str] = []
    selected_items: set[str] = set()
    bulk_holder = ""
    if reassign_form is not None:
        form_errors = [str(e) for e in reassign_form.non_field_errors()]
        field_errors = [
            str(e) for name in ("items", "new_holder") for e in reassign_form.errors.get(name, [])
        ]
        if error_row is not None:
            row_errors = field_errors + form_errors
            form_errors = []
        else:
            bulk_errors = field_errors
            selected_items = {str(v) for v in reassign_form["items"].value() or []}
            bulk_holder = str(reassign_form["new_holder"].value() or "")
    context: dict[str, Any] = {
        "case": case,
        "member": case.membership,
        "groups": handover_item_groups(case),
        "incomplete_sources": [handover_source_label(key) for key in case.incomplete_sources],
        "holders": list(handover_holder_choices(case)) if can_manage else [],
        "can_manage": can_manage,
        "can_sign_off": has_perm(membership, "handover.sign_off") and case.is_open,
        "form_errors": form_errors,
        "bulk_errors": bulk_errors,
        "row_errors": row_errors,
        "error_row": error_row,
        "selected_items": selected_items,
        "bulk_holder": bulk_holder,
        "sign_off_form": sign_off_form or SignOffForm(),
        "sign_off_error": sign_off_error,
    }
    return render(request, "governance/handover/detail.html", context, status=status)


@login_required
@require_GET
def handover_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership, case = _case_for(request, pk, "handover.view")
    return _detail_page(request, membership, case)


@login_required
@require_POST
def handover_reassign_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership, case = _case_for(request, pk, "handover.manage")
    error_row: int | None = None
    posted = QueryDict(mutable=True)
    one = request.POST.get("assign_one", "")
    if one.isdigit():
        # A row's own button: that row's select names the new holder.
        error_row = int(one)
        posted.setlist("items", [one])
        posted["new_holder"] = request.POST.get(f"holder_{one}", "")
    else:
        posted.setlist("items", request.POST.getlist("items"))
        posted["new_holder"] = request.POST.get("bulk_holder", "")
    form = ReassignForm(posted, case=case)
    if form.is_valid():
        try:
            moved = services.handover_items_reassign(
                case=case,
                item_ids=[item.pk for item in form.cleaned_data["items"]],
                new_holder=form.cleaned_data["new_holder"],
                actor=_user(request),
                request=request,
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            holder = form.cleaned_data["new_holder"].user
            messages.success(
                request,
                ngettext(
                    "%(count)d item given to %(name)s.",
                    "%(count)d items given to %(name)s.",
                    len(moved),
                )
                % {"count": len(moved), "name": holder.full_name or holder.email},
            )
            return HttpResponseRedirect(_detail_url(case))
    return _detail_page(
        request, membership, case, reassign_form=form, error_row=error_row, status=400
    )


@login_required
@require_POST
def handover_refresh_view(request: HttpRequest, pk: int) -> HttpResponse:
    _membership, case = _case_for(request, pk, "handover.manage")
    try:
        result = services.handover_case_refresh(case=case, actor=_user(request), request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("List refreshed: %(added)d new, %(removed)d no longer held.")
            % {"added": result.added, "removed": result.removed},
        )
    return HttpResponseRedirect(_detail_url(case))


@login_required
@require_POST
def handover_sign_off_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership, case = _case_for(request, pk, "handover.sign_off")
    form = SignOffForm(request.POST)
    if form.is_valid():
        try:
            services.handover_case_sign_off(
                case=case,
                actor=_user(request),
                notes=form.cleaned_data["notes"],
                request=request,
            )
        except ValidationError as error:
            case.refresh_from_db()
            return _detail_page(
                request,
                membership,
                case,
                sign_off_form=form,
                sign_off_error=" ".join(error.messages),
                status=400,
            )
        messages.success(request, _("Handover signed off."))
        return HttpResponseRedirect(_detail_url(case))
    return _detail_page(request, membership, case, sign_off_form=form, status=400)
