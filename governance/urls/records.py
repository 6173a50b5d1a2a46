from django.urls import path

from governance.views import records

urlpatterns = [
    path("governance/records/", records.records_view, name="records"),
    path("governance/records/rules/", records.retention_rule_save_view, name="retention_rule_save"),
    path(
        "governance/records/rules/<int:pk>/delete/",
        records.retention_rule_delete_view,
        name="retention_rule_delete",
    ),
    path("governance/records/holds/", records.legal_holds_view, name="legal_holds"),
    path("governance/records/holds/new/", records.legal_hold_place_view, name="legal_hold_place"),
    path("governance/records/holds/<int:pk>/", records.legal_hold_detail_view, name="legal_hold"),
    path(
        "governance/records/holds/<int:pk>/release/",
        records.legal_hold_release_view,
        name="legal_hold_release",
    ),
    path("governance/records/exports/", records.records_exports_view, name="records_exports"),
    path(
        "governance/records/exports/new/",
        records.records_export_create_view,
        name="records_export_create",
    ),
    path(
        "governance/records/exports/<int:pk>/",
        records.records_export_detail_view,
        name="records_export",
    ),
    path(
        "governance/records/exports/<int:pk>/progress/",
        records.records_export_progress_view,
        name="records_export_progress",
    ),
    path(
        "governance/records/exports/<int:pk>/download/",
        records.records_export_download_view,
        name="records_export_download",
    ),
]
