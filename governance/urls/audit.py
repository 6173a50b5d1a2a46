from django.urls import path, re_path

from governance.views import audit

urlpatterns = [
    path("governance/audit/", audit.audit_list_view, name="audit"),
    re_path(
        r"^governance/audit/export\.(?P<fmt>csv|json)$",
        audit.audit_export_view,
        name="audit_export",
    ),
]
