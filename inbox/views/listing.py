"""The inbox list: filters, saved views, bulk actions, and new rows without reloading."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.models import AccountStatus
from accounts.selectors import channel_accounts_for_membership
from governance.models import Membership
from governance.selectors.access import has_perm
from inbox import services
from inbox.forms import BulkForm, FilterForm, SavedViewForm, format_before
from inbox.models import Priority
from inbox.presentation import filter_chips, inbox_rows, select_fields
from inbox.selectors import (
    InboxFilterChoices,
    inbox_counts,
    inbox_items_for_membership,
    inbox_networks,
    inbox_new_items,
    inbox_row_list,
    saved_view_get,
    saved_views_for,
)
from inbox.views.common import error_text, membership_with, user_of

FILTER_NAMES = ("account", "network", "status", "assignee", "tag", "priority", "overdue")
# The id of the pane an item opens in beside the list (htmx sends it as HX-Target).
PANE_ID = "inbox-pane"
# "Check for new messages now" reads at most this many pages per account.
SYNC_NOW_PAGES = 5


def filter_query(data: QueryDict) -> str:
    """The filters of ``data`` as a query string (no page position), for links and views."""
    pairs = [(name, value) for name in FILTER_NAMES for value in data.getlist(name) if value]
    return urlencode(pairs)


def list_context(
    request: HttpRequest, membership: Membership, *, choices: InboxFilterChoices | None = None
) -> dict[str, Any]:
    """What the list pane shows, for the list page and beside an open item (a constant
    number of queries, whatever the number of rows). ``choices``: the organization's
    people and tags, when the caller already read them."""
    # Its own ids: beside an open item, the item's forms have fields of the same names.
    form = FilterForm(request.GET, membership=membership, auto_id="filter_%s", choices=choices)
    filters = form.filters(request.GET.get("before", ""))
    page = inbox_row_list(membership, filters)
    query = filter_query(request.GET)
    can_reply = has_perm(membership, "inbox.reply")
    next_url = ""
    if page.next_before is not None:
        next_url = (
            reverse("inbox:index")
            + "?"
            + "&".join(
                part
                for part in (query, urlencode({"before": format_before(page.next_before)}))
                if part
            )
        )
    filter_selects = select_fields(
        form, ["account", "network", "status", "assignee", "tag", "priority"]
    )
    pairs = [(name, value) for name in FILTER_NAMES for value in request.GET.getlist(name) if value]
    chips = filter_chips(
        filter_selects, overdue=filters.overdue, pairs=pairs, base=reverse("inbox:index")
    )
    return {
        "form": form,
        "rows": inbox_rows(page.items, tags=page.tags),
        "next_url": next_url,
        "is_first_page": filters.before is None,
        "is_filtered": filters.is_filtered,
        "query": query,
        "counts": inbox_counts(membership),
        "saved_views": saved_views_for(membership),
        "view_form": SavedViewForm(initial={"query": query}),
        "can_reply": can_reply,
        "can_approve": has_perm(membership, "inbox.approve"),
        "filter_selects": filter_selects,
        "chips": chips,
        # The title says which filters are in force (WCAG 2.4.2).
        "filter_summary": ", ".join(str(chip.label) for chip in chips),
        "overdue": filters.overdue,
        "bulk_selects": (
            select_fields(
                # Its own ids: the filter form above has fields of the same names.
                BulkForm(
                    organization_id=membership.organization_id,
                    item_ids=[],
                    auto_id="bulk_%s",
                    people=form.people,
                ),
                ["action", "assignee", "status", "priority"],
            )
            if can_reply
            else []
        ),
        "priorities": Priority,
    }


@login_required
@require_GET
def inbox_list(request: HttpRequest) -> HttpResponse:
    membership = membership_with(request, "inbox.view")
    return render(request, "inbox/list.html", list_context(request, membership))


@login_required
@require_GET
def inbox_new_rows(request: HttpRequest) -> HttpResponse:
    """Rows that arrived since ``after`` (the newest row on the page), for the list's
    poll. 204 when there are none; the count goes in an ``HX-Trigger`` event."""
    membership = membership_with(request, "inbox.view")
    after = request.GET.get("after", "")
    if not after.isdigit():
        return HttpResponse(status=204)
    filters = FilterForm(request.GET, membership=membership).filters()
    page = inbox_new_items(membership, filters, after_id=int(after))
    items = page.items
    if not items:
        return HttpResponse(status=204)
    response = render(
        request,
        "inbox/_rows.html",
        {
            "rows": inbox_rows(items, tags=page.tags),
            "can_reply": has_perm(membership, "inbox.reply"),
            "fresh": True,
        },
    )
    message = ngettext(
        "%(count)d new item in the inbox.", "%(count)d new items in the inbox.", len(items)
    ) % {"count": len(items)}
    response["HX-Trigger"] = json.dumps(
        {"inboxNewItems": {"count": len(items), "message": message}}
    )
    return response


@login_required
@require_POST
def inbox_bulk(request: HttpRequest) -> HttpResponse:
    membership = membership_with(request, "inbox.reply")
    ids = [int(value) for value in request.POST.getlist("items") if value.isdigit()]
    visible = list(
        inbox_items_for_membership(membership)
        .filter(pk__in=ids)
        .select_related("channel_account", "organization")
        .order_by("-posted_at", "-pk")
    )
    # Items the member may not see are left out, as if they had not been posted.
    data = request.POST.copy()
    data.setlist("items", [str(item.pk) for item in visible])
    form = BulkForm(
        data, organization_id=membership.organization_id, item_ids=[item.pk for item in visible]
    )
    back = reverse("inbox:index") + (
        "?" + request.POST.get("query", "") if request.POST.get("query") else ""
    )
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(back)
    chosen = set(form.cleaned_data["items"])
    try:
        result = services.inbox_items_bulk(
            items=[item for item in visible if item.pk in chosen],
            action=form.cleaned_data["action"],
            value=form.value(),
            actor=user_of(request),
            membership=membership,
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(back)
    if result.done:
        messages.success(
            request,
            ngettext("%(count)d item updated.", "%(count)d items updated.", result.done)
            % {"count": result.done},
        )
    for refusal in result.refused:
        messages.error(request, refusal)
    return redirect(back)


@login_required
@require_POST
def inbox_sync_now(request: HttpRequest) -> HttpResponse:
    """Read new messages of the member's accounts now, instead of waiting for the next sync."""
    membership = membership_with(request, "inbox.reply")
    accounts = channel_accounts_for_membership(membership).filter(
        status=AccountStatus.ACTIVE, network__in=inbox_networks()
    )
    added = 0
    problems: list[str] = []
    for account in accounts.order_by("pk"):
        result = services.inbox_sync_account(account=account, max_pages=SYNC_NOW_PAGES)
        added += result.new_items
        if result.error:
            problems.append(f"{account.handle}: {result.error}")
    messages.success(
        request,
        ngettext("%(count)d new item.", "%(count)d new items.", added) % {"count": added},
    )
    for problem in problems:
        messages.error(request, problem)
    return redirect("inbox:index")


@login_required
@require_POST
def saved_view_create(request: HttpRequest) -> HttpResponse:
    membership = membership_with(request, "inbox.view")
    form = SavedViewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the view a name."))
        return redirect("inbox:index")
    # Only the list's own filters are kept, in a fixed order.
    query = filter_query(QueryDict(form.cleaned_data["query"]))
    try:
        services.saved_view_save(membership=membership, name=form.cleaned_data["name"], query=query)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("View %(name)s saved.") % {"name": form.cleaned_data["name"]})
    return redirect(reverse("inbox:index") + (f"?{query}" if query else ""))


@login_required
@require_POST
def saved_view_remove(request: HttpRequest, pk: int) -> HttpResponse:
    membership = membership_with(request, "inbox.view")
    view = saved_view_get(membership, pk)
    services.saved_view_delete(membership=membership, view=view)
    messages.success(request, _("View %(name)s removed.") % {"name": view.name})
    return redirect("inbox:index")
