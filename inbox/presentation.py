"""Inbox rows as the list shows them, prepared in Python.

The list renders up to fifty rows on every load and every poll; resolving each
row's labels, dates and tags in the template costs several times more than
preparing them here once (labels are translated once per page, not per row).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# The standard library's: Django's escape wraps it to accept lazy strings, at a cost per
# call that a list's thousand escapes feel; every value escaped here is a plain string.
from html import escape
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.urls import reverse
from django.utils import dateformat, formats, timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.selectors import network_summary
from inbox.models import OPEN_STATUSES, InboxItem, ItemKind, ItemStatus, Priority


@dataclass(slots=True)
class Row:
    pk: int
    author: str
    kind: str
    excerpt: str
    tags: tuple[str, ...]
    account: str
    network: str
    posted_iso: str
    posted: str
    status: str
    status_label: str
    assignee: str
    priority: int
    priority_label: str
    due_iso: str
    due: str
    overdue: bool
    deleted: bool
    select_label: str
    raised: bool
    age: str
    sla_state: str
    sla_label: str


EXCERPT_CHARS = 160
HIGH = int(Priority.HIGH)


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"


# Format characters whose output depends only on the day, or only on the hour and minute.
_DAY_CHARACTERS = frozenset("bdDEFjlLmMnNoStwWyYz")
_MINUTE_CHARACTERS = frozenset("aAfgGhHiP")


class LocalFormat:
    """One of the locale's formats (``"DATETIME_FORMAT"``, say), written for many moments
    in the current time zone exactly as ``formats.date_format`` writes each. The format
    is split once, and what depends only on the day or only on the minute (month names,
    "p.m.": a translation look-up each) is worked out once: the list's hundred dates cost
    a fraction of a hundred ``date_format`` calls."""

    def __init__(self, format_name: str) -> None:
        self.zone = timezone.get_current_timezone()
        # (literal text, "") or ("", format character), in order.
        self.pieces: list[tuple[str, str]] = []
        format_string = str(formats.get_format(format_name))
        for index, piece in enumerate(dateformat.re_formatchars.split(format_string)):
            if index % 2:
                self.pieces.append(("", piece))
            elif piece:
                self.pieces.append((dateformat.re_escaped.sub(r"\1", piece), ""))
        self.known: dict[tuple[str, object], str] = {}

    def __call__(self, moment: datetime) -> str:
        local = moment.astimezone(self.zone)
        day, minute = local.date(), (local.hour, local.minute)
        formatter: dateformat.DateFormat | None = None
        parts: list[str] = []
        for literal, character in self.pieces:
            if not character:
                parts.append(literal)
                continue
            scope: object = (
                day
                if character in _DAY_CHARACTERS
                else minute
                if character in _MINUTE_CHARACTERS
                else None
            )
            text = self.known.get((character, scope)) if scope is not None else None
            if text is None:
                formatter = formatter or dateformat.DateFormat(local)
                text = str(getattr(formatter, character)())
                if scope is not None:
                    self.known[(character, scope)] = text
            parts.append(text)
        return "".join(parts)


def _when(moment: datetime, datetime_format: LocalFormat) -> tuple[str, str]:
    return moment.astimezone(UTC).isoformat(), datetime_format(moment)


DUE_SOON = timedelta(hours=1)


def _age(moment: datetime, now: datetime) -> tuple[str, int]:
    """How long ago, as a unit and a count ("4 min", "3 h", "2 days" once written)."""
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 3600:
        return "min", seconds // 60
    if seconds < 86400:
        return "h", seconds // 3600
    return "day", seconds // 86400


def _age_text(unit: str, count: int) -> str:
    if unit == "min":
        return ngettext("%(count)d min", "%(count)d min", count) % {"count": count}
    if unit == "h":
        return ngettext("%(count)d h", "%(count)d h", count) % {"count": count}
    return ngettext("%(count)d day", "%(count)d days", count) % {"count": count}


class _SlaLabels:
    """The answer-by words, translated once for the whole list."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.today = now.astimezone(timezone.get_current_timezone()).date()
        self.handled = _("Handled")
        self.no_target = _("No target")
        self.overdue = _("Overdue")
        self.due_soon = _("Due soon: %(time)s")
        self.due = _("Due %(time)s")
        self.time_format = LocalFormat("TIME_FORMAT")
        self.date_format = LocalFormat("DATE_FORMAT")

    def short(self, moment: datetime) -> str:
        """A due time as the list shows it: the time of day today, else the date."""
        if moment.astimezone(self.time_format.zone).date() == self.today:
            return self.time_format(moment)
        return self.date_format(moment)

    def of(self, item: InboxItem) -> tuple[str, str]:
        """The item's answer-by state as a short word and its label."""
        if item.status not in OPEN_STATUSES:
            return "done", self.handled
        if item.sla_due_at is None:
            return "none", self.no_target
        if item.sla_due_at < self.now:
            return "overdue", self.overdue
        if item.sla_due_at - self.now <= DUE_SOON:
            return "soon", self.due_soon % {"time": self.short(item.sla_due_at)}
        return "due", self.due % {"time": self.short(item.sla_due_at)}


