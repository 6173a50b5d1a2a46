"""The records search (information requests): find anything kept, by words in any of
our languages and the request's filters; open an archived post with its versions,
comments and capture; export the matches as a records export (zip and manifest, built
in the background with a progress bar on governance's export page).

Searching is reading records for an information request, so every search is audited
(who searched for what); exporting is audited by the export service."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import channel_accounts_for_membership
from archive.forms import (
    RecordExportForm,
    RecordSearchForm,
)
from archive.models import (
    RecordEntry,
    RecordKind,
)
from archive.selectors import (
    RECORDS_PAGE_SIZE,
    RecordQuery,
    archived_post_get_for_membership,
)
from archive.services.search import records_search_export_request, records_search_run
from governance.models import Membership
from governance.selectors.access import has_perm
from governance.services.audit import audit_record
from governance.services.records import day_bounds
from inbox.views.common import membership_with, user_of

SEARCH_PERM = "records.view"
EXPORT_PERM = "records.export"


def _query(form: RecordSearchForm, membership: Membership) -> RecordQuery:
    data = form.cleaned_data
    start_day: date | None = data.get("start")
    end_day: date | None = data.get("end")
    start, end = day_bounds(membership.organization, start_day, end_day)
    account = data.get("account")
    return RecordQuery(
        text=data.get("q") or "",
        account_ids=(account.pk,) if account is not None else (),
        start=start,
        end=end,
        author=data.get("author") or "",
        kinds=(data["kind"],) if data.get("kind") else (),
    )


def _link(entry: RecordEntry) -> str:
    if entry.post_id is not None:
        return reverse("archive:archived_post", args=[entry.post_id])
    if entry.kind == RecordKind.INBOX_ITEM:
        return reverse("inbox:item", args=[entry.object_id])
    return ""


@login_required
@require_GET
def records_search_page(request: HttpRequest) -> HttpResponse:
    membership = membership_with(request, SEARCH_PERM)
    accounts = channel_accounts_for_membership(membership)
    form = RecordSearchForm(request.GET or None, accounts=accounts)
    context: dict[str, Any] = {
        "form": form,
        "can_export": has_perm(membership, EXPORT_PERM),
        "results": None,
    }
    if form.searched and form.is_valid():
        query = _query(form, membership)
        try:
            page = max(int(request.GET.get("page") or 1), 1)
        except ValueError:
            page = 1
        results = records_search_run(
            membership=membership,
            actor=user_of(request),
            query=query,
            offset=(page - 1) * RECORDS_PAGE_SIZE,
            request=request,
        )
        for entry in results.entries:
            entry.link = _link(entry)  # type: ignore[attr-defined]
        params = request.GET.copy()
        params.pop("page", None)
        context.update(
            results=results,
            page=page,
            has_next=page * RECORDS_PAGE_SIZE < results.count,
            query_string=params.urlencode(),
            export_form=RecordExportForm(request.GET, accounts=accounts),
        )
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "archive/records_search.html", context, status=status)


@login_required
@require_POST
def records_search_export(request: HttpRequest) -> HttpResponse:
    """Export the search's matches, each with the archived post it belongs to (and that
    post's capture as it looked), as a records export."""
    membership = membership_with(request, EXPORT_PERM)
    accounts = channel_accounts_for_membership(membership)
    form = RecordExportForm(request.POST, accounts=accounts)
    if not form.is_valid():
        messages.error(request, _("Check the search before exporting it."))
        return HttpResponseRedirect(reverse("archive:records"))
    try:
        export = records_search_export_request(
            membership=membership,
            actor=user_of(request),
            query=_query(form, membership),
            start_date=form.cleaned_data.get("start"),
            end_date=form.cleaned_data.get("end"),
            reference=form.cleaned_data.get("reference") or "",
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(reverse("archive:records"))
    messages.success(request, _("The export is being built."))
    return HttpResponseRedirect(reverse("governance:records_export", args=[export.pk]))


@login_required
@require_GET
def archived_post(request: HttpRequest, pk: int) -> HttpResponse:
    membership = membership_with(request, SEARCH_PERM)
    post = archived_post_get_for_membership(membership, pk)
    context = {
        "post": post,
        "versions": list(post.versions.order_by("valid_from", "pk")),
        "comments": list(post.comments.order_by("posted_at", "pk")),
    }
    return render(request, "archive/archived_post.html", context)


@login_required
@require_GET
def archived_post_capture(request: HttpRequest, pk: int) -> FileResponse:
    membership = membership_with(request, SEARCH_PERM)
    post = archived_post_get_for_membership(membership, pk)
    if not post.capture:
        raise Http404
    audit_record(
        action="archive.capture_downloaded",
        organization=membership.organization,
        actor=user_of(request),
        target=post,
        new={"remote_id": post.remote_id},
        request=request,
    )
    return FileResponse(
        post.capture.open("rb"),
        as_attachment=True,
        filename=f"post-{post.pk}-as-it-looked.pdf",
        content_type="application/pdf",
    )
