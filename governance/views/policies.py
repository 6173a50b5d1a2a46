"""Policies (versioned guidelines staff acknowledge) and the governance model's review."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from governance.forms.registry import (
    GovernanceReviewRecordForm,
    GovernanceReviewScheduleForm,
    PolicyForm,
)
from governance.selectors.access import has_perm, request_membership, require_perm
from governance.selectors.access import request_user as _actor
from governance.selectors.policies import (
    governance_review_for_org,
    governance_review_is_due,
    policies_for_member,
    policy_acknowledged_by,
    policy_acknowledgement_status,
    policy_get,
    policy_versions,
)
from governance.selectors.registry import local_today
from governance.services.policies import (
    governance_review_record,
    governance_review_schedule,
    policy_acknowledge,
    policy_create,
    policy_publish_version,
)
from governance.views.registry import attach_service_errors


@login_required
def policy_list_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "org.view")
    review = governance_review_for_org(membership.organization)
    return render(
        request,
        "governance/policies/list.html",
        {
            "policies": list(policies_for_member(membership)),
            "can_manage": has_perm(membership, "policies.manage"),
            "can_see_acknowledgements": has_perm(membership, "members.view"),
            "review": review,
            "review_due": governance_review_is_due(review, local_today(membership.organization)),
            "can_manage_review": has_perm(membership, "org.manage"),
        },
    )


@login_required
def policy_create_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "policies.manage")
    form = PolicyForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            policy = policy_create(
                organization=membership.organization,
                actor=_actor(request),
                kind=form.cleaned_data["kind"],
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                request=request,
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("Published %(title)s.") % {"title": policy.title})
            return redirect("governance:policy_detail", pk=policy.pk)
    return render(request, "governance/policies/form.html", {"form": form, "policy": None})


@login_required
def policy_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    policy = policy_get(membership.organization, pk)
    require_perm(membership, "org.view")
    return render(
        request,
        "governance/policies/detail.html",
        {
            "policy": policy,
            "version": policy.current_version,
            "versions": list(policy_versions(policy)),
            "acknowledgement": policy_acknowledged_by(policy, membership),
            "can_manage": has_perm(membership, "policies.manage"),
            "can_see_acknowledgements": has_perm(membership, "members.view"),
        },
    )


@login_required
def policy_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    policy = policy_get(membership.organization, pk)
    require_perm(membership, "policies.manage")
    version = policy.current_version
    form = PolicyForm(
        request.POST if request.method == "POST" else None,
        new_version=True,
        initial={
            "title": policy.title,
            "kind": policy.kind,
            "body": version.body if version else "",
        },
    )
    if form.is_valid():
        try:
            new = policy_publish_version(
                policy=policy,
                actor=_actor(request),
                title=form.cleaned_data["title"],
                kind=form.cleaned_data["kind"],
                body=form.cleaned_data["body"],
                change_note=form.cleaned_data.get("change_note", ""),
                request=request,
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Published version %(number)d of %(title)s.")
                % {"number": new.number, "title": policy.title},
            )
            return redirect("governance:policy_detail", pk=policy.pk)
    return render(request, "governance/policies/form.html", {"form": form, "policy": policy})


@login_required
@require_POST
def policy_acknowledge_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    policy = policy_get(membership.organization, pk)
    require_perm(membership, "org.view")
    try:
        ack = policy_acknowledge(policy=policy, membership=membership, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("You acknowledged version %(number)d of %(title)s.")
            % {"number": ack.version.number, "title": policy.title},
        )
    return redirect("governance:policy_detail", pk=policy.pk)


@login_required
def policy_acknowledgements_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    policy = policy_get(membership.organization, pk)
    require_perm(membership, "members.view")
    rows = policy_acknowledgement_status(policy)
    return render(
        request,
        "governance/policies/acknowledgements.html",
        {
            "policy": policy,
            "acknowledged": [row for row in rows if row.acknowledged_at is not None],
            "pending": [row for row in rows if row.acknowledged_at is None],
        },
    )


@login_required
def governance_review_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "org.view")
    organization = membership.organization
    review = governance_review_for_org(organization)
    can_manage = has_perm(membership, "org.manage")
    schedule_form = GovernanceReviewScheduleForm(
        initial={"due_on": review.due_on, "cadence_months": review.cadence_months}
        if review
        else None
    )
    record_form = GovernanceReviewRecordForm()
    if request.method == "POST":
        require_perm(membership, "org.manage")
        if request.POST.get("action") == "record":
            record_form = GovernanceReviewRecordForm(request.POST)
            if record_form.is_valid():
                review = governance_review_record(
                    organization=organization,
                    actor=_actor(request),
                    notes=record_form.cleaned_data["notes"],
                    request=request,
                )
                messages.success(
                    request,
                    _("Review recorded. The next one is due on %(date)s.")
                    % {"date": date_format(review.due_on, "DATE_FORMAT")},
                )
                return redirect("governance:governance_review")
        else:
            schedule_form = GovernanceReviewScheduleForm(request.POST)
            if schedule_form.is_valid():
                try:
                    governance_review_schedule(
                        organization=organization,
                        actor=_actor(request),
                        due_on=schedule_form.cleaned_data["due_on"],
                        cadence_months=schedule_form.cleaned_data["cadence_months"],
                        request=request,
                    )
                except ValidationError as exc:
                    attach_service_errors(schedule_form, exc)
                else:
                    messages.success(request, _("Saved the review schedule."))
                    return redirect("governance:governance_review")
    return render(
        request,
        "governance/policies/governance_review.html",
        {
            "review": review,
            "review_due": governance_review_is_due(review, local_today(organization)),
            "can_manage": can_manage,
            "schedule_form": schedule_form,
            "record_form": record_form,
        },
        status=400 if request.method == "POST" else 200,
    )