def inbox_rows(
    items: Sequence[InboxItem],
    *,
    tags: Mapping[int, Sequence[str]],
    now: datetime | None = None,
) -> list[Row]:
    """Rows for ``items`` (fetched with their account's handle and their assignee, as
    ``inbox.selectors.inbox_row_list`` does), with ``tags``: each item's tag names."""
    now = now or timezone.now()
    kinds = {value: str(label) for value, label in ItemKind.choices}
    statuses = {value: str(label) for value, label in ItemStatus.choices}
    priorities = {value: str(label) for value, label in Priority.choices}
    networks: dict[str, str] = {}
    ages: dict[tuple[str, int], str] = {}
    select_label = _("Select the message from %(who)s")
    datetime_format = LocalFormat("DATETIME_FORMAT")
    sla = _SlaLabels(now)
    rows: list[Row] = []
    for item in items:
        network = item.network
        if network not in networks:
            networks[network] = str(network_summary(network).label)
        posted_iso, posted = _when(item.posted_at, datetime_format)
        due_iso, due = (
            _when(item.sla_due_at, datetime_format) if item.sla_due_at is not None else ("", "")
        )
        sla_state, sla_label = sla.of(item)
        age = _age(item.posted_at, now)
        if age not in ages:
            ages[age] = _age_text(*age)
        rows.append(
            Row(
                pk=item.pk,
                author=item.author_label,
                kind=kinds.get(item.kind, item.kind),
                excerpt=_excerpt(item.text),
                tags=tuple(tags.get(item.pk, ())),
                account=item.channel_account.handle,
                network=networks[network],
                posted_iso=posted_iso,
                posted=posted,
                status=item.status,
                status_label=statuses.get(item.status, item.status),
                assignee=item.assignee.get_full_name() if item.assignee is not None else "",
                priority=item.priority,
                priority_label=priorities.get(item.priority, str(item.priority)),
                due_iso=due_iso,
                due=due,
                overdue=bool(
                    item.status in OPEN_STATUSES
                    and item.sla_due_at is not None
                    and item.sla_due_at < now
                ),
                deleted=item.deleted_on_network_at is not None,
                select_label=select_label % {"who": item.author_label},
                raised=item.priority >= HIGH,
                age=ages[age],
                sla_state=sla_state,
                sla_label=sla_label,
            )
        )
    return rows


