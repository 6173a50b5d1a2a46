"""The composer's "Repeat" section."""

from __future__ import annotations

from datetime import date
from typing import Any

from dateutil import rrule
from django import forms
from django.utils.translation import gettext_lazy as _

from publishing.models import PostSeries, Weekday
from publishing.services.recurrence import MAX_COUNT, MAX_INTERVAL, RepeatSpec


class RepeatForm(forms.Form):
    """How a post repeats: never, daily, weekly on some days, or monthly; how often; and
    when the series ends. ``spec()`` gives the service's :class:`RepeatSpec` (None: the
    post does not repeat)."""

    frequency = forms.ChoiceField(
        label=_("Repeat"),
        choices=[
            ("", _("Does not repeat")),
            ("daily", _("Daily")),
            ("weekly", _("Weekly")),
            ("monthly", _("Monthly")),
        ],
        required=False,
    )
    interval = forms.IntegerField(
        label=_("Every how many days, weeks or months"),
        min_value=1,
        max_value=MAX_INTERVAL,
        initial=1,
        required=False,
        help_text=_("1: every day, week or month; 2: every other one."),
    )
    weekdays = forms.TypedMultipleChoiceField(
        label=_("On these days (weekly)"),
        choices=Weekday.choices,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None chosen: the weekday of the planned time."),
    )
    monthly_by = forms.ChoiceField(
        label=_("On which day (monthly)"),
        choices=[
            ("day", _("The same day of the month")),
            ("weekday", _("The same weekday of the month (such as the second Tuesday)")),
        ],
        widget=forms.RadioSelect,
        initial="day",
        required=False,
    )
    ends = forms.ChoiceField(
        label=_("Ends"),
        choices=[
            ("never", _("Never (kept scheduled 60 days ahead)")),
            ("on", _("On a date")),
            ("after", _("After a number of times")),
        ],
        widget=forms.RadioSelect,
        initial="never",
        required=False,
    )
    until = forms.DateField(
        label=_("Last day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    count = forms.IntegerField(
        label=_("Number of times"),
        min_value=2,
        max_value=MAX_COUNT,
        required=False,
        help_text=_("The first post counts as the first time."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "repeat")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("frequency"):
            return data
        ends = data.get("ends") or "never"
        if ends == "on" and not data.get("until"):
            self.add_error("until", _("Give the last day of the series."))
        if ends == "after" and not data.get("count"):
            self.add_error("count", _("Give the number of times."))
        return data

    def spec(self) -> RepeatSpec | None:
        data = self.cleaned_data
        if not data.get("frequency"):
            return None
        ends = data.get("ends") or "never"
        until: date | None = data.get("until") if ends == "on" else None
        count: int | None = data.get("count") if ends == "after" else None
        return RepeatSpec(
            frequency=data["frequency"],
            interval=data.get("interval") or 1,
            weekdays=tuple(data.get("weekdays") or ()),
            monthly_by=data.get("monthly_by") or "day",
            until=until,
            count=count,
        )


def repeat_initial(series: PostSeries | None) -> dict[str, Any]:
    """The form's fields for an existing series."""
    if series is None or series.ended_at is not None:
        return {"frequency": "", "interval": 1, "ends": "never", "monthly_by": "day"}
    parsed = rrule.rrulestr(series.rule, dtstart=None)
    assert isinstance(parsed, rrule.rrule)
    frequency = {rrule.DAILY: "daily", rrule.WEEKLY: "weekly", rrule.MONTHLY: "monthly"}.get(
        parsed._freq, ""
    )
    initial: dict[str, Any] = {
        "frequency": frequency,
        "interval": parsed._interval,
        "weekdays": sorted(parsed._byweekday or ()) if frequency == "weekly" else [],
        "monthly_by": "weekday" if parsed._bynweekday else "day",
        "ends": "never",
    }
    if parsed._until is not None:
        initial.update(ends="on", until=parsed._until.date())
    elif parsed._count:
        initial.update(ends="after", count=parsed._count)
    return initial
