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
from functools import cached_property, lru_cache
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.selectors import channel_accounts_for_membership
from governance.dates import format_date_range, format_day_heading
from governance.selectors.access import has_perm, request_membership, require_perm
from publishing.forms import quiet_day_confirm_field
from publishing.ical import (
    calendar_feed_build,
    calendar_feed_owner,
    calendar_feed_token_active,
    calendar_feed_token_create,
    calendar_feed_token_revoke,
    calendar_feed_touch,
)
from publishing.languages import language_direction, language_label
from publishing.models import Post, PostStatus
from publishing.selectors import PostFilters, post_get_for_user
from publishing.selectors_calendar import (
    CalendarEntry,
    FilterChoices,
    calendar_entries_by_day,
    calendar_entries_by_slot,
    calendar_filter_choices,
    calendar_slot_entries,
    first_words,
    local_hour_bounds,
    local_midnight,
    unscheduled_entries,
)
from publishing.selectors_dates import DayMark, day_marks_between
from publishing.services import queue as queue_services
from publishing.services.posts import post_reschedule
from publishing.views.posts import publishing_nav

MONTH, WEEK, LIST = "month", "week", "list"
SPANS = ("day", "week", "month")
# A month cell shows this many posts, then "N more" (a link to the day's list).
MONTH_DAY_LIMIT = 5
# A week view's hour slot shows this many posts, then "N more", which shows the rest
# in place (htmx; without JavaScript it is a link to the day's list). A busy week
# holds over a thousand posts: rendering them all made a 600 KB page.
WEEK_HOUR_LIMIT = 2
# Only a scheduled post has a time that can move (the service refuses the rest).
MOVABLE_STATUSES = frozenset({PostStatus.SCHEDULED})
# Where the raw feed address waits, for one page view, after it was made.
NEW_FEED_URL_SESSION_KEY = "publishing_new_calendar_feed_url"
# Whether the reader last chose to see holidays and important dates on the calendar.
SHOW_DATES_SESSION_KEY = "publishing_calendar_show_dates"
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
                "time": formats.time_format(at, "TIME_FORMAT"),
                "date": formats.date_format(day, "DATE_FORMAT"),
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


def hour_label(hour: int) -> str:
    """The start of an hour on the language's clock: "09:00", "9.00" in Finnish."""
    return clock_label(hour, 0, translation.get_language())


@lru_cache(maxsize=4096)
def clock_label(hour: int, minute: int, language: str | None) -> str:
    """A wall-clock time in ``language``'s TIME_FORMAT. A week page shows hundreds of
    posts' times and 168 cells' hours: each minute is formatted once per language. Every
    language's TIME_FORMAT shows hours and minutes only (no seconds, no time zone)."""
    return formats.time_format(time(hour, minute), "TIME_FORMAT")


def _forget_clock_labels(**kwargs: Any) -> None:
    clock_label.cache_clear()  # a test changed the formats


setting_changed.connect(_forget_clock_labels, dispatch_uid="calendar-clock-labels")


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


