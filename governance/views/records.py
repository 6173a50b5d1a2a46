"""Records pages: retention rules and the disposal log, legal holds, and
records-request exports with their progress bar and download. Views parse the
form, call one service from ``governance.services.records`` and render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from governance.forms.records import (
    LegalHoldForm,
    RecordsExportForm,
    ReleaseHoldForm,
    RetentionRuleForm,
)
from governance.models import ExportStatus, Membership, RecordsExport
from governance.selectors.access import has_perm, request_membership, require_perm
from governance.selectors.access import request_user as _user
from governance.selectors.records import (
    DISPOSAL_LOG_SHOWN,
    disposal_logs_for_org,
    legal_hold_get_for_org,
    legal_holds_for_org,
    record_type_label,
    record_type_rows,
    records_export_get_for_org,
    records_exports_for_org,
    retention_rule_get_for_org,
    scope_labels,
)
from governance.services import records as services

# Which form field a service's error code belongs next to (None: the whole form).
ERROR_FIELDS: dict[str, str | None] = {
    "invalid_record_type": "record_type",
    "no_record_types": "record_types",
    "invalid_days": "keep_for_days",
    "invalid_action": "action",
    "invalid_accounts": "channel_accounts",
    "invalid_dates": "end_date",
    "name_required": "name",
    "reason_required": "reason",
}


def _attach_errors(form: Form, error: ValidationError) -> None:
    for item in error.error_list:
        field = ERROR_FIELDS.get(item.code or "")
        if field is not None and field not in form.fields:
            field = "record_types" if "record_types" in form.fields else None
        form.add_error(field, item)


def _allowed(request: HttpRequest, perm: str) -> Membership:
    membership = request_membership(request)
    require_perm(membership, perm)
    return membership


# ---------------------------------------------------------------------------
# Retention rules and the disposal log


def _records_page(
    request: HttpRequest, membership: Membership, rule_form: RetentionRuleForm | None = None
) -> HttpResponse:
    organization = membership.organization
    can_manage = has_perm(membership, "records.manage")
    if can_manage and rule_form is None:
        rule_form = RetentionRuleForm()
    logs = list(disposal_logs_for_org(organization)[:DISPOSAL_LOG_SHOWN])
    for log in logs:
        log.type_label = record_type_label(log.record_type)  # type: ignore[attr-defined]
    context = {
        "rows": record_type_rows(organization),
        "logs": logs,
        "can_manage": can_manage,
        "rule_form": rule_form,
        "active_holds": legal_holds_for_org(organization).filter(is_active=True).count(),
    }
    status = 400 if rule_form is not None and rule_form.errors else 200
    return render(request, "governance/records/index.html", context, status=status)


@login_required
@require_GET
def records_view(request: HttpRequest) -> HttpResponse:
    return _records_page(request, _allowed(request, "records.view"))


@login_required
@require_POST
def retention_rule_save_view(request: HttpRequest) -> HttpResponse:
    membership = _allowed(request, "records.manage")
    form = RetentionRuleForm(request.POST)
    if form.is_valid():
        try:
            rule = services.retention_rule_save(
                organization=membership.organization,
                actor=_user(request),
                record_type=form.cleaned_data["record_type"],
                keep_for_days=form.cleaned_data["keep_for_days"],
                action=form.cleaned_data["action"],
                request=request,
            )
        except ValidationError as error:
            _attach_errors(form, error)
        else:
            messages.success(
                request,
                _("Retention rule for %(type)s saved.")
                % {"type": record_type_label(rule.record_type)},
            )
            return HttpResponseRedirect(reverse("governance:records"))
    return _records_page(request, membership, rule_form=form)


@login_required
@require_POST
def retention_rule_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _allowed(request, "records.manage")
    rule = retention_rule_get_for_org(membership.organization, pk)
    label = record_type_label(rule.record_type)
    services.retention_rule_delete(rule=rule, actor=_user(request), request=request)
    messages.success(
        request,
        _("Retention rule for %(type)s removed: these records are now kept.") % {"type": label},
    )
    return HttpResponseRedirect(reverse("governance:records"))


# ---------------------------------------------------------------------------
# Legal holds


def _holds_page(
    request: HttpRequest, membership: Membership, hold_form: LegalHoldForm | None = None
) -> HttpResponse:
    organization = membership.organization
    can_manage = has_perm(membership, "records.manage")
    if can_manage and hold_form is None:
        hold_form = LegalHoldForm(organization=organization)
    holds = list(legal_holds_for_org(organization))
    for hold in holds:
        hold.scope = scope_labels(organization, hold.record_types, hold.account_ids)  # type: ignore[attr-defined]
    context = {
        "active_holds": [hold for hold in holds if hold.is_active],
        "released_holds": [hold for hold in holds if not hold.is_active],
        "can_manage": can_manage,
        "hold_form": hold_form,
    }
    status = 400 if hold_form is not None and hold_form.errors else 200
    return render(request, "governance/records/holds.html", context, status=status)


@login_required
@require_GET
def legal_holds_view(request: HttpRequest) -> HttpResponse:
    return _holds_page(request, _allowed(request, "records.view"))


@login_required
@require_POST
def legal_hold_place_view(request: HttpRequest) -> HttpResponse:
    membership = _allowed(request, "records.manage")
    form = LegalHoldForm(request.POST, organization=membership.organization)
    if form.is_valid():
        try:
            hold = services.legal_hold_place(
                organization=membership.organization,
                actor=_user(request),
                name=form.cleaned_data["name"],
                reason=form.cleaned_data["reason"],
                record_types=form.cleaned_data["record_types"],
                account_ids=form.account_ids(),
                start_date=form.cleaned_data["start_date"],
                end_date=form.cleaned_data["end_date"],
                request=request,
            )
        except ValidationError as error:
            _attach_errors(form, error)
        else:
            messages.success(request, _("Legal hold “%(name)s” placed.") % {"name": hold.name})
            return HttpResponseRedirect(reverse("governance:legal_hold", args=[hold.pk]))
    return _holds_page(request, membership, hold_form=form)


def _hold_page(
    request: HttpRequest,
    membership: Membership,
    pk: int,
    release_form: ReleaseHoldForm | None = None,
) -> HttpResponse:
    organization = membership.organization
    hold = legal_hold_get_for_org(organization, pk)
    can_release = has_perm(membership, "records.manage") and hold.is_active
    context = {
        "hold": hold,
        "scope": scope_labels(organization, hold.record_types, hold.account_ids),
        "can_release": can_release,
        "release_form": release_form or (ReleaseHoldForm() if can_release else None),
    }
    status = 400 if release_form is not None and release_form.errors else 200
    return render(request, "governance/records/hold_detail.html", context, status=status)


@login_required
@require_GET
def legal_hold_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _hold_page(request, _allowed(request, "records.view"), pk)


@login_required
@require_POST
def legal_hold_release_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _allowed(request, "records.manage")
    hold = legal_hold_get_for_org(membership.organization, pk)
    form = ReleaseHoldForm(request.POST)
    if form.is_valid():
        try:
            services.legal_hold_release(
                hold=hold, actor=_user(request), reason=form.cleaned_data["reason"], request=request
            )
        except ValidationError as error:
            _attach_errors(form, error)
        else:
            messages.success(request, _("Legal hold “%(name)s” released.") % {"name": hold.name})
            return HttpResponseRedirect(reverse("governance:legal_hold", args=[hold.pk]))
    return _hold_page(request, membership, pk, release_form=form)


# ---------------------------------------------------------------------------
# Records-request exports


def _exports_page(
    request: HttpRequest, membership: Membership, export_form: RecordsExportForm | None = None
) -> HttpResponse:
    organization = membership.organization
    can_export = has_perm(membership, "records.export")
    if can_export and export_form is None:
        export_form = RecordsExportForm(organization=organization)
    exports = list(records_exports_for_org(organization)[:100])
    for export in exports:
        export.scope = scope_labels(organization, export.record_types, export.account_ids)  # type: ignore[attr-defined]
    context = {"exports": exports, "can_export": can_export, "export_form": export_form}
    status = 400 if export_form is not None and export_form.errors else 200
    return render(request, "governance/records/exports.html", context, status=status)


@login_required
@require_GET
def records_exports_view(request: HttpRequest) -> HttpResponse:
    return _exports_page(request, _allowed(request, "records.view"))


@login_required
@require_POST
def records_export_create_view(request: HttpRequest) -> HttpResponse:
    membership = _allowed(request, "records.export")
    form = RecordsExportForm(request.POST, organization=membership.organization)
    if form.is_valid():
        try:
            export = services.records_export_request(
                organization=membership.organization,
                actor=_user(request),
                record_types=form.cleaned_data["record_types"],
                account_ids=form.account_ids(),
                start_date=form.cleaned_data["start_date"],
                end_date=form.cleaned_data["end_date"],
                reference=form.cleaned_data["reference"],
                request=request,
            )
        except ValidationError as error:
            _attach_errors(form, error)
        else:
            messages.success(request, _("The export is being built."))
            return HttpResponseRedirect(reverse("governance:records_export", args=[export.pk]))
    return _exports_page(request, membership, export_form=form)


def _progress_context(export: RecordsExport) -> dict[str, Any]:
    return {
        "export": export,
        "finished": export.is_finished,
        "ready": export.status == ExportStatus.READY,
    }


@login_required
@require_GET
def records_export_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _allowed(request, "records.view")
    export = records_export_get_for_org(membership.organization, pk)
    context = {
        **_progress_context(export),
        "scope": scope_labels(membership.organization, export.record_types, export.account_ids),
    }
    return render(request, "governance/records/export_detail.html", context)


@login_required
@require_GET
def records_export_progress_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress partial that the detail page polls (htmx) while the export builds."""
    membership = _allowed(request, "records.view")
    export = records_export_get_for_org(membership.organization, pk)
    context = {
        **_progress_context(export),
        # The page's live region is updated only when the status changes, so a
        # screen reader hears "ready" once, not a repeat every second.
        "status_changed": request.GET.get("seen") != export.status,
    }
    return render(request, "governance/records/_export_progress.html", context)


@login_required
@require_GET
def records_export_download_view(request: HttpRequest, pk: int) -> FileResponse:
    membership = _allowed(request, "records.view")
    export = records_export_get_for_org(membership.organization, pk)
    if export.status != ExportStatus.READY or not export.file:
        raise Http404
    services.records_export_record_download(export=export, actor=_user(request), request=request)
    return FileResponse(
        export.file.open("rb"),
        as_attachment=True,
        filename=(export.file.name or "").rsplit("/", 1)[-1],
        content_type="application/zip",
    )
