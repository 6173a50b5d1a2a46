"""Importing the organization's own events from iCal: upload a file or subscribe to a
URL, see what would change, then import (managers and admins)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from governance.selectors.access import request_membership_with_perm
from publishing.forms_dates import CalendarImportForm, CalendarNewVersionForm
from publishing.models import CalendarSource
from publishing.selectors_dates import (
    calendar_source_get_for_membership,
    calendar_sources_for_membership,
)
from publishing.services.ical_import import (
    IcalError,
    calendar_source_check,
    calendar_source_delete,
    calendar_source_discard,
    calendar_source_import,
    calendar_source_preview,
)
from publishing.views.posts import render_page

# The preview lists this many events of each kind at most (the counts are exact).
PREVIEW_LIMIT = 300


def _error_text(error: IcalError) -> str:
    return " ".join(str(message) for message in error.messages)


@login_required
@require_http_methods(["GET", "POST"])
def calendar_import_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership_with_perm(request, "dates.manage")
    form = CalendarImportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                source = calendar_source_check(
                    membership=membership,
                    name=form.cleaned_data["name"],
                    url=form.cleaned_data["url"] or "",
                    upload=form.cleaned_data["file"],
                )
            except IcalError as error:
                form.add_error("file" if form.cleaned_data["file"] else "url", _error_text(error))
            else:
                return redirect("publishing:calendar_source", source.pk)
        status = 400
    sources = list(
        calendar_sources_for_membership(membership)
        .filter(is_active=True)
        .annotate(event_count=Count("dates"))
        .order_by("name", "pk")
    )
    return render_page(
        request,
        "publishing/dates/import.html",
        {"form": form, "sources": sources},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def calendar_source_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The source: the preview of a checked calendar, or its events and what to do next.
    A POST here is a new version of an imported file."""
    membership = request_membership_with_perm(request, "dates.manage")
    source = calendar_source_get_for_membership(membership, pk)
    version_form = CalendarNewVersionForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    status = 200
    if request.method == "POST":
        if source.is_subscription:
            return redirect("publishing:calendar_source", source.pk)
        if version_form.is_valid():
            try:
                source = calendar_source_check(
                    membership=membership,
                    name=source.name,
                    upload=version_form.cleaned_data["file"],
                    source=source,
                )
            except IcalError as error:
                version_form.add_error("file", _error_text(error))
            else:
                return redirect("publishing:calendar_source", source.pk)
        status = 400
    plan = None
    if source.pending:
        try:
            plan = calendar_source_preview(source)
        except IcalError as error:
            messages.error(request, _error_text(error))
    events = list(source.dates.order_by("starts_on", "starts_at", "pk")[:PREVIEW_LIMIT])
    return render_page(
        request,
        "publishing/dates/source.html",
        {
            "source": source,
            "plan": plan,
            "limit_slice": f":{PREVIEW_LIMIT}",
            "events": events,
            "event_count": source.dates.count(),
            "version_form": version_form,
        },
        status=status,
    )


@login_required
@require_POST
def calendar_source_confirm_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership_with_perm(request, "dates.manage")
    source = calendar_source_get_for_membership(membership, pk)
    try:
        plan = calendar_source_import(membership=membership, source=source, request=request)
    except IcalError as error:
        messages.error(request, _error_text(error))
        return redirect("publishing:calendar_source", source.pk)
    messages.success(
        request,
        _("%(name)s was imported: %(added)d added, %(changed)d changed, %(removed)d removed.")
        % {
            "name": source.name,
            "added": len(plan.added),
            "changed": len(plan.changed),
            "removed": len(plan.removed),
        },
    )
    return redirect("publishing:calendar_source", source.pk)


@login_required
@require_POST
def calendar_source_check_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Fetch a subscription now and show what would change."""
    membership = request_membership_with_perm(request, "dates.manage")
    source = calendar_source_get_for_membership(membership, pk)
    if source.is_subscription:
        try:
            calendar_source_check(membership=membership, name=source.name, source=source)
        except IcalError as error:
            messages.error(request, _error_text(error))
    return redirect("publishing:calendar_source", source.pk)


@login_required
@require_POST
def calendar_source_discard_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership_with_perm(request, "dates.manage")
    source = calendar_source_get_for_membership(membership, pk)
    was_active = source.is_active
    calendar_source_discard(membership=membership, source=source, request=request)
    messages.info(request, _("Nothing was imported."))
    if was_active:
        return redirect("publishing:calendar_source", source.pk)
    return redirect("publishing:calendar_import")


@login_required
@require_POST
def calendar_source_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership_with_perm(request, "dates.manage")
    source: CalendarSource = calendar_source_get_for_membership(membership, pk)
    calendar_source_delete(membership=membership, source=source, request=request)
    messages.success(
        request,
        _("%(name)s and its events were removed from the calendar.") % {"name": source.name},
    )
    return redirect("publishing:calendar_import")
