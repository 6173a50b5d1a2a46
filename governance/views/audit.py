"""The audit log page and its CSV and JSON exports."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import tzinfo
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation

from governance.forms.audit import AuditFilterForm
from governance.models import Membership
from governance.selectors.access import request_membership, require_perm
from governance.selectors.audit import audit_events_for_user, audit_export_record, audit_rows
from governance.services.audit import audit_record, latest_checkpoint
from governance.spreadsheet import formula_safe

PAGE_SIZE = 50
EXPORT_FORMATS = ("csv", "json")

CSV_COLUMNS = (
    "id",
    "created_at",
    "local_time",
    "actor",
    "actor_label",
    "actor_name",
    "action",
    "action_label",
    "target_type",
    "target_id",
    "target_label",
    "old_values",
    "new_values",
    "ip_address",
    "user_agent",
    "organization",
    "prev_hash",
    "seq",
    "key_id",
    "hash",
)

# Cells a spreadsheet would run as a formula (CSV injection). The CSV prefixes
# them with an apostrophe; the JSON export keeps every value verbatim.


def _filter_form(request: HttpRequest, membership: Membership, tz: tzinfo) -> AuditFilterForm:
    filter_keys = set(AuditFilterForm.base_fields)
    data = request.GET if filter_keys & set(request.GET) else None
    return AuditFilterForm(data, membership=membership, tz=tz)


@login_required
def audit_list_view(request: HttpRequest) -> HttpResponseBase:
    membership = request_membership(request)
    require_perm(membership, "audit.view")
    fmt = request.GET.get("format", "")
    if fmt in EXPORT_FORMATS:
        return audit_export_view(request, fmt)
    tz = timezone.get_current_timezone()
    form = _filter_form(request, membership, tz)
    filters = form.filters()
    events = audit_events_for_user(membership, filters)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "governance/audit/list.html",
        {
            "form": form,
            "page_obj": page,
            "rows": audit_rows(page.object_list),
            "time_zone": timezone.get_current_timezone_name(),
            "filtered": bool(filters.describe()),
            "filter_summary": form.summary(),
            "checkpoint": latest_checkpoint(membership.organization),
        },
    )


@login_required
def audit_export_view(request: HttpRequest, fmt: str) -> HttpResponseBase:
    membership = request_membership(request)
    require_perm(membership, "audit.view")
    tz = timezone.get_current_timezone()
    form = _filter_form(request, membership, tz)
    if form.is_bound and not form.is_valid():
        # Never export more than was asked for: show the page with the errors instead.
        query = request.GET.copy()
        query.pop("format", None)
        return HttpResponseRedirect(f"{reverse('governance:audit')}?{query.urlencode()}")
    filters = form.filters()
    events = audit_events_for_user(membership, filters)
    # Fix the export's extent before recording it, so the file holds exactly the
    # entries counted in its own audit entry, whatever is written meanwhile.
    extent = events.aggregate(last_id=Max("id"), entries=Count("id"))
    events = events.filter(id__lte=extent["last_id"] or 0)
    audit_record(
        action="audit.exported",
        organization=membership.organization,
        request=request,
        new={"format": fmt, "entries": extent["entries"], "filters": filters.describe()},
    )
    today = timezone.localdate(timezone=tz).isoformat()
    filename = f"audit-log-{membership.organization.slug}-{today}.{fmt}"
    language = translation.get_language()
    if fmt == "csv":
        rows = _csv_lines(events, tz, language)
        content_type = "text/csv; charset=utf-8"
    else:
        header = {
            "organization": {
                "id": membership.organization_id,
                "name": membership.organization.name,
            },
            "exported_at": timezone.now().isoformat(),
            "exported_by": request.user.email,  # type: ignore[union-attr]
            "filters": filters.describe(),
            "entries_count": extent["entries"],
        }
        rows = _json_chunks(events, tz, language, header)
        content_type = "application/json"
    response = StreamingHttpResponse(rows, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _export_records(events: Any, tz: tzinfo, language: str | None) -> Iterator[dict[str, Any]]:
    # Streaming runs after the view returned: pin the language and time zone now.
    with translation.override(language):
        for event in events.iterator(chunk_size=1000):
            yield audit_export_record(event, tz)


class _Echo:
    """A file-like object whose write() hands the line back, for csv.writer."""

    def write(self, value: str) -> str:
        return value


def _csv_cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if value is None:
        return ""
    return formula_safe(value)


def _csv_lines(events: Any, tz: tzinfo, language: str | None) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a byte-order mark, so spreadsheet programs read UTF-8
    yield writer.writerow(CSV_COLUMNS)
    for record in _export_records(events, tz, language):
        yield writer.writerow([_csv_cell(record[column]) for column in CSV_COLUMNS])


def _json_chunks(
    events: Any, tz: tzinfo, language: str | None, header: dict[str, Any]
) -> Iterator[str]:
    opening = json.dumps(header, ensure_ascii=False)
    yield opening[:-1] + ', "entries": ['
    separator = "\n"
    for record in _export_records(events, tz, language):
        yield separator + json.dumps(record, ensure_ascii=False)
        separator = ",\n"
    yield "\n]}\n"
