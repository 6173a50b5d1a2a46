"""The calendar: month, week and list views of posts in the reader's time zone,
moving a post to another time (a form, or dragging it), and the feed address.

Local days and hours are worked out with the reader's time zone (set by
``UserPreferencesMiddleware``), one day at a time, so a day on which the clocks
change is 23 or 25 hours long and a post at 09:00 local time sits at 09:00.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import quote, urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language_info, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from governance.selectors.access import has_perm, request_membership, require_perm
from publishing.ical import (
    calendar_feed_build,
    calendar_feed_owner,
    calendar_feed_token_active,
    calendar_feed_token_create,
    calendar_feed_token_revoke,
    calendar_feed_touch,
)
from publishing.models import Post, PostStatus
from publishing.selectors import PostFilters, post_get_for_user
from publishing.selectors_calendar import (
    CalendarEntry,
    FilterChoices,
    calendar_entries_by_day,
    calendar_filter_choices,
    first_words,
    unscheduled_entries,
)
from publishing.services.posts import post_reschedule
from publishing.views.posts import publishing_nav

MONTH, WEEK, LIST = "month", "week", "list"
SPANS = ("day", "week", "month")
# A month cell shows this many posts, then "N more" (a link to the day's list).
MONTH_DAY_LIMIT = 5
# Only a scheduled post has a time that can move (the service refuses the rest).
MOVABLE_STATUSES = frozenset({PostStatus.SCHEDULED})
# Where the raw feed address waits, for one page view, after it was made.
NEW_FEED_URL_SESSION_KEY = "publishing_new_calendar_feed_url"
_PK_PLACEHOLDER = 987654321


# --- local time -------------------------------------------------------------------------------


def local_datetime(day: date, at: time, tz: tzinfo) -> datetime:
    """``day`` at ``at`` on the wall clocks of ``tz``, as an aware datetime.

    A time the clocks skip (03:30 on the last Sunday of March in Helsinki) is
    refused; a time they pass twice (03:30 on the last Sunday of October) is
    taken as the first of the two."""
    naive = datetime.combine(day, at.replace(tzinfo=None, fold=0))
    aware = naive.replace(tzinfo=tz)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise ValidationError(
            _(
                "%(time)s does not exist on %(date)s in the time zone %(zone)s: the clocks "
                "go forward then. Choose another time."
            )
            % {
                "time": at.strftime("%H:%M"),
                "date": formats.date_format(day, "SHORT_DATE_FORMAT"),
                "zone": str(tz),
            },
            code="nonexistent_time",
        )
    return aware


def week_start(day: date) -> date:
    """The Monday of ``day``'s week (ISO 8601, as in the EU)."""
    return day - timedelta(days=day.weekday())


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


# --- forms --------------------------------------------------------------------------------------


