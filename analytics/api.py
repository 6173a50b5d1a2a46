"""Analytics through the REST API: the dashboard's figures, CSV and PDF exports, goals
and scheduled reports (/api/v1/analytics/…).

The same selectors, services and filter rules as the pages: an account, campaign,
goal or report of another organization (or of an account the caller cannot see)
is a 404; reading needs ``analytics.view`` (admins, managers, auditors), changing
goals and reports ``analytics.manage`` (admins, managers), else 403.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ChannelAccount
from analytics.exports import csv_text, export_filename
from analytics.forms import DashboardFilterForm
from analytics.models import Goal, ScheduledReport
from analytics.schedule import local_day, zone_of
from analytics.selectors import (
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
from analytics.serializers import (
    DashboardQuerySerializer,
    DashboardSerializer,
    ExportQuerySerializer,
    GoalPageSerializer,
    GoalReadSerializer,
    GoalSerializer,
    ScheduledReportPageSerializer,
    ScheduledReportSerializer,
    dashboard_data,
    goal_data,
)
from analytics.services.goals import goal_delete, goal_save
from analytics.services.reports import scheduled_report_delete, scheduled_report_save
from governance.api.organization import READ_ERRORS, WRITE_ERRORS, service_errors
from governance.api.pagination import PAGE_PARAMETERS, PagePagination
from governance.models import Membership
from governance.selectors.access import request_membership_with_perm as _membership
from governance.selectors.access import require_perm
from publishing.models import Campaign

TAGS = ["analytics"]
GOAL_FIELDS = {"metric": "metric", "account": "account", "target": "target", "period": "period_end"}
REPORT_FIELDS = {
    "name": "name",
    "cadence": "cadence",
    "account": "account",
    "campaign": "campaign",
    "recipients": "recipients",
    "language": "language",
}


def _dashboard(request: Request, membership: Membership) -> Dashboard:
    organization = membership.organization
    today = local_day(timezone.now(), zone_of(organization.time_zone))
    query = request.query_params
    form = DashboardFilterForm(
        query if any(key in query for key in ("start", "end", "account", "campaign")) else None,
        membership=membership,
        accounts=analytics_accounts_for_membership(membership),
        campaigns=campaigns_for_organization(organization),
        today=today,
    )
    if form.is_bound and not form.is_valid():
        raise exceptions.ValidationError(
            {field: [str(message) for message in errors] for field, errors in form.errors.items()}
        )
    filters = form.filters()
    return dashboard_build(
        scope=scope_for_membership(membership, filters.account), filters=filters, today=today
    )


def _visible_account(membership: Membership, pk: int | None) -> ChannelAccount | None:
    """An account named in a request body: one the caller works with, or a 400 that does
    not say whether it exists elsewhere."""
    if pk is None:
        return None
    account = next((a for a in analytics_accounts_for_membership(membership) if a.pk == pk), None)
    if account is None:
        raise exceptions.ValidationError({"account": [gettext("Choose one of your accounts.")]})
    return account


def _campaign(membership: Membership, pk: int | None) -> Campaign | None:
    if pk is None:
        return None
    campaign = Campaign.objects.filter(organization=membership.organization, pk=pk).first()
    if campaign is None:
        raise exceptions.ValidationError(
            {"campaign": [gettext("Choose one of the organization's campaigns.")]}
        )
    return campaign


class DashboardView(APIView):
    @extend_schema(
        summary="Dashboard figures",
        description="Followers, publishing, engagement and the inbox per period (by day up "
        "to 92 days, by week up to a year, else by month), the totals, top posts and the "
        "goals overlapping the range. Without filters: the last 30 days, every account. "
        "Days are the organization's calendar days (``time_zone``).",
        parameters=[DashboardQuerySerializer],
        responses={200: DashboardSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        membership = _membership(request, "analytics.view")
        return Response(dashboard_data(_dashboard(request, membership)))


class ExportView(APIView):
    @extend_schema(
        summary="Dashboard as CSV or PDF",
        description="``csv``: the figures per period (or ``table=top_posts`` / ``goals``); "
        "``pdf``: the presentation-ready report. Same filters as the dashboard.",
        parameters=[ExportQuerySerializer],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR),
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY),
            **READ_ERRORS,
        },
        tags=TAGS,
    )
    def get(self, request: Request, fmt: str) -> HttpResponse:
        membership = _membership(request, "analytics.view")
        if fmt not in ("csv", "pdf"):
            raise exceptions.NotFound()
        params = ExportQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        table = params.validated_data["table"]
        dashboard = _dashboard(request, membership)
        if fmt == "csv":
            response = HttpResponse(
                csv_text(dashboard, table), content_type="text/csv; charset=utf-8"
            )
        else:
            from analytics.pdf import dashboard_pdf

            table = "periods"
            response = HttpResponse(dashboard_pdf(dashboard), content_type="application/pdf")
        filename = export_filename(dashboard, table, fmt)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response


def _goal_response(membership: Membership, goal: Goal, code: int = status.HTTP_200_OK) -> Response:
    today = local_day(timezone.now(), zone_of(membership.organization.time_zone))
    goal = goal_get_for_membership(membership, goal.pk)
    (progress,) = goal_progress(scope=scope_for_membership(membership), goals=[goal], today=today)
    return Response(goal_data(progress), status=code)


class GoalListView(APIView):
    @extend_schema(
        summary="Goals",
        operation_id="analytics_goals_list",
        parameters=PAGE_PARAMETERS,
        description="Targets per period, latest ending first, each with its progress.",
        responses={200: GoalPageSerializer, **READ_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        membership = _membership(request, "analytics.view")
        paginator = PagePagination()
        page = paginator.paginate_queryset(goals_for_membership(membership), request, view=self)
        goals = list(page or [])
        today = local_day(timezone.now(), zone_of(membership.organization.time_zone))
        progress = goal_progress(scope=scope_for_membership(membership), goals=goals, today=today)
        return paginator.get_paginated_response([goal_data(item) for item in progress])

    @extend_schema(
        summary="Set a goal",
        request=GoalSerializer,
        responses={201: GoalReadSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        membership = _membership(request, "analytics.manage")
        serializer = GoalSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with service_errors(**GOAL_FIELDS):
            goal = goal_save(
                membership=membership,
                name=data["name"],
                metric=data["metric"],
                channel_account=_visible_account(membership, data["channel_account_id"]),
                target=data["target"],
                period_start=data["period_start"],
                period_end=data["period_end"],
                request=request._request,
            )
        return _goal_response(membership, goal, status.HTTP_201_CREATED)


class GoalDetailView(APIView):
    @extend_schema(summary="A goal", responses={200: GoalReadSerializer, **READ_ERRORS}, tags=TAGS)
    def get(self, request: Request, pk: int) -> Response:
        membership = _membership(request, "analytics.view")
        return _goal_response(membership, goal_get_for_membership(membership, pk))

    @extend_schema(
        summary="Change a goal",
        request=GoalSerializer(partial=True),
        responses={200: GoalReadSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def patch(self, request: Request, pk: int) -> Response:
        membership = _membership(request, "analytics.view")
        goal = goal_get_for_membership(membership, pk)
        require_perm(membership, "analytics.manage")
        serializer = GoalSerializer(goal, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        account_id = data.get("channel_account_id", goal.channel_account_id)
        with service_errors(**GOAL_FIELDS):
            goal = goal_save(
                membership=membership,
                goal=goal,
                name=data.get("name", goal.name),
                metric=data.get("metric", goal.metric),
                channel_account=_visible_account(membership, account_id),
                target=data.get("target", goal.target),
                period_start=data.get("period_start", goal.period_start),
                period_end=data.get("period_end", goal.period_end),
                request=request._request,
            )
        return _goal_response(membership, goal)

    @extend_schema(summary="Remove a goal", responses={204: None, **READ_ERRORS}, tags=TAGS)
    def delete(self, request: Request, pk: int) -> Response:
        membership = _membership(request, "analytics.view")
        goal = goal_get_for_membership(membership, pk)
        require_perm(membership, "analytics.manage")
        goal_delete(membership=membership, goal=goal, request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ScheduledReportListView(APIView):
    @extend_schema(
        summary="Scheduled reports",
        operation_id="analytics_reports_list",
        parameters=PAGE_PARAMETERS,
        description="PDF reports e-mailed weekly (Mondays, the week before) or monthly "
        "(the 1st, the month before) at 07:00 in the organization's time zone.",
        responses={200: ScheduledReportPageSerializer, **READ_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        membership = _membership(request, "analytics.view")
        paginator = PagePagination()
        page = paginator.paginate_queryset(
            scheduled_reports_for_membership(membership), request, view=self
        )
        return paginator.get_paginated_response(
            ScheduledReportSerializer(page or [], many=True).data
        )

    @extend_schema(
        summary="Schedule a report",
        request=ScheduledReportSerializer,
        responses={201: ScheduledReportSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        membership = _membership(request, "analytics.manage")
        serializer = ScheduledReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with service_errors(**REPORT_FIELDS):
            report = scheduled_report_save(
                membership=membership,
                name=data["name"],
                cadence=data["cadence"],
                channel_account=_visible_account(membership, data["channel_account_id"]),
                campaign=_campaign(membership, data["campaign_id"]),
                recipients=data["recipients"],
                language=data["language"],
                is_active=data["is_active"],
                request=request._request,
            )
        return Response(ScheduledReportSerializer(report).data, status=status.HTTP_201_CREATED)


class ScheduledReportDetailView(APIView):
    @extend_schema(
        summary="A scheduled report",
        responses={200: ScheduledReportSerializer, **READ_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        membership = _membership(request, "analytics.view")
        report = scheduled_report_get_for_membership(membership, pk)
        return Response(ScheduledReportSerializer(report).data)

    @extend_schema(
        summary="Change a scheduled report",
        request=ScheduledReportSerializer(partial=True),
        responses={200: ScheduledReportSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def patch(self, request: Request, pk: int) -> Response:
        membership = _membership(request, "analytics.view")
        report: ScheduledReport = scheduled_report_get_for_membership(membership, pk)
        require_perm(membership, "analytics.manage")
        serializer = ScheduledReportSerializer(report, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        with service_errors(**REPORT_FIELDS):
            report = scheduled_report_save(
                membership=membership,
                report=report,
                name=data.get("name", report.name),
                cadence=data.get("cadence", report.cadence),
                channel_account=_visible_account(
                    membership, data.get("channel_account_id", report.channel_account_id)
                ),
                campaign=_campaign(membership, data.get("campaign_id", report.campaign_id)),
                recipients=data.get("recipients", report.recipients),
                language=data.get("language", report.language),
                is_active=data.get("is_active", report.is_active),
                request=request._request,
            )
        return Response(ScheduledReportSerializer(report).data)

    @extend_schema(
        summary="Remove a scheduled report", responses={204: None, **READ_ERRORS}, tags=TAGS
    )
    def delete(self, request: Request, pk: int) -> Response:
        membership = _membership(request, "analytics.view")
        report = scheduled_report_get_for_membership(membership, pk)
        require_perm(membership, "analytics.manage")
        scheduled_report_delete(membership=membership, report=report, request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)
