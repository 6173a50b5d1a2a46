"""What the analytics API reads and writes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from analytics.models import Cadence, GoalMetric
from analytics.selectors import Dashboard, GoalProgress, PeriodFigures, goal_target_number


class DashboardQuerySerializer(serializers.Serializer):
    """The dashboard's filters (query parameters); the last 30 days without them."""

    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    account = serializers.IntegerField(required=False)
    campaign = serializers.IntegerField(required=False)


class ExportQuerySerializer(DashboardQuerySerializer):
    table = serializers.ChoiceField(
        choices=["periods", "top_posts", "goals"], required=False, default="periods"
    )


class FiguresSerializer(serializers.Serializer):
    start = serializers.DateField(source="period.start")
    end = serializers.DateField(source="period.end")
    period_label = serializers.CharField(source="period.label")
    followers = serializers.IntegerField(allow_null=True)
    followers_gained = serializers.IntegerField(allow_null=True)
    posts_published = serializers.IntegerField()
    likes = serializers.IntegerField()
    shares = serializers.IntegerField()
    replies = serializers.IntegerField()
    quotes = serializers.IntegerField()
    impressions = serializers.IntegerField(allow_null=True)
    engagement = serializers.IntegerField()
    inbox_received = serializers.IntegerField()
    inbox_answered = serializers.IntegerField()
    response_median_minutes = serializers.FloatField(
        allow_null=True, help_text="Estimated to within 10 % over ranges and several accounts."
    )
    sla_measured = serializers.IntegerField(help_text="Inbox items whose answer was due.")
    sla_met = serializers.IntegerField(help_text="Of those, answered by the time they were due.")
    sla_share = serializers.FloatField(allow_null=True, help_text="Per cent.")


class ProgressSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True)
    percent = serializers.FloatField(allow_null=True, help_text="Of the target.")
    expected = serializers.FloatField(
        allow_null=True, help_text="Where a steady pace would be by now."
    )
    status = serializers.CharField()
    status_label = serializers.CharField()
    as_of = serializers.DateField()


class GoalSerializer(serializers.Serializer):
    """A goal as read, with its progress; as written, without."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    metric = serializers.ChoiceField(choices=GoalMetric.choices)
    metric_label = serializers.CharField(source="get_metric_display", read_only=True)
    account = serializers.IntegerField(
        source="channel_account_id", allow_null=True, required=False, default=None
    )
    target = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


def goal_data(progress: GoalProgress) -> dict[str, Any]:
    goal = progress.goal
    data = dict(GoalSerializer(goal).data)
    data["target"] = str(goal_target_number(goal))
    data["progress"] = ProgressSerializer(
        {
            "value": progress.value,
            "percent": progress.percent,
            "expected": progress.expected,
            "status": str(progress.status),
            "status_label": progress.status_label,
            "as_of": progress.as_of,
        }
    ).data
    return data


class GoalReadSerializer(GoalSerializer):
    """For the schema: a goal as the API answers it."""

    progress = ProgressSerializer(read_only=True)


class GoalPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = GoalReadSerializer(many=True)


class TopPostSerializer(serializers.Serializer):
    post = serializers.IntegerField(source="post_id")
    title = serializers.CharField(source="post.__str__")
    account = serializers.IntegerField(source="channel_account_id")
    account_handle = serializers.CharField(source="channel_account.handle")
    network = serializers.CharField(source="channel_account.network")
    published_at = serializers.DateTimeField()
    url = serializers.CharField(source="remote_url")
    likes = serializers.IntegerField()
    shares = serializers.IntegerField()
    replies = serializers.IntegerField()
    quotes = serializers.IntegerField()
    impressions = serializers.IntegerField(allow_null=True)
    engagement = serializers.IntegerField()
    deleted = serializers.SerializerMethodField()

    def get_deleted(self, obj: Any) -> bool:
        return obj.deleted_at is not None


class DashboardSerializer(serializers.Serializer):
    """For the schema: the dashboard as the API answers it."""

    organization = serializers.IntegerField()
    time_zone = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    account = serializers.IntegerField(allow_null=True)
    campaign = serializers.IntegerField(allow_null=True)
    granularity = serializers.ChoiceField(choices=["day", "week", "month"])
    followers_at_start = serializers.IntegerField(allow_null=True)
    totals = FiguresSerializer()
    periods = FiguresSerializer(many=True)
    top_posts = TopPostSerializer(many=True)
    goals = GoalReadSerializer(many=True)


def figures_data(figures: PeriodFigures) -> dict[str, Any]:
    return dict(FiguresSerializer(figures).data)


def dashboard_data(dashboard: Dashboard) -> dict[str, Any]:
    filters = dashboard.filters
    return {
        "organization": dashboard.organization.pk,
        "time_zone": dashboard.organization.time_zone,
        "start": filters.start.isoformat(),
        "end": filters.end.isoformat(),
        "account": filters.account.pk if filters.account else None,
        "campaign": filters.campaign.pk if filters.campaign else None,
        "granularity": dashboard.granularity,
        "followers_at_start": dashboard.followers_at_start,
        "totals": figures_data(dashboard.totals),
        "periods": [figures_data(row) for row in dashboard.rows],
        "top_posts": TopPostSerializer(dashboard.top_posts, many=True).data,
        "goals": [goal_data(progress) for progress in dashboard.goals],
    }


class ScheduledReportSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=200)
    cadence = serializers.ChoiceField(choices=Cadence.choices)
    account = serializers.IntegerField(
        source="channel_account_id", allow_null=True, required=False, default=None
    )
    campaign = serializers.IntegerField(
        source="campaign_id", allow_null=True, required=False, default=None
    )
    recipients = serializers.ListField(child=serializers.CharField(max_length=254))
    language = serializers.ChoiceField(choices=settings.LANGUAGES)
    is_active = serializers.BooleanField(required=False, default=True)
    next_send_at = serializers.DateTimeField(read_only=True)
    last_sent_at = serializers.DateTimeField(read_only=True, allow_null=True)
    last_error = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class ScheduledReportPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ScheduledReportSerializer(many=True)