class LocalDateTimeForm(forms.Form):
    """A new date and time on the reader's wall clock; ``cleaned_data["at"]`` is aware."""

    date = forms.DateField(
        label=gettext_lazy("New date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    time = forms.TimeField(
        label=gettext_lazy("New time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "date" in data and "time" in data:
            try:
                data["at"] = local_datetime(
                    data["date"], data["time"], timezone.get_current_timezone()
                )
            except ValidationError as exc:
                self.add_error("time", exc)
        return data


def _language_name(code: str) -> str:
    try:
        return f"{get_language_info(code)['name_translated']} ({code})"
    except KeyError:
        return code


class CalendarFilterForm(forms.Form):
    """The calendar's filters. Each is optional; an empty one means "any"."""

    account = forms.TypedChoiceField(
        label=gettext_lazy("Account"), required=False, coerce=int, empty_value=None
    )
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False)
    language = forms.ChoiceField(label=gettext_lazy("Language"), required=False)
    campaign = forms.TypedChoiceField(
        label=gettext_lazy("Campaign"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, data: Any, *, choices: FilterChoices) -> None:
        super().__init__(data)
        fields = self.fields
        fields["account"].choices = [("", _("Any account"))] + [  # type: ignore[attr-defined]
            (str(a.pk), a.handle) for a in choices.accounts
        ]
        fields["status"].choices = [("", _("Any status")), *PostStatus.choices]  # type: ignore[attr-defined]
        fields["language"].choices = [("", _("Any language"))] + [  # type: ignore[attr-defined]
            (code, _language_name(code)) for code in choices.languages
        ]
        fields["campaign"].choices = [("", _("Any campaign"))] + [  # type: ignore[attr-defined]
            (str(c.pk), c.name) for c in choices.campaigns
        ]

    def filters(self) -> PostFilters:
        """The chosen filters; a field with an invalid value (shown as an error) is "any"."""
        data = self.cleaned_data if self.is_valid() else getattr(self, "cleaned_data", {})
        account, status = data.get("account"), data.get("status")
        language, campaign = data.get("language"), data.get("campaign")
        return PostFilters(
            channel_account_ids=[account] if account else [],
            statuses=[status] if status else [],
            languages=[language] if language else [],
            campaign_ids=[campaign] if campaign else [],
        )

    def query(self) -> dict[str, str]:
        """The valid, non-empty filters as query parameters, for links that keep them."""
        self.is_valid()
        return {
            name: str(value)
            for name, value in getattr(self, "cleaned_data", {}).items()
            if value not in (None, "")
        }

    @property
    def active(self) -> bool:
        return bool(self.query())


# --- what the pages show ------------------------------------------------------------------------


def _url_builder(name: str) -> Callable[[int], str]:
    """``reverse(name, args=[pk])`` for many pks at the cost of one reverse()."""
    template = reverse(name, args=[_PK_PLACEHOLDER])
    head, tail = template.split(str(_PK_PLACEHOLDER), 1)
    return lambda pk: f"{head}{pk}{tail}"


def post_url_builder() -> Callable[[int], str]:
    """The address of a post's page."""
    return _url_builder("publishing:post_detail")


@dataclass(frozen=True)
class EntryView:
    """A post as one calendar page shows it: every value worked out once, since a
    month page may show hundreds of posts."""

    post_id: int
    status: str
    status_label: str
    url: str
    move_url: str  # empty when this reader cannot move it
    time_label: str  # local "HH:MM"
    hour: int  # local hour, for the week view's rows
    iso: str  # local ISO 8601, for <time datetime>
    accounts_label: str
    summary: str


@dataclass
class CalendarDay:
    day: date
    in_period: bool
    is_today: bool
    entries: list[EntryView] = field(default_factory=list)
    more: int = 0  # posts of the day not shown (the month view shows a few a day)
    more_url: str = ""

    @property
    def iso(self) -> str:
        return self.day.isoformat()

    @property
    def label(self) -> str:
        return formats.date_format(self.day, "l j F Y")

    @property
    def number(self) -> int:
        return self.day.day


@dataclass
class WeekCell:
    day_iso: str
    entries: list[EntryView] = field(default_factory=list)


@dataclass
class HourRow:
    hour: int
    cells: list[WeekCell]

    @property
    def label(self) -> str:
        return f"{self.hour:02d}:00"


class _EntryBuilders:
    """Makes EntryViews, reversing each URL pattern once for all of them."""

    def __init__(self, *, tz: tzinfo, can_move: bool) -> None:
        self.tz = tz
        self.can_move = can_move
        self.post_url = post_url_builder()
        self.move_url = _url_builder("publishing:calendar_move")
        self.status_labels = {value: str(label) for value, label in PostStatus.choices}

    def view(self, entry: CalendarEntry) -> EntryView:
        local = entry.at.astimezone(self.tz) if entry.at else None
        movable = self.can_move and entry.status in MOVABLE_STATUSES
        return EntryView(
            post_id=entry.post_id,
            status=entry.status,
            status_label=self.status_labels.get(entry.status, entry.status),
            url=self.post_url(entry.post_id),
            move_url=self.move_url(entry.post_id) if movable else "",
            time_label=f"{local:%H:%M}" if local else "",
            hour=local.hour if local else 0,
            iso=local.isoformat() if local else "",
            accounts_label=", ".join(entry.handles) or _("no account yet"),
            summary=entry.summary or _("(no text)"),
        )

    def views(self, entries: Iterable[CalendarEntry]) -> list[EntryView]:
        return [self.view(entry) for entry in entries]


@dataclass
class Period:
    """The days one page shows, and where prev/next/today go."""

    first: date
    end: date  # exclusive
    title: str
    previous: date
    next: date


def _period(mode: str, anchor: date, span: str) -> Period:
    if mode == MONTH or (mode == LIST and span == "month"):
        first = month_start(anchor)
        return Period(
            first=first,
            end=add_months(first, 1),
            title=formats.date_format(first, "YEAR_MONTH_FORMAT"),
            previous=add_months(first, -1),
            next=add_months(first, 1),
        )
    if mode == WEEK or span == "week":
        first = week_start(anchor)
        last = first + timedelta(days=6)
        return Period(
            first=first,
            end=first + timedelta(days=7),
            title=_("Week %(number)s: %(first)s – %(last)s")  # noqa: RUF001
            % {
                "number": first.isocalendar().week,
                "first": formats.date_format(first, "j F"),
                "last": formats.date_format(last, "j F Y"),
            },
            previous=first - timedelta(days=7),
            next=first + timedelta(days=7),
        )
    return Period(
        first=anchor,
        end=anchor + timedelta(days=1),
        title=formats.date_format(anchor, "l j F Y"),
        previous=anchor - timedelta(days=1),
        next=anchor + timedelta(days=1),
    )


def _anchor(request: HttpRequest, today: date) -> date:
    raw = request.GET.get("date", "")
    try:
        return date.fromisoformat(raw) if raw else today
    except ValueError:
        return today


def _calendar_page(request: HttpRequest, mode: str) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "posts.view")
    tz = timezone.get_current_timezone()
    today = timezone.localdate(timezone=tz)
    anchor = _anchor(request, today)
    span = request.GET.get("span", "week") if mode == LIST else mode
    if span not in SPANS:
        span = "week"
    form = CalendarFilterForm(request.GET, choices=calendar_filter_choices(membership))
    filters = form.filters()
    period = _period(mode, anchor, span)

    grid_first, grid_end = period.first, period.end
    if mode == MONTH:
        # Whole weeks, Monday to Sunday, around the month.
        grid_first = week_start(period.first)
        grid_end = week_start(period.end - timedelta(days=1)) + timedelta(days=7)
    can_move = has_perm(membership, "posts.write")
    grid = [grid_first + timedelta(days=n) for n in range((grid_end - grid_first).days)]
    by_day = calendar_entries_by_day(
        membership, grid, tz, filters, per_day=MONTH_DAY_LIMIT if mode == MONTH else None
    )
    filter_query = form.query()
    day_list = f"{reverse('publishing:calendar_list')}?" + urlencode(
        {**filter_query, "span": "day"}
    )
    builders = _EntryBuilders(tz=tz, can_move=can_move)
    days = []
    for day in grid:
        found = by_day.get(day)
        days.append(
            CalendarDay(
                day=day,
                in_period=period.first <= day < period.end,
                is_today=day == today,
                entries=builders.views(found.entries) if found else [],
                more=found.more if found else 0,
                more_url=f"{day_list}&date={day.isoformat()}",
            )
        )

    def link(name: str, on: date, **extra: str) -> str:
        params = {**filter_query, "date": on.isoformat(), **extra}
        return f"{reverse(name)}?{urlencode(params)}"

    view_name = {MONTH: "publishing:calendar", WEEK: "publishing:calendar_week"}.get(
        mode, "publishing:calendar_list"
    )
    extra = {"span": span} if mode == LIST else {}
    unscheduled, unscheduled_total = unscheduled_entries(membership, filters)
    context: dict[str, Any] = {
        "publishing_nav": publishing_nav(request),
        "mode": mode,
        "span": span,
        "period": period,
        "form": form,
        "filter_query": urlencode(filter_query),
        "days": days,
        "entry_count": sum(
            found.total for day, found in by_day.items() if period.first <= day < period.end
        ),
        "time_zone": str(tz),
        "can_move": can_move,
        "previous_url": link(view_name, period.previous, **extra),
        "next_url": link(view_name, period.next, **extra),
        "today_url": link(view_name, today, **extra),
        "month_url": link("publishing:calendar", anchor),
        "week_url": link("publishing:calendar_week", anchor),
        "list_url": link("publishing:calendar_list", anchor, span="week"),
        "list_month_url": link("publishing:calendar_list", anchor, span="month"),
        "list_day_url": link("publishing:calendar_list", anchor, span="day"),
        "unscheduled": _EntryBuilders(tz=tz, can_move=False).views(unscheduled),
        "unscheduled_total": unscheduled_total,
        "feed_token": calendar_feed_token_active(membership),
        "new_feed_url": request.session.pop(NEW_FEED_URL_SESSION_KEY, ""),
        "return_q": quote(request.get_full_path(), safe=""),
    }
    if mode == MONTH:
        context["weeks"] = [days[n : n + 7] for n in range(0, len(days), 7)]
        context["weekdays"] = [formats.date_format(d.day, "l") for d in days[:7]]
    elif mode == WEEK:
        context["hours"] = _hour_rows(days)
    else:
        context["list_days"] = [d for d in days if d.entries]
    return render(request, f"publishing/calendar/{mode}.html", context)


def _hour_rows(days: list[CalendarDay]) -> list[HourRow]:
    rows = [HourRow(hour=hour, cells=[WeekCell(day.iso) for day in days]) for hour in range(24)]
    for column, day in enumerate(days):
        for view in day.entries:
            rows[view.hour].cells[column].entries.append(view)
    return rows


@login_required
@require_GET
def calendar_month_view(request: HttpRequest) -> HttpResponse:
    return _calendar_page(request, MONTH)


@login_required
@require_GET
def calendar_week_view(request: HttpRequest) -> HttpResponse:
    return _calendar_page(request, WEEK)


@login_required
@require_GET
def calendar_list_view(request: HttpRequest) -> HttpResponse:
    return _calendar_page(request, LIST)


# --- moving a post ------------------------------------------------------------------------------


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _return_to(request: HttpRequest) -> str:
    """Where to go after the move: the calendar page it was made from, if it is ours."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("publishing:calendar")


def post_words(title: str, texts: Iterable[str], pk: int) -> str:
    """How pages name a post: the first words of its text, else its title, else its number."""
    for text in texts:
        if text.strip():
            return first_words(text)
    return title or _("Post %(number)s") % {"number": pk}


def _post_label(post: Post) -> str:
    return post_words(
        post.title, post.variants.order_by("pk").values_list("text", flat=True), post.pk
    )


@login_required
@require_http_methods(["GET", "POST"])
def calendar_move_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Give a scheduled post a new date and time. The calendar's drag and drop posts
    here too (asking for JSON); both call ``post_reschedule``."""
    membership = request_membership(request)
    require_perm(membership, "posts.write")
    post = post_get_for_user(membership, pk)
    tz = timezone.get_current_timezone()
    return_to = _return_to(request)
    current = post.scheduled_at.astimezone(tz) if post.scheduled_at else None
    status = 200
    if request.method == "POST":
        form = LocalDateTimeForm(request.POST)
        if form.is_valid():
            try:
                post_reschedule(
                    post=post, membership=membership, at=form.cleaned_data["at"], request=request
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                post.refresh_from_db()
                assert post.scheduled_at is not None
                when = post.scheduled_at.astimezone(tz)
                message = _("“%(post)s” now goes out on %(date)s at %(time)s.") % {
                    "post": _post_label(post),
                    "date": formats.date_format(when.date(), "l j F Y"),
                    "time": f"{when:%H:%M}",
                }
                messages.success(request, message)
                if _wants_json(request):
                    return JsonResponse({"ok": True, "message": message})
                return redirect(return_to)
        if _wants_json(request):
            errors = [str(e) for errs in form.errors.values() for e in errs]
            return JsonResponse({"ok": False, "errors": errors}, status=400)
        status = 400
    else:
        form = LocalDateTimeForm(
            initial={"date": current.date(), "time": current.time().replace(second=0)}
            if current
            else {}
        )
    return render(
        request,
        "publishing/calendar/move.html",
        {
            "post": post,
            "post_label": _post_label(post),
            "post_url": post_url_builder()(post.pk),
            "current": current,
            "movable": post.status in MOVABLE_STATUSES,
            "form": form,
            "return_to": return_to,
            "time_zone": str(tz),
            "publishing_nav": publishing_nav(request),
        },
        status=status,
    )


# --- the feed address ---------------------------------------------------------------------------


@login_required
@require_POST
def calendar_feed_create_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    _token, raw = calendar_feed_token_create(membership=membership, request=request)
    url = request.build_absolute_uri(reverse("publishing:calendar_feed", args=[raw]))
    # Shown once, on the next page: only its hash is kept.
    request.session[NEW_FEED_URL_SESSION_KEY] = url
    messages.success(
        request,
        _("Your calendar feed address is ready. Any address you had before no longer works."),
    )
    return redirect(f"{reverse('publishing:calendar')}#calendar-feed")


@login_required
@require_POST
def calendar_feed_revoke_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    if calendar_feed_token_revoke(membership=membership, request=request):
        messages.success(request, _("Your calendar feed address no longer works."))
    else:
        messages.info(request, _("You had no calendar feed address."))
    return redirect(f"{reverse('publishing:calendar')}#calendar-feed")


@require_GET
def calendar_feed_view(request: HttpRequest, token: str) -> HttpResponse:
    """The feed itself. No login: the secret address is the credential."""
    found = calendar_feed_owner(token)
    if found is None:
        raise Http404
    feed_token, membership = found
    calendar_feed_touch(feed_token)
    post_url = post_url_builder()
    # Calendar apps send no language of their own: write in the member's.
    with translation.override(membership.user.preferred_language or None):
        body = calendar_feed_build(
            membership=membership,
            post_url=lambda pk: request.build_absolute_uri(post_url(pk)),
            host=request.get_host().split(":")[0] or "govsocial",
        )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="govsocial.ics"'
    # The address is a secret: keep it and the schedule out of shared caches.
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
