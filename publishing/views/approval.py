"""Approval policies (ordered stages: who approves, one or all; per account or the
organization's default) and the organization's publishing rules. Admins only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import ChannelAccount
from accounts.selectors import channel_accounts_for_membership
from governance.models import Membership, Role
from governance.selectors.access import get_in_org, request_membership, require_perm
from publishing.forms import PolicyForm, PublishingRulesForm, StageFormSet
from publishing.models import ApprovalPolicy
from publishing.selectors import approval_policies_for
from publishing.services import approval as approval_services
from publishing.services.org_settings import publishing_settings_update
from publishing.validation import publishing_rules
from publishing.views.posts import render_page


def _admin(request: HttpRequest) -> Membership:
    membership = request_membership(request)
    require_perm(membership, "org.manage")
    return membership


def _approvers(membership: Membership) -> list[Membership]:
    return list(
        Membership.objects.filter(
            organization_id=membership.organization_id, is_active=True, user__is_active=True
        )
        .exclude(role=Role.AUDITOR)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


def _accounts(membership: Membership) -> list[ChannelAccount]:
    return list(channel_accounts_for_membership(membership).order_by("network", "handle", "pk"))


@dataclass
class StageView:
    name: str
    require_all: bool
    approvers: str  # named people, or the role in words
    outside: bool = False


@dataclass
class PolicyView:
    policy: ApprovalPolicy
    stages: list[StageView]


def _policy_view(policy: ApprovalPolicy) -> PolicyView:
    stages = []
    for stage in policy.stages.all():
        named = [str(member.user) for member in stage.reviewers.all()]
        if stage.outside_per_post and stage.outside_email:
            approvers = _("an outside reviewer the author names (suggested: %(email)s)") % {
                "email": stage.outside_email
            }
        elif stage.outside_per_post:
            approvers = _("an outside reviewer the author names")
        elif stage.outside_email:
            approvers = _("the outside reviewer %(email)s") % {"email": stage.outside_email}
        elif named:
            approvers = ", ".join(named)
        else:
            role = dict(Role.choices).get(stage.role, stage.role)
            approvers = _("everyone with the role %(role)s") % {"role": role}
        stages.append(
            StageView(
                name=stage.name,
                require_all=stage.require_all,
                approvers=approvers,
                outside=bool(stage.outside_email or stage.outside_per_post),
            )
        )
    return PolicyView(policy=policy, stages=stages)


@login_required
@require_http_methods(["GET"])
def policy_list_view(request: HttpRequest) -> HttpResponse:
    membership = _admin(request)
    policies = [_policy_view(p) for p in approval_policies_for(membership.organization)]
    return render_page(
        request,
        "publishing/approval/policies.html",
        {
            "default_policy": next(
                (v for v in policies if v.policy.channel_account_id is None), None
            ),
            "account_policies": [v for v in policies if v.policy.channel_account_id is not None],
        },
    )


def _stage_initial(policy: ApprovalPolicy) -> list[dict[str, Any]]:
    return [
        {
            "name": stage.name,
            "role": stage.role,
            "reviewers": [str(member.pk) for member in stage.reviewers.all()],
            "require_all": stage.require_all,
            "outside_email": stage.outside_email,
            "outside_per_post": stage.outside_per_post,
        }
        for stage in policy.stages.order_by("position")
    ]


def _policy_form_view(request: HttpRequest, policy: ApprovalPolicy | None) -> HttpResponse:
    membership = _admin(request)
    accounts = _accounts(membership)
    members = _approvers(membership)
    status = 200
    if request.method == "POST":
        data = request.POST.copy()
        adding = data.get("action") == "add_stage"
        if adding:
            total = int(data.get("stages-TOTAL_FORMS") or 0)
            if total < 10:
                data["stages-TOTAL_FORMS"] = str(total + 1)
        form = PolicyForm(data, accounts=accounts)
        stages = StageFormSet(data, prefix="stages", members=members)
        if not adding and form.is_valid() and stages.is_valid():
            kept = [f for f in stages.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
            try:
                approval_services.approval_policy_save(
                    membership=membership,
                    name=form.cleaned_data["name"],
                    stages=[f.stage_input() for f in kept],
                    channel_account=form.account(),
                    allow_self_approval=form.cleaned_data["allow_self_approval"],
                    per_language=form.cleaned_data["per_language"],
                    remind_after_hours=form.cleaned_data["remind_after_hours"],
                    escalate_after_hours=form.cleaned_data["escalate_after_hours"],
                    policy=policy,
                    request=request,
                )
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, _("The approval policy is saved."))
                return redirect("publishing:approval_policies")
        status = 200 if adding else 400
    elif policy is not None:
        form = PolicyForm(
            initial={
                "name": policy.name,
                "channel_account": str(policy.channel_account_id or ""),
                "allow_self_approval": policy.allow_self_approval,
                "per_language": policy.per_language,
                "remind_after_hours": policy.remind_after_hours,
                "escalate_after_hours": policy.escalate_after_hours,
            },
            accounts=accounts,
        )
        stages = StageFormSet(initial=_stage_initial(policy), prefix="stages", members=members)
    else:
        form = PolicyForm(initial={"name": _("Approval")}, accounts=accounts)
        stages = StageFormSet(
            initial=[{"name": _("Review"), "role": Role.REVIEWER}],
            prefix="stages",
            members=members,
        )
    return render_page(
        request,
        "publishing/approval/policy_form.html",
        {"form": form, "stages": stages, "policy": policy},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def policy_create_view(request: HttpRequest) -> HttpResponse:
    return _policy_form_view(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def policy_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _admin(request)
    return _policy_form_view(
        request, get_in_org(ApprovalPolicy.objects.all(), membership.organization, pk=pk)
    )


@login_required
@require_http_methods(["GET", "POST"])
def policy_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _admin(request)
    policy = get_in_org(
        ApprovalPolicy.objects.select_related("channel_account"), membership.organization, pk=pk
    )
    if request.method == "POST":
        approval_services.approval_policy_delete(
            policy=policy, membership=membership, request=request
        )
        messages.success(request, _("The approval policy is removed."))
        return redirect("publishing:approval_policies")
    return render_page(request, "publishing/approval/policy_delete.html", {"policy": policy})


@login_required
@require_http_methods(["GET", "POST"])
def publishing_rules_view(request: HttpRequest) -> HttpResponse:
    membership = _admin(request)
    rules = publishing_rules(membership.organization_id)
    language = membership.organization.default_language
    form = PublishingRulesForm.for_settings(rules, organization_language=language)
    status = 200
    if request.method == "POST":
        form = PublishingRulesForm.for_settings(rules, request.POST, organization_language=language)
        if form.is_valid():
            try:
                publishing_settings_update(
                    membership=membership,
                    require_alt_text=form.cleaned_data["require_alt_text"],
                    require_captions=form.cleaned_data["require_captions"],
                    late_cutoff_minutes=form.cleaned_data["late_cutoff_minutes"],
                    post_languages=form.cleaned_data["post_languages"],
                    request=request,
                )
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, _("The publishing rules are saved."))
                return redirect("publishing:rules")
        status = 400
    return render_page(request, "publishing/approval/rules.html", {"form": form}, status=status)
