"""Bulk import of posts from a spreadsheet: upload, preview every row with its problems,
then import as drafts or for review (small files at once, large ones by a worker with
a progress bar)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.selectors import channel_accounts_for_membership
from governance.models import Membership
from governance.selectors.access import request_membership, require_perm
from publishing.models import ImportBatch, ImportStatus
from publishing.services import bulk_import as services
from publishing.views.posts import render_page

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROWS_PER_PAGE = 100
# Up to this many rows are imported while the person waits; more go to a worker.
INLINE_ROWS = 100


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet"),
        help_text=gettext_lazy(
            "CSV (comma or semicolon) or Excel (.xlsx), at most 5 MB and 10,000 rows. "
            "The first row names the columns, as in the template."
        ),
        widget=forms.FileInput(
            attrs={"accept": ".csv,.xlsx,text/csv,application/vnd.ms-excel," + XLSX_MIME}
        ),
    )


class ImportStartForm(forms.Form):
    submit_for_review = forms.TypedChoiceField(
        label=gettext_lazy("Make the posts"),
        choices=[
            ("0", gettext_lazy("as drafts, to finish in the composer")),
            ("1", gettext_lazy("and send them for review")),
        ],
        coerce=lambda value: value == "1",
        initial="0",
        widget=forms.RadioSelect,
    )
    only_valid_rows = forms.TypedChoiceField(
        label=gettext_lazy("If some rows have problems"),
        choices=[
            ("0", gettext_lazy("import nothing until every row is right")),
            ("1", gettext_lazy("import the posts whose rows are all right, skip the rest")),
        ],
        coerce=lambda value: value == "1",
        initial="0",
        widget=forms.RadioSelect,
    )


def _membership(request: HttpRequest) -> Membership:
    membership = request_membership(request)
    require_perm(membership, "posts.write")
    return membership


def _batch(membership: Membership, pk: int) -> ImportBatch:
    batch = ImportBatch.objects.filter(organization=membership.organization, pk=pk).first()
    if batch is None:
        raise Http404
    return batch


@login_required
@require_http_methods(["GET", "POST"])
def import_upload_view(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                report = services.import_read(
                    membership=membership,
                    file_name=upload.name or "",
                    content=upload.read(services.MAX_FILE_BYTES + 1),
                )
            except ValidationError as error:
                for message in error.messages:
                    form.add_error("file", message)
            else:
                batch = services.import_batch_save(
                    membership=membership, report=report, request=request
                )
                return redirect("publishing:import_detail", pk=batch.pk)
        status = 400
    recent = ImportBatch.objects.filter(organization=membership.organization)[:10]
    return render_page(
        request,
        "publishing/import/upload.html",
        {"form": form, "recent": recent, "columns": services.COLUMNS},
        status=status,
    )


def _detail_context(request: HttpRequest, batch: ImportBatch) -> dict[str, Any]:
    report = services.ImportReport.from_json(batch.report)
    page = Paginator(report.rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    done, total = services.import_progress(batch)
    return {
        "batch": batch,
        "report": report,
        "problem_rows": report.problem_rows,
        "page": page,
        "ok_count": len(report.ok_rows),
        "start_form": ImportStartForm(),
        "progress_done": done,
        "progress_total": total,
    }


@login_required
@require_GET
def import_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    batch = _batch(membership, pk)
    return render_page(request, "publishing/import/detail.html", _detail_context(request, batch))


@login_required
@require_GET
def import_progress_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    batch = _batch(membership, pk)
    if batch.status != ImportStatus.IMPORTING:
        # Done (or failed): htmx swaps in the whole page's answer.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = request.path.rsplit("progress/", 1)[0]
        return response
    return render(request, "publishing/import/_progress.html", _detail_context(request, batch))


@login_required
@require_POST
def import_start_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    batch = _batch(membership, pk)
    form = ImportStartForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how to import the posts."))
        return redirect("publishing:import_detail", pk=batch.pk)
    submit = form.cleaned_data["submit_for_review"]
    only_valid = form.cleaned_data["only_valid_rows"]
    try:
        started = services.import_start(
            membership=membership,
            batch=batch,
            submit=submit,
            only_valid=only_valid,
            inline=batch.row_count <= INLINE_ROWS,
            request=request,
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("publishing:import_detail", pk=batch.pk)
    if started is not None:
        messages.success(
            request,
            _("Imported %(posts)s from %(file)s.")
            % {"posts": services.posts_phrase(started.posts), "file": batch.file_name},
        )
    return redirect("publishing:import_detail", pk=batch.pk)


@login_required
@require_GET
def import_problems_csv_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    batch = _batch(membership, pk)
    report = services.ImportReport.from_json(batch.report)
    response = HttpResponse(services.problems_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-problems.csv"'
    return response


@login_required
@require_GET
def import_template_view(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    account = channel_accounts_for_membership(membership).order_by("pk").first()
    tz = services.organization_zone(membership.organization)
    body = services.template_csv(account.handle if account else "@account.example", tz)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="govsocial-posts-template.csv"'
    return response
