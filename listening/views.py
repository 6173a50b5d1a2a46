"""Listening pages: watches, each watch's stream, actions on found posts, cases."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from governance.models import Membership
from governance.selectors.access import has_perm, require_perm
from governance.selectors.access import request_membership_with_perm as _membership
from listening.forms import (
    CaseCloseForm,
    CaseForm,
    CorrectionForm,
    MarkMisinformationForm,
    StreamFilterForm,
    WatchForm,
)
from listening.models import CaseStatus, ListeningPost, Watch
from listening.selectors import (
    StreamCursor,
    StreamFilters,
    alert_get_for_membership,
    case_get_for_membership,
    cases_for_membership,
    daily_volume,
    hourly_volume,
    listening_post_get_for_membership,
    open_cases_for_membership,
    recent_alerts,
    searchable_accounts_for_membership,
    stream_choices,
    stream_page,
    watch_get_for_membership,
    watch_list_rows,
)
from listening.services import (
    alert_acknowledge,
    case_close,
    case_open,
    case_set_correction,
    listening_post_link_correction,
    listening_post_mark_misinformation,
    listening_post_to_inbox,
    watch_follow,
    watch_pause_publishing,
    watch_save,
)


def _back(request: HttpRequest, post: ListeningPost) -> HttpResponse:
    """Back to the stream the action came from (its filters kept), else the watch's stream."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("listening:stream", pk=post.watch_id)


# --- watches -------------------------------------------------------------------------------------


@login_required
@require_GET
def watch_list_view(request: HttpRequest) -> HttpResponse:
    membership = _membership(request, "listening.view")
    return render(
        request,
        "listening/watches.html",
        {
            "rows": watch_list_rows(membership),
            "can_manage": has_perm(membership, "listening.manage"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def watch_edit_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    membership = _membership(request, "listening.view")
    watch = watch_get_for_membership(membership, pk) if pk is not None else None
    require_perm(membership, "listening.manage")
    accounts = searchable_accounts_for_membership(membership)
    if watch is not None:
        # Keep the accounts already chosen, even one this member cannot see themselves.
        accounts += [a for a in watch.channel_accounts.all() if a not in accounts]
    status = 200
    if request.method == "POST":
        form = WatchForm(request.POST, accounts=accounts, membership=membership, watch=watch)
        if form.is_valid():
            data = form.cleaned_data
            try:
                watch = watch_save(
                    membership=membership,
                    watch=watch,
                    name=data["name"],
                    terms=data["terms"],
                    excluded_terms=data["excluded_terms"],
                    prefix_match=data["prefix_match"],
                    channel_accounts=list(data["channel_accounts"]),
                    followers=list(data["followers"]),
                    alert_factor=data["alert_factor"],
                    alert_min_count=data["alert_min_count"],
                    is_active=data["is_active"],
                    request=request,
                )
            except ValidationError as exc:
                form.apply_service_errors(exc)
            else:
                messages.success(
                    request,
                    _("The watch is saved. Matching posts appear here within minutes."),
                )
                return redirect("listening:stream", pk=watch.pk)
        status = 400
    else:
        form = WatchForm(accounts=accounts, membership=membership, watch=watch)
    return render(
        request,
        "listening/watch_form.html",
        {"form": form, "watch": watch, "no_accounts": not accounts},
        status=status,
    )


@login_required
@require_POST
def watch_follow_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request, "listening.view")
    watch = watch_get_for_membership(membership, pk)
    follow = request.POST.get("follow") == "1"
    watch_follow(membership=membership, watch=watch, follow=follow, request=request)
    messages.success(
        request,
        _("You follow this watch: its alerts come to you.")
        if follow
        else _("You no longer follow this watch."),
    )
    return redirect("listening:stream", pk=watch.pk)


@login_required
@require_POST
def watch_pause_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request, "listening.view")
    watch = watch_get_for_membership(membership, pk)
    require_perm(membership, "publishing.pause")
    try:
        watch_pause_publishing(membership=membership, watch=watch, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("listening:stream", pk=watch.pk)
    messages.success(request, _("Publishing is paused. Resume it on the crisis pause page."))
    return redirect("publishing:pause")


@login_required
@require_POST
def alert_acknowledge_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Say an alert is seen and in hand (``listening.manage``, as in the API; audited by
    the service). Another organization's alert is a 404."""
    membership = _membership(request, "listening.view")
    alert = alert_get_for_membership(membership, pk)
    already = alert.acknowledged_at is not None
    alert = alert_acknowledge(membership=membership, alert=alert, request=request)
    if already:
        messages.info(request, _("This alert was already acknowledged."))
    else:
        messages.success(request, _("Alert acknowledged."))
    return redirect("listening:stream", pk=alert.watch_id)


# --- the stream ----------------------------------------------------------------------------------


def _stream_context(request: HttpRequest, membership: Membership, watch: Watch) -> dict[str, Any]:
    networks, languages = stream_choices(watch, request.GET.get("language", ""))
    form = StreamFilterForm(request.GET or None, networks=networks, languages=languages)
    filters = StreamFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = StreamFilters(
            network=data["network"],
            language=data["language"],
            misinformation=data["misinformation"],
            period_hours=int(data["period"] or 0),
        )
    stream = stream_page(
        watch,
        filters,
        before=StreamCursor.parse(request.GET.get("before", "")),
        after=StreamCursor.parse(request.GET.get("after", "")),
    )
    query = request.GET.copy()
    for key in ("before", "after", "page"):
        query.pop(key, None)
    can_manage = has_perm(membership, "listening.manage")
    hourly = hourly_volume(watch)
    return {
        "watch": watch,
        "form": form,
        "posts": stream.posts,
        "older": stream.older,
        "newer": stream.newer,
        "query": query.urlencode(),
        "here": request.get_full_path(),
        "hourly": hourly,
        "hourly_max": max((row.count for row in hourly), default=0),
        "daily": daily_volume(watch),
        "alerts": recent_alerts(watch),
        "following": watch.followers.filter(pk=membership.user_id).exists(),
        "can_manage": can_manage,
        "can_reply": has_perm(membership, "inbox.reply"),
        "can_pause": has_perm(membership, "publishing.pause"),
        "cases": list(open_cases_for_membership(membership).order_by("-opened_at")[:50])
        if can_manage
        else [],
        "accounts": ", ".join(a.handle for a in watch.channel_accounts.all()),
        "sources": list(watch.sources.select_related("channel_account")),
    }


@login_required
@require_GET
def stream_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request, "listening.view")
    watch = watch_get_for_membership(membership, pk)
    return render(request, "listening/stream.html", _stream_context(request, membership, watch))


# --- actions on a found post ---------------------------------------------------------------------


@login_required
@require_POST
def post_to_inbox_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request, "listening.view")
    post = listening_post_get_for_membership(membership, pk)
    try:
        item = listening_post_to_inbox(membership=membership, post=post, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Sent to the inbox as an item to answer."))
        return redirect("inbox:item", pk=item.pk)
    return _back(request, post)


@login_required
@require_POST
def post_misinformation_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request, "listening.view")
    post = listening_post_get_for_membership(membership, pk)
    require_perm(membership, "listening.manage")
    form = MarkMisinformationForm(request.POST, cases=open_cases_for_membership(membership))
    if not form.is_valid():
        messages.error(request, _("Choose an open case, or none."))
        return _back(request, post)
    try:
        listening_post_mark_misinformation(
            membership=membership, post=post, case=form.cleaned_data["case"], request=request
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Marked as misinformation."))
    return _back(request, post)


@login_required
@require_POST
def post_correction_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request, "listening.view")
    post = listening_post_get_for_membership(membership, pk)
    require_perm(membership, "listening.manage")
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the full address of our correcting post."))
        return _back(request, post)
    listening_post_link_correction(
        membership=membership, post=post, url=form.cleaned_data["url"], request=request
    )
    messages.success(request, _("Our correction is linked to the post."))
    return _back(request, post)


