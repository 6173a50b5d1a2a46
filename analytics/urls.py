from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.dashboard_view, name="index"),
    path("export.<str:fmt>", views.export_view, name="export"),
    path("goals/", views.goal_list_view, name="goals"),
    path("goals/new/", views.goal_edit_view, name="goal_new"),
    path("goals/<int:pk>/", views.goal_edit_view, name="goal_edit"),
    path("goals/<int:pk>/delete/", views.goal_delete_view, name="goal_delete"),
    path("reports/", views.report_list_view, name="reports"),
    path("reports/new/", views.report_edit_view, name="report_new"),
    path("reports/<int:pk>/", views.report_edit_view, name="report_edit"),
    path("reports/<int:pk>/delete/", views.report_delete_view, name="report_delete"),
]
