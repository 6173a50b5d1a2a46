"""Analytics pages: the dashboard and its CSV and PDF exports, goals, scheduled reports."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from analytics.dashboard_cache import dashboard_part
from analytics.exports import CSV_TABLES, csv_text, export_filename
from analytics.forms import DashboardFilterForm, GoalForm, ScheduledReportForm, goal_initial
from analytics.link_clicks import link_clicks_block
from analytics.models import Goal, ScheduledReport
from analytics.presentation import (
    dashboard_blocks,
    goal_period,
    goal_sentence,
    goal_title,
    key_figures,
    network_rows,
    range_label,
    scope_label,
    top_post_rows,
)
from analytics.schedule import local_day, zone_of
from analytics.selectors import (
    GOAL_KINDS,
    Dashboard,
    analytics_accounts_for_membership,
    campaigns_for_organization,
    dashboard_build,
    goal_get_for_membership,
    goal_progress,
    goals_for_membership,
    scheduled_report_get_for_membership,
    scheduled_reports_for_membership,
    scope_for_membership,
)
from analytics.services.goals import goal_delete, goal_save
from analytics.services.reports import scheduled_report_delete, scheduled_report_save
from governance.models import Membership
from governance.selectors.access import has_perm, require_perm
from governance.selectors.access import request_membership_with_perm as _membership

GOALS_LISTED = 100
EXPORT_FORMATS = ("csv", "pdf")


def _dashboard(
    request: HttpRequest, membership: Membership
) -> tuple[DashboardFilterForm, Dashboard]:
    organization = membership.organization
    today = local_day(timezone.now(), zone_of(organization.time_zone))
    form = DashboardFilterForm(
        request.GET if request.GET else None,
        membership=membership,
        accounts=analytics_accounts_for_membership(membership),
        campaigns=campaigns_for_organization(organization),
        today=today,
    )
    filters = form.filters()
    dashboard = dashboard_build(
        scope=scope_for_membership(membership, filters.account), filters=filters, today=today
    )
    return form, dashboard


def _goal_rows(dashboard_goals: Any) -> list[dict[str, Any]]:
    return [
        {
            "progress": progress,
            "title": goal_title(progress),
            "period": goal_period(progress),
            "sentence": goal_sentence(progress),
            # A bar only where "more of the target" is better.
            "bar": GOAL_KINDS[progress.goal.metric] in ("sum", "level")
            and progress.percent is not None,
            "bar_value": min(progress.percent or 0, 100),
        }
        for progress in dashboard_goals
    ]


@login_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    membership = _membership(request, "analytics.view")
    form, dashboard = _dashboard(request, membership)
    query = request.GET.copy()
    return render(
        request,
        "analytics/dashboard.html",
        {
            "form": form,
            "dashboard": dashboard,
            # The six charts and their tables are the page's costliest part, and are
            # made from the figures alone: once per cached dashboard and language.
            "charts": dashboard_part(
                dashboard.build_id,
                "charts",
                lambda: render_to_string(
                    "analytics/_charts.html", {"blocks": dashboard_blocks(dashboard)}
                ),
            ),
            "figures": key_figures(dashboard),
            "networks": network_rows(dashboard),
            "top_posts": top_post_rows(dashboard),
            "goals": _goal_rows(dashboard.goals),
            "link_clicks": link_clicks_block(membership, dashboard),
            "range_label": range_label(dashboard),
            "scope_label": scope_label(dashboard),
            "can_manage": has_perm(membership, "analytics.manage"),
            "query": query.urlencode(),
            "time_zone": dashboard.organization.time_zone,
        },
    )


@login_required
def export_view(request: HttpRequest, fmt: str) -> HttpResponseBase:
    membership = _membership(request, "analytics.view")
    if fmt not in EXPORT_FORMATS:
        raise Http404
    table = request.GET.get("table", "periods")
    if table not in CSV_TABLES:
        raise Http404
    form, dashboard = _dashboard(request, membership)
    if form.is_bound and not form.is_valid():
        # Never export something other than what was asked for: show the errors instead.
        return HttpResponseRedirect(f"{reverse('analytics:index')}?{request.GET.urlencode()}")
    if fmt == "csv":
        response = HttpResponse(csv_text(dashboard, table), content_type="text/csv; charset=utf-8")
        filename = export_filename(dashboard, table, "csv")
    else:
        from analytics.pdf import dashboard_pdf

        response = HttpResponse(dashboard_pdf(dashboard), content_type="application/pdf")
        filename = export_filename(dashboard, "periods", "pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


# --- goals ------------------------------------------------------------------------------------


@login_required
def goal_list_view(request: HttpRequest) -> HttpResponse:
    membership = _membership(request, "analytics.view")
    organization = membership.organization
    today = local_day(timezone.now(), zone_of(organization.time_zone))
    goals = list(goals_for_membership(membership)[:GOALS_LISTED])
    progress = goal_progress(scope=scope_for_membership(membership), goals=goals, today=today)
    return render(
        request,
        "analytics/goals/list.html",
        {"goals": _goal_rows(progress), "can_manage": has_perm(membership, "analytics.manage")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def goal_edit_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    membership = _membership(request, "analytics.view")
    goal: Goal | None = goal_get_for_membership(membership, pk) if pk is not None else None
    require_perm(membership, "analytics.manage")
    organization = membership.organization
    today = local_day(timezone.now(), zone_of(organization.time_zone))
    if request.method == "POST":
        form = GoalForm(request.POST, membership=membership, goal=goal)
        if form.is_valid():
            data = form.cleaned_data
            try:
                goal_save(
                    membership=membership,
                    goal=goal,
                    name=data["name"],
                    metric=data["metric"],
                    channel_account=data["account"],
                    target=data["target"],
                    period_start=data["period_start"],
                    period_end=data["period_end"],
                    request=request,
                )
            except ValidationError as exc:
                form.apply_service_errors(exc)
            else:
                messages.success(request, _("The goal is saved."))
                return redirect("analytics:index")
    else:
        form = GoalForm(
            membership=membership,
            goal=goal,
            **({} if goal is not None else {"initial": goal_initial(today)}),
        )
    return render(request, "analytics/goals/form.html", {"form": form, "goal": goal})


@login_required
@require_POST
def goal_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request, "analytics.view")
    goal = goal_get_for_membership(membership, pk)
    goal_delete(membership=membership, goal=goal, request=request)
    messages.success(request, _("The goal is removed."))
    return redirect("analytics:goals")


# --- scheduled reports --------------------------------------------------------------------------


@login_required
def report_list_view(request: HttpRequest) -> HttpResponse:
    membership = _membership(request, "analytics.view")
    return render(
        request,
        "analytics/reports/list.html",
        {
            "reports": scheduled_reports_for_membership(membership),
            "can_manage": has_perm(membership, "analytics.manage"),
            "time_zone": membership.organization.time_zone,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_edit_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    membership = _membership(request, "analytics.view")
    report: ScheduledReport | None = (
        scheduled_report_get_for_membership(membership, pk) if pk is not None else None
    )
    require_perm(membership, "analytics.manage")
    if request.method == "POST":
        form = ScheduledReportForm(request.POST, membership=membership, report=report)
        if form.is_valid():
            data = form.cleaned_data
            try:
                scheduled_report_save(
                    membership=membership,
                    report=report,
                    name=data["name"],
                    cadence=data["cadence"],
                    channel_account=data["account"],
                    campaign=data["campaign"],
                    recipients=form.recipient_list(),
                    language=data["language"],
                    is_active=data["is_active"],
                    request=request,
                )
            except ValidationError as exc:
                form.apply_service_errors(exc)
            else:
                messages.success(request, _("The report is scheduled."))
                return redirect("analytics:reports")
    else:
        initial = None
        if report is None:
            initial = {
                "language": request.user.preferred_language  # type: ignore[union-attr]
                or membership.organization.default_language,
                "is_active": True,
            }
        form = ScheduledReportForm(
            membership=membership, report=report, **({"initial": initial} if initial else {})
        )
    return render(request, "analytics/reports/form.html", {"form": form, "report": report})


@login_required
@require_POST
def report_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request, "analytics.view")
    report = scheduled_report_get_for_membership(membership, pk)
    scheduled_report_delete(membership=membership, report=report, request=request)
    messages.success(request, _("The scheduled report is removed."))
    return redirect("analytics:reports")