class MoveForm(LocalDateTimeForm):
    """A post's new time; a manager or an admin may confirm a time on a quiet day."""

    confirm_quiet_day = quiet_day_confirm_field()

    def __init__(self, data: Any = None, *, may_confirm_quiet_day: bool, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        if not may_confirm_quiet_day:
            del self.fields["confirm_quiet_day"]


def _language_name(code: str) -> str:
    return f"{language_label(code)} ({code})"


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
            (str(pk), handle) for pk, handle in choices.accounts
        ]
        fields["status"].choices = [("", _("Any status")), *PostStatus.choices]  # type: ignore[attr-defined]
        fields["language"].choices = [("", _("Any language"))] + [  # type: ignore[attr-defined]
            (code, _language_name(code)) for code in choices.languages
        ]
        fields["campaign"].choices = [("", _("Any campaign"))] + [  # type: ignore[attr-defined]
            (str(pk), name) for pk, name in choices.campaigns
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

    def selects(self) -> list[FilterSelect]:
        """The filters as the page draws them. Dozens of options through Django's widget
        templates cost more than the rest of a week page: the options are written here."""
        self.is_valid()
        selects = []
        for bound in self:
            chosen = str(self.data.get(bound.name, "") or "")
            options = "".join(
                f'<option value="{escape(str(value))}"'
                f"{' selected' if str(value) == chosen else ''}>{escape(str(label))}</option>"
                for value, label in bound.field.choices  # type: ignore[attr-defined]
            )
            selects.append(
                FilterSelect(
                    name=bound.name,
                    id=bound.id_for_label,
                    label=str(bound.label),
                    options=mark_safe(options),  # noqa: S308 - every value escaped above
                    errors=[str(error) for error in bound.errors],
                )
            )
        return selects


@dataclass(frozen=True)
class FilterSelect:
    name: str
    id: str
    label: str
    options: SafeString
    errors: list[str]


# --- what the pages show ------------------------------------------------------------------------


def _url_builder(name: str) -> Callable[[int], str]:
    """``reverse(name, args=[pk])`` for many pks at the cost of one reverse()."""
    template = reverse(name, args=[_PK_PLACEHOLDER])
    head, tail = template.split(str(_PK_PLACEHOLDER), 1)
    return lambda pk: f"{head}{pk}{tail}"


def post_url_builder() -> Callable[[int], str]:
    """The address of a post's page."""
    return _url_builder("publishing:post_detail")


@dataclass(slots=True)
class EntryView:
    """A post as one calendar page shows it: every value worked out once, since a
    month page may show hundreds of posts. (Not frozen: setting each field through
    object.__setattr__ cost more than the rest of making one.)"""

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
    summary_language: str  # its language tag ("": the post's title)
    html: SafeString  # the post's <li>, as every calendar view shows it
    series_url: str = ""  # an occurrence of a recurring post: its series' page


@dataclass
class CalendarDay:
    day: date
    in_period: bool
    is_today: bool
    entries: list[EntryView] = field(default_factory=list)
    more: int = 0  # posts of the day not shown (the month view shows a few a day)
    more_url: str = ""  # the day's list, without JavaScript
    expand_url: str = ""  # the rest of the day's posts, shown in place
    marks: list[DayMark] = field(default_factory=list)  # holidays and important dates
    more_label: str = ""  # what the "N more" link says

    @property
    def iso(self) -> str:
        return self.day.isoformat()

    @cached_property
    def label(self) -> str:
        return format_day_heading(self.day)

    @property
    def number(self) -> int:
        return self.day.day

    @property
    def marks_html(self) -> SafeString:
        """The day's holidays and important dates, as every calendar view shows them."""
        if not self.marks:
            return mark_safe("")
        items = "".join(
            f'<li class="cal-mark cal-mark-{escape(mark.kind)}"><span class="cal-mark-kind">'
            f"{escape(str(mark.kind_label))}:</span> {escape(str(mark.name))}</li>"
            for mark in self.marks
        )
        return mark_safe(f'<ul class="cal-marks">{items}</ul>')  # noqa: S308 - escaped above

    def month_cell(self, today_word: str) -> str:
        """The day's <td> in the month view: its date, marks, first posts and "N more".
        Written here, not in a template: a month has 42 cells of a few posts each."""
        classes = "cal-day"
        if not self.in_period:
            classes += " cal-outside"
        current = today = ""
        if self.is_today:
            classes += " cal-today"
            current = ' aria-current="date"'
            today = f' <span class="cal-today-label">{escape(today_word)}</span>'
        parts = [
            f'<td class="{classes}" data-calendar-drop="{self.iso}">'
            f'<div class="cal-date"><time datetime="{self.iso}"{current}>'
            f'<span aria-hidden="true">{self.number}</span>'
            f'<span class="visually-hidden">{escape(self.label)}</span></time>{today}</div>',
            self.marks_html,
        ]
        if self.entries:
            parts.append('<ul class="cal-posts">')
            parts.extend(entry.html for entry in self.entries)
            parts.append("</ul>")
        if self.more:
            parts.append(
                f'<p class="cal-more"><a href="{escape(self.more_url)}" '
                f'hx-get="{escape(self.expand_url)}" hx-target="closest p" hx-swap="outerHTML">'
                f"{self.more_label}</a></p>"
            )
        parts.append("</td>")
        return "".join(parts)


@dataclass
class WeekCell:
    day_iso: str
    entries: list[EntryView] = field(default_factory=list)
    more: int = 0  # posts of the hour not shown
    more_short: str = ""
    more_label: str = ""
    more_url: str = ""  # the day's list, without JavaScript
    expand_url: str = ""  # the rest of the hour's posts, shown in place
    queue: list[str] = field(default_factory=list)  # free queue slots in this hour

    def html(self, hour: int) -> str:
        """The hour slot's <td>: its first posts, then "N more", which htmx replaces with
        the hour's other posts. Written here, not in a template: a week has 168 slots."""
        parts = [
            f'<td class="cal-hour" data-calendar-drop="{self.day_iso}" data-calendar-hour="{hour}">'
        ]
        if self.entries:
            parts.append('<ul class="cal-posts">')
            parts.extend(entry.html for entry in self.entries)
            parts.append("</ul>")
        parts.extend(f'<p class="cal-queue">{escape(label)}</p>' for label in self.queue)
        if self.more:
            parts.append(
                f'<p class="cal-more"><a href="{escape(self.more_url)}" '
                f'hx-get="{escape(self.expand_url)}" hx-target="closest p" hx-swap="outerHTML">'
                f'<span aria-hidden="true">{escape(self.more_short)}</span>'
                f'<span class="visually-hidden">{escape(self.more_label)}</span></a></p>'
            )
        parts.append("</td>")
        return "".join(parts)


@dataclass
class HourRow:
    hour: int
    cells: list[WeekCell]

    @property
    def cells_html(self) -> SafeString:
        return mark_safe("".join(cell.html(self.hour) for cell in self.cells))  # noqa: S308

    @property
    def label(self) -> str:
        return hour_label(self.hour)

    @property
    def is_empty(self) -> bool:
        """No post in this hour on any day of the week: the row is drawn low."""
        return not any(cell.entries or cell.more or cell.queue for cell in self.cells)


class _EntryBuilders:
    """Makes EntryViews, reversing each URL pattern once for all of them."""

    def __init__(self, *, tz: tzinfo, can_move: bool, return_q: str = "") -> None:
        self.tz = tz
        self.can_move = can_move
        self.return_q = return_q  # the page to come back to after a Move, URL-quoted
        self.post_url = post_url_builder()
        self.move_url = _url_builder("publishing:calendar_move")
        self.status_labels = {value: str(label) for value, label in PostStatus.choices}
        self.move_word = escape(_("Move"))
        self.series_url = _url_builder("publishing:series_detail")
        self.series_word = escape(_("Repeats"))
        self.language = translation.get_language()
        # Statuses, account lists and languages recur across a page's hundreds of posts:
        # each escaped (or looked up) once.
        self._escaped: dict[str, str] = {}
        self._rtl: dict[str, bool] = {}

    def _escape(self, text: str) -> str:
        found = self._escaped.get(text)
        if found is None:
            found = self._escaped[text] = escape(text)
        return found

    def _is_rtl(self, language: str) -> bool:
        found = self._rtl.get(language)
        if found is None:
            found = self._rtl[language] = language_direction(language) == "rtl"
        return found

    def view(self, entry: CalendarEntry) -> EntryView:
        # Once per post of the page (a week shows hundreds): each value worked out once.
        at = entry.at
        if at is not None:
            local = at.astimezone(self.tz)
            hour = local.hour
            time_label = clock_label(hour, local.minute, self.language)
            iso = local.isoformat()
        else:
            hour, time_label, iso = 0, "", ""
        post_id, status = entry.post_id, entry.status
        summary, summary_language = entry.summary_in_language
        accounts_label = ", ".join(entry.handles) or _("no account yet")
        status_label = entry.status_label if entry.held else self.status_labels.get(status, status)
        url = self.post_url(post_id)
        move_url = self.move_url(post_id) if self.can_move and status in MOVABLE_STATUSES else ""
        series_url = self.series_url(entry.series_id) if entry.series_id else ""
        shown_status = entry.shown_status
        summary = summary or _("(no text)")
        html = self._html(
            post_id=post_id,
            status=shown_status,
            status_label=status_label,
            url=url,
            move_url=move_url,
            time_label=time_label,
            iso=iso,
            accounts_label=accounts_label,
            summary=summary,
            summary_language=summary_language,
            series_url=series_url,
        )
        return EntryView(
            post_id,
            shown_status,
            status_label,
            url,
            move_url,
            time_label,
            hour,
            iso,
            accounts_label,
            summary,
            summary_language,
            html,
            series_url,
        )

    def _html(
        self,
        *,
        post_id: int,
        status: str,
        status_label: str,
        url: str,
        move_url: str,
        time_label: str,
        iso: str,
        accounts_label: str,
        summary: str,
        summary_language: str = "",
        series_url: str = "",
        **_rest: object,
    ) -> SafeString:
        """The post's list item. Written here rather than in a template included per
        cell: a week page shows hundreds of posts, and each value is escaped once."""
        # The post's own words in their language (WCAG 3.1.2), on the link (the time and
        # handle read the same in any language); right-to-left words isolated in their
        # own direction.
        words = escape(summary)
        lang = ""
        if summary_language:
            lang = f' lang="{self._escape(summary_language)}"'
            if self._is_rtl(summary_language):
                words = f'<span{lang} dir="rtl">{words}</span>'
        text = f"{self._escape(accounts_label)}: {words}"
        when = f'<time datetime="{iso}">{time_label}</time> ' if time_label else ""
        drag = move = ""
        if move_url:
            drag = (
                f' draggable="true" data-calendar-post data-move-url="{move_url}"'
                f' data-time="{time_label}"'
            )
            move = (
                f' <a class="cal-move" href="{move_url}?next={self.return_q}">{self.move_word}'
                f'<span class="visually-hidden"> {time_label} {text}</span></a>'
            )
        series = ""
        if series_url:
            # An icon and a word: the series is told by text, not by the symbol alone.
            series = (
                f' <a class="cal-series" href="{series_url}"><span aria-hidden="true">↻</span> '
                f'{self.series_word}<span class="visually-hidden"> {time_label} {text}</span></a>'
            )
        return mark_safe(  # noqa: S308 - every value from the post is escaped above
            f'<li class="cal-post cal-status-{self._escape(status)}" id="post-{post_id}"{drag}>'
            f'<a href="{url}"{lang}>{when}{text}</a> '
            f'<span class="cal-status">{self._escape(status_label)}</span>{series}{move}</li>'
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
            title=_("Week %(number)s: %(days)s")
            % {"number": first.isocalendar().week, "days": format_date_range(first, last)},
            previous=first - timedelta(days=7),
            next=first + timedelta(days=7),
        )
    return Period(
        first=anchor,
        end=anchor + timedelta(days=1),
        title=format_day_heading(anchor),
        previous=anchor - timedelta(days=1),
        next=anchor + timedelta(days=1),
    )


def _page_title(mode: str, period: Period, *, filtered: bool) -> str:
    """Each view's own <title> (WCAG 2.4.2): the month, the week and the list differ
    even when they show the same days, and a filtered calendar says so."""
    if mode == MONTH:
        title = _("Calendar – %(month)s") % {"month": period.title}  # noqa: RUF001
    elif mode == WEEK:
        title = _("Calendar – week of %(first)s") % {  # noqa: RUF001
            "first": formats.date_format(period.first, "j F Y")
        }
    else:
        title = _("Calendar – list: %(period)s") % {"period": period.title}  # noqa: RUF001
    if filtered:
        title = _("%(title)s (filtered)") % {"title": title}
    return title


def _anchor(request: HttpRequest, today: date) -> date:
    raw = request.GET.get("date", "")
    try:
        return date.fromisoformat(raw) if raw else today
    except ValueError:
        return today


def _show_dates(request: HttpRequest) -> bool:
    """The holidays and important dates layer: on unless the reader turned it off.

    The form sends ``dates=0`` then, when the box is ticked, ``dates=1``: the last
    value is the choice, kept in the session for the reader's next calendar pages."""
    chosen = request.GET.getlist("dates")
    if chosen:
        request.session[SHOW_DATES_SESSION_KEY] = chosen[-1] == "1"
    return bool(request.session.get(SHOW_DATES_SESSION_KEY, True))


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
    filter_query = form.query()
    day_list = f"{reverse('publishing:calendar_list')}?" + urlencode(
        {**filter_query, "span": "day"}
    )
    return_q = quote(request.get_full_path(), safe="")
    builders = _EntryBuilders(tz=tz, can_move=can_move, return_q=return_q)
    days = [
        CalendarDay(
            day=day,
            in_period=period.first <= day < period.end,
            is_today=day == today,
            more_url=f"{day_list}&date={day.isoformat()}",
        )
        for day in grid
    ]
    show_dates = _show_dates(request)
    if show_dates:
        marks = day_marks_between(membership.organization, grid_first, grid_end)
        for calendar_day in days:
            calendar_day.marks = marks.get(calendar_day.day, [])
    if mode == WEEK:
        hours, entry_count = _week_rows(
            membership=membership,
            days=days,
            tz=tz,
            filters=filters,
            builders=builders,
            expand_base=f"{reverse('publishing:calendar_week_more')}?{urlencode(filter_query)}",
        )
    else:
        by_day = calendar_entries_by_day(
            membership, grid, tz, filters, per_day=MONTH_DAY_LIMIT if mode == MONTH else None
        )
        day_more = f"{reverse('publishing:calendar_day_more')}?{urlencode(filter_query)}"
        plurals: dict[int, str] = {}
        for calendar_day in days:
            found = by_day.get(calendar_day.day)
            if found:
                calendar_day.entries = builders.views(found.entries)
                calendar_day.more = found.more
                calendar_day.expand_url = f"{day_more}&date={calendar_day.iso}"
                if found.more:
                    calendar_day.more_label = _day_more_label(
                        found.more, calendar_day, plurals, escape_label=True
                    )
        entry_count = sum(
            found.total for day, found in by_day.items() if period.first <= day < period.end
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
        "page_title": _page_title(mode, period, filtered=bool(filter_query)),
        "form": form,
        "filter_query": urlencode(filter_query),
        "days": days,
        "entry_count": entry_count,
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
        "return_q": return_q,
        "filter_selects": form.selects(),
        "show_dates": show_dates,
    }
    if mode == MONTH:
        today_word = _("Today")
        context["weeks"] = [
            mark_safe("".join(day.month_cell(today_word) for day in days[n : n + 7]))  # noqa: S308
            for n in range(0, len(days), 7)
        ]
        context["weekdays"] = [formats.date_format(d.day, "l") for d in days[:7]]
    elif mode == WEEK:
        context["hours"] = hours
    else:
        context["list_days"] = [d for d in days if d.entries or d.marks]
    return render(request, f"publishing/calendar/{mode}.html", context)


def _day_more_label(
    count: int, day: CalendarDay, plurals: dict[int, str], *, escape_label: bool = False
) -> str:
    """What a month day's "N more" link says. ``plurals`` keeps the message's plural
    forms by count, for a month's many days; with ``escape_label``, the day's name is
    escaped for HTML (the message itself is ours)."""
    message = plurals.get(count)
    if message is None:
        message = plurals[count] = ngettext(
            "%(counter)s more post on %(label)s", "%(counter)s more posts on %(label)s", count
        )
    return message % {
        "counter": count,
        "label": escape(day.label) if escape_label else day.label,
    }


def _week_bounds(days: list[CalendarDay], tz: tzinfo) -> list[datetime]:
    """The start of each local hour of ``days``, then the end of the last one."""
    bounds: list[datetime] = []
    for calendar_day in days:
        hours = local_hour_bounds(calendar_day.day, tz)
        bounds.extend(hours[:24])
    bounds.append(hours[24])
    return bounds


def _more_labels(
    count: int,
    time_label: str,
    day: CalendarDay,
    plurals: dict[int, tuple[str, str]] | None = None,
) -> tuple[str, str]:
    """What an hour slot's "N more" link shows, and its full name for a screen reader
    (``time_label``: the hour's start, as ``hour_label`` writes it). ``plurals`` keeps
    the messages' plural forms by count, for the many slots of a week."""
    found = plurals.get(count) if plurals is not None else None
    if found is None:
        found = (
            ngettext("%(count)s more", "%(count)s more", count),
            ngettext(
                "%(count)s more post at %(time)s on %(day)s",
                "%(count)s more posts at %(time)s on %(day)s",
                count,
            ),
        )
        if plurals is not None:
            plurals[count] = found
    short, full = found
    return short % {"count": count}, full % {
        "count": count,
        "time": time_label,
        "day": day.label,
    }


def _week_rows(
    *,
    membership: Any,
    days: list[CalendarDay],
    tz: tzinfo,
    filters: PostFilters,
    builders: _EntryBuilders,
    expand_base: str,
) -> tuple[list[HourRow], int]:
    """The week's 24 rows of 7 hour slots, each with its first posts and "N more";
    and how many posts the week holds. Three queries, however many posts."""
    rows = [HourRow(hour=hour, cells=[WeekCell(day.iso) for day in days]) for hour in range(24)]
    by_slot = calendar_entries_by_slot(
        membership, _week_bounds(days, tz), filters, per_slot=WEEK_HOUR_LIMIT
    )
    total = 0
    plurals: dict[int, tuple[str, str]] = {}
    hour_labels = [row.label for row in rows]
    for index, found in by_slot.items():
        column, hour = divmod(index, 24)
        cell = rows[hour].cells[column]
        cell.entries = builders.views(found.entries)
        total += found.total
        if found.more:
            day = days[column]
            cell.more = found.more
            cell.more_short, cell.more_label = _more_labels(
                found.more, hour_labels[hour], day, plurals
            )
            cell.more_url = day.more_url
            cell.expand_url = f"{expand_base}&date={day.iso}&hour={hour}"
    _queue_markers(membership, days, tz, filters, rows)
    return rows, total


def _queue_markers(
    membership: Any, days: list[CalendarDay], tz: tzinfo, filters: PostFilters, rows: list[HourRow]
) -> None:
    """Mark the week's free queue slots (of the accounts shown) in their hour slots."""
    start = local_midnight(days[0].day, tz)
    end = local_midnight(days[-1].day + timedelta(days=1), tz)
    if end <= timezone.now():
        return  # a week gone by has no free slots left
    accounts = channel_accounts_for_membership(membership)
    if filters.channel_account_ids:
        accounts = accounts.filter(pk__in=filters.channel_account_ids)
    for at, slot in queue_services.free_slot_markers(accounts, membership.organization, start, end):
        local = at.astimezone(tz)
        column = (local.date() - days[0].day).days
        if 0 <= column < len(days):
            rows[local.hour].cells[column].queue.append(
                _("Free queue slot %(time)s, %(account)s")
                % {"time": local.strftime("%H:%M"), "account": slot.channel_account.handle}
            )


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


@login_required
@require_GET
def calendar_week_more_view(request: HttpRequest) -> HttpResponse:
    """The posts of one hour slot that the week view left behind "N more", as a list
    that htmx puts in the slot's place. Opened without htmx, the day's list."""
    try:
        hour = int(request.GET.get("hour", ""))
        date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        hour = -1
    if not 0 <= hour <= 23:
        return HttpResponse(_("Choose a date and an hour."), status=400, content_type="text/plain")
    return _more(request, hour=hour)


@login_required
@require_GET
def calendar_day_more_view(request: HttpRequest) -> HttpResponse:
    """The posts of one day that the month view left behind "N more", shown in place."""
    try:
        date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return HttpResponse(_("Choose a date."), status=400, content_type="text/plain")
    return _more(request, hour=None)


def _more(request: HttpRequest, *, hour: int | None) -> HttpResponse:
    """The posts of a week view's hour (or a month view's day) after the ones it shows."""
    membership = request_membership(request)
    require_perm(membership, "posts.view")
    tz = timezone.get_current_timezone()
    day = date.fromisoformat(request.GET["date"])
    form = CalendarFilterForm(request.GET, choices=calendar_filter_choices(membership))
    filter_query = form.query()
    if not request.headers.get("HX-Request"):
        return redirect(
            f"{reverse('publishing:calendar_list')}?"
            + urlencode({**filter_query, "span": "day", "date": day.isoformat()})
        )
    calendar_day = CalendarDay(day=day, in_period=True, is_today=False)
    if hour is None:
        start, end = local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)
        offset, page_name, slot = MONTH_DAY_LIMIT, "publishing:calendar", day.isoformat()
    else:
        bounds = local_hour_bounds(day, tz)
        start, end = bounds[hour], bounds[hour + 1]
        offset, page_name = WEEK_HOUR_LIMIT, "publishing:calendar_week"
        slot = f"{day.isoformat()}-{hour}"
    entries = calendar_slot_entries(membership, start, end, form.filters(), offset=offset)
    if hour is None:
        label = _day_more_label(len(entries), calendar_day, {})
    else:
        _short, label = _more_labels(len(entries), hour_label(hour), calendar_day)
    page = f"{reverse(page_name)}?" + urlencode({**filter_query, "date": day.isoformat()})
    builders = _EntryBuilders(
        tz=tz, can_move=has_perm(membership, "posts.write"), return_q=quote(page, safe="")
    )
    return render(
        request,
        "publishing/calendar/_more.html",
        {"entries": builders.views(entries), "label": label, "slot": slot},
    )


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
    may_confirm = has_perm(membership, "posts.publish_on_quiet_day")
    status = 200
    if request.method == "POST":
        form = MoveForm(request.POST, may_confirm_quiet_day=may_confirm)
        if form.is_valid():
            try:
                post_reschedule(
                    post=post,
                    membership=membership,
                    at=form.cleaned_data["at"],
                    confirm_quiet_day=bool(form.cleaned_data.get("confirm_quiet_day")),
                    request=request,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                post.refresh_from_db()
                assert post.scheduled_at is not None
                when = post.scheduled_at.astimezone(tz)
                message = _("“%(post)s” now goes out on %(date)s at %(time)s.") % {
                    "post": _post_label(post),
                    "date": format_day_heading(when.date()),
                    "time": formats.time_format(when, "TIME_FORMAT"),
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
        form = MoveForm(
            initial={"date": current.date(), "time": current.time().replace(second=0)}
            if current
            else {},
            may_confirm_quiet_day=may_confirm,
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