# --- misinformation cases ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def case_list_view(request: HttpRequest) -> HttpResponse:
    membership = _membership(request, "listening.view")
    can_manage = has_perm(membership, "listening.manage")
    form = CaseForm(request.POST or None)
    status = 200
    if request.method == "POST":
        require_perm(membership, "listening.manage")
        if form.is_valid():
            try:
                case = case_open(
                    membership=membership,
                    claim=form.cleaned_data["claim"],
                    correction_url=form.cleaned_data["correction_url"],
                    request=request,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("The case is open."))
                return redirect("listening:case", pk=case.pk)
        status = 400
    cases = list(cases_for_membership(membership).order_by("status", "-opened_at")[:200])
    return render(
        request,
        "listening/cases.html",
        {"cases": cases, "form": form, "can_manage": can_manage},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request, "listening.view")
    case = case_get_for_membership(membership, pk)
    can_manage = has_perm(membership, "listening.manage")
    close_form = CaseCloseForm()
    correction_form = CorrectionForm(initial={"url": case.correction_url})
    status = 200
    if request.method == "POST":
        require_perm(membership, "listening.manage")
        action = request.POST.get("action")
        try:
            if action == "close":
                close_form = CaseCloseForm(request.POST)
                if close_form.is_valid():
                    case_close(
                        membership=membership,
                        case=case,
                        note=close_form.cleaned_data["note"],
                        request=request,
                    )
                    messages.success(request, _("The case is closed."))
                    return redirect("listening:case", pk=case.pk)
            elif action == "correction":
                correction_form = CorrectionForm(request.POST)
                if correction_form.is_valid():
                    case_set_correction(
                        membership=membership,
                        case=case,
                        correction_url=correction_form.cleaned_data["url"],
                        request=request,
                    )
                    messages.success(request, _("Our correction is linked to the case."))
                    return redirect("listening:case", pk=case.pk)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        status = 400
    return render(
        request,
        "listening/case.html",
        {
            "case": case,
            "posts": list(
                ListeningPost.objects.filter(case=case).order_by("-posted_at", "-id")[:200]
            ),
            "reach": list(case.reach.all()[:500]),
            "can_manage": can_manage and case.status == CaseStatus.OPEN,
            "close_form": close_form,
            "correction_form": correction_form,
        },
        status=status,
    )