def rows_html(
    rows: Sequence[Row], *, can_reply: bool, fresh: bool, open_pk: Any, query: str
) -> SafeString:
    """The list's rows as HTML, written here: through the template engine the fifty rows
    cost a quarter of the page (thirty look-ups, a URL and a dozen escapes each)."""
    marker = 987654321
    link_start, link_end = reverse("inbox:item", args=[marker]).split(str(marker))
    link_query = f"?{escape(query)}" if query else ""
    deleted_note = escape(_("Deleted on the network"))
    tags_note = escape(_("Tags:"))
    parts: list[str] = []
    for row in rows:
        is_open = row.pk == open_pk
        pk = int(row.pk)
        classes = "inbox-row"
        if row.raised:
            classes += " inbox-row-priority"
        if fresh:
            classes += " inbox-row-fresh"
        if is_open:
            classes += " inbox-row-open"
        parts.append(f'<tr data-item-id="{pk}" class="{classes}">\n  ')
        if can_reply:
            parts.append(
                f'<td class="inbox-select"><input type="checkbox" name="items" value="{pk}" '
                f'form="inbox-bulk" id="select-{pk}" data-inbox-select><label '
                f'for="select-{pk}" class="visually-hidden">{escape(row.select_label)}</label></td>'
            )
        secondary = f"{escape(row.account)} · {escape(row.network)} · {escape(row.kind)} · " + (
            escape(row.status_label)
        )
        if row.assignee:
            secondary += f" ({escape(row.assignee)})"
        if row.raised:
            secondary += (
                f' · <strong class="inbox-priority inbox-priority-{row.priority:d}">'
                f"{escape(row.priority_label)}</strong>"
            )
        if row.deleted:
            secondary += f' · <span class="inbox-deleted">{deleted_note}</span>'
        tags = ""
        if row.tags:
            tags = (
                f'\n    <span class="inbox-tags"><span class="visually-hidden">{tags_note}</span>'
                + "".join(f'<span class="badge">{escape(tag)}</span> ' for tag in row.tags)
                + "</span>"
            )
        current = ' aria-current="true"' if is_open else ""
        sla_label = escape(row.sla_label)
        overdue = row.sla_state == "overdue"
        sla = f"<strong>{sla_label}</strong>" if overdue else sla_label
        if row.due and overdue:
            sla += (
                f'<span class="inbox-secondary"><time datetime="{escape(row.due_iso)}">'
                f"{escape(row.due)}</time></span>"
            )
        posted = escape(row.posted)
        parts.append(
            f'\n  <td class="inbox-message">\n    <a href="{link_start}{pk}{link_end}{link_query}" '
            f"data-inbox-item-link{current}><strong>{escape(row.author)}</strong></a>\n"
            f'    <span class="inbox-secondary">{secondary}</span>\n'
            f'    <span class="inbox-excerpt">{escape(row.excerpt)}</span>{tags}\n  </td>\n'
            f'  <td class="inbox-age"><time datetime="{escape(row.posted_iso)}" '
            f'title="{posted}">{escape(row.age)}</time><span class="visually-hidden"> '
            f"({posted})</span></td>\n"
            f'  <td class="inbox-sla inbox-sla-{escape(row.sla_state)}">{sla}</td>\n</tr>\n'
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value is escaped above


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class SelectField:
    """A select of a form, ready to print: Django's widget templates render every
    option through the template engine, which on the list page costs more than
    all its rows."""

    id: str
    name: str
    label: str
    choices: tuple[Choice, ...]


def select_fields(form: forms.Form, names: Sequence[str]) -> list[SelectField]:
    fields: list[SelectField] = []
    for name in names:
        bound = form[name]
        field = bound.field
        assert isinstance(field, forms.ChoiceField)
        current = bound.value()
        chosen = {str(v) for v in current} if isinstance(current, list) else {str(current or "")}
        # Django normalises every form of choices to a list of pairs when they are set.
        pairs = cast(list[tuple[Any, Any]], field.choices)
        fields.append(
            SelectField(
                id=bound.auto_id or f"id_{name}",
                name=bound.html_name,
                label=str(field.label or name),
                choices=tuple(
                    Choice(value=str(value), label=str(label), selected=str(value) in chosen)
                    for value, label in pairs
                ),
            )
        )
    return fields


def selects_html(selects: Sequence[SelectField]) -> SafeString:
    """The selects, each with its label in a field, as HTML: through the template engine
    the filters' and bulk action's hundred-odd options cost more than the rows."""
    parts: list[str] = []
    for select in selects:
        options = "".join(
            f'<option value="{escape(choice.value)}"{" selected" if choice.selected else ""}>'
            f"{escape(choice.label)}</option>"
            for choice in select.choices
        )
        parts.append(
            f'<div class="field"><label for="{escape(select.id)}">{escape(select.label)}</label>'
            f'<select name="{escape(select.name)}" id="{escape(select.id)}">{options}</select>'
            "</div>\n"
        )
    return mark_safe("".join(parts) + "\n")  # noqa: S308 - every value is escaped above


@dataclass(frozen=True)
class Chip:
    """One active filter, as a chip with a link that removes it."""

    label: str
    remove_url: str


def filter_chips(
    selects: Sequence[SelectField], *, overdue: bool, pairs: Sequence[tuple[str, str]], base: str
) -> list[Chip]:
    """Chips for the filters in ``pairs`` (the list's query), each removing itself."""

    def without(name: str, value: str) -> str:
        rest = [(n, v) for n, v in pairs if (n, v) != (name, value)]
        return base + ("?" + urlencode(rest) if rest else "")

    chips: list[Chip] = []
    for select in selects:
        for choice in select.choices:
            if choice.selected and choice.value:
                chips.append(
                    Chip(
                        label=f"{select.label}: {choice.label}",
                        remove_url=without(select.name, choice.value),
                    )
                )
    if overdue:
        chips.extend(
            Chip(label=_("Only overdue"), remove_url=without("overdue", value))
            for name, value in pairs
            if name == "overdue"
        )
    return chips
