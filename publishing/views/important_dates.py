"""The organization's important dates: the list everyone sees, and the pages where
managers and admins add, change and delete them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from governance.holidays import country_name, organization_country
from governance.selectors.access import has_perm, request_membership_with_perm
from publishing.forms_dates import ImportantDateForm
from publishing.models import ImportantDate
from publishing.selectors_dates import (
    important_date_get_for_membership,
    important_dates_for_membership,
)
from publishing.services.important_dates import (
    important_date_create,
    important_date_delete,
    important_date_update,
)
from publishing.views.posts import render_page

# The list page shows this many dates at most (an organization marks a few dozen a year).
LIST_LIMIT = 500


@login_required
@require_GET
def important_dates_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership_with_perm(request, "posts.view")
    items = list(
        important_dates_for_membership(membership)
        .select_related("source")
        .order_by("-starts_on", "-pk")[:LIST_LIMIT]
    )
    return render_page(
        request,
        "publishing/dates/list.html",
        {
            "items": items,
            "can_manage": has_perm(membership, "dates.manage"),
            "can_manage_org": has_perm(membership, "org.manage"),
            "country": country_name(organization_country(membership.organization)),
        },
    )


def _save(request: HttpRequest, item: ImportantDate | None) -> HttpResponse:
    membership = request_membership_with_perm(request, "dates.manage")
    if item is not None and item.source_id:
        # An imported event changes at its source; an edit here would be overwritten.
        messages.error(request, _("This event is imported from a calendar: change it there."))
        return redirect("publishing:calendar_source", item.source_id)
    initial = ImportantDateForm.initial_for(item) if item else {"kind": "event"}
    form = ImportantDateForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                if item is None:
                    item = important_date_create(
                        membership=membership, request=request, **form.cleaned_data
                    )
                    messages.success(
                        request, _("%(name)s is on the calendar.") % {"name": item.name}
                    )
                else:
                    item = important_date_update(
                        membership=membership, item=item, request=request, **form.cleaned_data
                    )
                    messages.success(request, _("%(name)s was saved.") % {"name": item.name})
            except ValidationError as error:
                form.add_error("ends_on" if error.code == "ends_before_start" else None, error)
            else:
                return redirect("publishing:important_dates")
        status = 400
    return render_page(
        request, "publishing/dates/form.html", {"form": form, "item": item}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def important_date_add_view(request: HttpRequest) -> HttpResponse:
    return _save(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def important_date_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership_with_perm(request, "posts.view")
    return _save(request, important_date_get_for_membership(membership, pk))


@login_required
@require_POST
def important_date_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership_with_perm(request, "posts.view")
    item = important_date_get_for_membership(membership, pk)
    important_date_delete(membership=membership, item=item, request=request)
    messages.success(request, _("%(name)s was deleted from the calendar.") % {"name": item.name})
    return redirect("publishing:important_dates")
