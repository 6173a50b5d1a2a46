"""Analytics endpoints under /api/v1/."""

from django.urls import path

from analytics import api

urlpatterns = [
    path("analytics/dashboard/", api.DashboardView.as_view(), name="api-analytics-dashboard"),
    path("analytics/export.<str:fmt>", api.ExportView.as_view(), name="api-analytics-export"),
    path("analytics/goals/", api.GoalListView.as_view(), name="api-analytics-goals"),
    path("analytics/goals/<int:pk>/", api.GoalDetailView.as_view(), name="api-analytics-goal"),
    path(
        "analytics/reports/",
        api.ScheduledReportListView.as_view(),
        name="api-analytics-reports",
    ),
    path(
        "analytics/reports/<int:pk>/",
        api.ScheduledReportDetailView.as_view(),
        name="api-analytics-report",
    ),
]
