"""Selectors of the complete record: accounts due for an archive sync, the records
search, archived posts through the access layer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from accounts.connectors.registry import UnknownNetwork, get_connector, networks
from accounts.models import AccountStatus, ChannelAccount
from accounts.selectors import channel_accounts_for_membership
from archive.models import (
    ArchiveCursor,
    ArchivedPost,
    RecordEntry,
)
from governance.models import Membership, Organization
from governance.selectors.access import get_in_org

# --- the complete record: archive and records search ------------------------------------


def archive_networks() -> list[str]:
    """Networks whose connector can read an account's own history."""
    names: list[str] = []
    for name in networks():
        try:
            if get_connector(name).capabilities.archive:
                names.append(name)
        except UnknownNetwork:
            continue
    return names


def channel_accounts_due_for_archive(*, now: datetime | None = None) -> QuerySet[ChannelAccount]:
    """Active accounts on a network with a readable history, not told to wait (a rate
    limit, a back-off, or a pass that ended less than its interval ago)."""
    now = now or timezone.now()
    deferred = ArchiveCursor.objects.filter(next_sync_at__gt=now).values("channel_account_id")
    return (
        ChannelAccount.objects.filter(status=AccountStatus.ACTIVE, network__in=archive_networks())
        .exclude(pk__in=deferred)
        .order_by("pk")
    )


# How many matches the search counts before it says "more than".
RECORDS_COUNT_CAP = 1000
RECORDS_PAGE_SIZE = 50
# Configurations a query is parsed with (each row's own decides which one applies).
SEARCH_CONFIG_NAMES = ("finnish", "swedish", "english", "turkish", "indonesian", "simple")


@dataclass(frozen=True)
class RecordQuery:
    """A records search: words, and the filters an information request names."""

    text: str
    account_ids: tuple[int, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    author: str = ""
    kinds: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "account_ids": list(self.account_ids),
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "author": self.author,
            "kinds": list(self.kinds),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> RecordQuery:
        def moment(value: object) -> datetime | None:
            return datetime.fromisoformat(str(value)) if value else None

        accounts = data.get("account_ids") or []
        kinds = data.get("kinds") or []
        return cls(
            text=str(data.get("text") or ""),
            account_ids=tuple(int(pk) for pk in accounts if str(pk).isdigit())
            if isinstance(accounts, list)
            else (),
            start=moment(data.get("start")),
            end=moment(data.get("end")),
            author=str(data.get("author") or ""),
            kinds=tuple(str(k) for k in kinds) if isinstance(kinds, list) else (),
        )


@dataclass
class RecordResults:
    entries: list[RecordEntry]
    count: int
    capped: bool
    # "fulltext"; "trigram" (full-text search found nothing: the words inside texts);
    # "similar" (neither did that: words close to them); "substring" (SQLite).
    method: str


def _search_configs() -> list[str]:
    from archive.services.archive import search_config_for

    available = {search_config_for(code) for code in ("fi", "sv", "en", "tr", "id")}
    return [name for name in SEARCH_CONFIG_NAMES if name in available or name == "simple"]


def records_entries_for_org(
    organization: Organization, query: RecordQuery, *, visible_account_ids: list[int] | None
) -> QuerySet[RecordEntry]:
    """The organization's entries under the query's filters (not yet its words).
    ``visible_account_ids`` None: every account (the member is not limited)."""
    from django.db import connection

    entries = RecordEntry.objects.filter(organization=organization)
    if visible_account_ids is not None:
        entries = entries.filter(channel_account_id__in=visible_account_ids)
    if query.account_ids:
        entries = entries.filter(channel_account_id__in=list(query.account_ids))
    if query.start is not None:
        entries = entries.filter(occurred_at__gte=query.start)
    if query.end is not None:
        entries = entries.filter(occurred_at__lt=query.end)
    author = query.author.strip()
    if author and connection.vendor == "postgresql":
        # ILIKE (not icontains' UPPER()) so the trigram index on ``author`` serves it.
        escaped = author.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        entries = entries.extra(
            where=["archive_recordentry.author ILIKE %s"], params=[f"%{escaped}%"]
        )
    elif author:
        entries = entries.filter(author__icontains=author)
    if query.kinds:
        entries = entries.filter(kind__in=list(query.kinds))
    return entries


def _tsqueries(words: str) -> dict[str, str]:
    """The words parsed once by each dictionary, as tsquery text (those left empty, all
    stop words, are dropped). Parsed here rather than in the search's WHERE so that
    the planner sees constants: it then estimates well and never parses per row."""
    from django.db import connection

    configs = _search_configs()
    columns = ", ".join("websearch_to_tsquery(%s::regconfig, %s)::text" for _name in configs)
    params: list[str] = []
    for name in configs:
        params += [name, words]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}", params)
        row = cursor.fetchone()
    return {name: text for name, text in zip(configs, row or (), strict=False) if text}


def _fulltext(entries: QuerySet[RecordEntry], words: str) -> QuerySet[RecordEntry]:
    """Rows whose words match, each row read with its own language's dictionary.

    The query parsed by every dictionary, the distinct parses or-ed into one ``@@``
    (one GIN index scan), then each row checked against the query parsed by its own
    dictionary (a Swedish stem must not match a Finnish row by chance). That check is
    a CASE, which no index serves: written as OR-ed ``config = … AND vector @@ …``
    clauses, the planner turned each into a GIN scan of its own, the same lexemes
    read six times over for a common word."""
    queries = _tsqueries(words)
    if not queries:
        return entries.none()
    any_language = " | ".join(f"({text})" for text in dict.fromkeys(queries.values()))
    own_language = " ".join(
        "WHEN %s THEN archive_recordentry.search_vector @@ %s::tsquery" for _name in queries
    )
    params: list[object] = [any_language]
    for name, text in queries.items():
        params += [name, text]
    # The clauses are built from constants only; every value goes in as a parameter.
    return entries.extra(  # noqa: S610
        where=[
            "archive_recordentry.search_vector @@ %s::tsquery",
            f"(CASE archive_recordentry.search_config {own_language} ELSE false END)",
        ],
        params=params,
    )


def _trigram(entries: QuerySet[RecordEntry], words: str) -> QuerySet[RecordEntry]:
    """Rows containing the words as written, inside longer words too (a compound, a
    form the dictionary does not stem): a substring match that pg_trgm's trigram
    index serves."""
    escaped = words.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
    # ILIKE (not Django's icontains, which wraps the column in UPPER()) so that the
    # trigram index on ``text`` serves it.
    return entries.extra(where=["archive_recordentry.text ILIKE %s"], params=[f"%{escaped}%"])


def _similar(entries: QuerySet[RecordEntry], words: str) -> QuerySet[RecordEntry]:
    """Rows with a word close to the words (pg_trgm's word similarity): a typo, or a
    Finnish form whose stem changed (kaupunki, kaupungin). The last resort: slower."""
    return entries.extra(where=["%s <%% archive_recordentry.text"], params=[words])


def _matching(
    entries: QuerySet[RecordEntry], words: str
) -> tuple[QuerySet[RecordEntry], str, list[tuple[int, datetime]]]:
    """Full-text search; when it finds nothing, the words as written inside the texts;
    when that finds nothing either, words close to them. Returns (rows, method, and the
    capped matches of ``_capped_matches``, which also tell whether any matched: a
    ``LIMIT 1`` probe would let the planner walk the whole table for a rare word)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        matched = entries.filter(text__icontains=words)
        return matched, "substring", _capped_matches(matched)
    for method, search in (("fulltext", _fulltext), ("trigram", _trigram)):
        matched = search(entries, words)
        matches = _capped_matches(matched)
        if matches:
            return matched, method, matches
    matched = _similar(entries, words)
    return matched, "similar", _capped_matches(matched)


def _capped_matches(entries: QuerySet[RecordEntry]) -> list[tuple[int, datetime]]:
    """(pk, time) of the matches, at most one more than the cap. Unordered, so that
    PostgreSQL reads a rare word's few rows from the GIN index and stops a common
    word's scan after the cap (ordered by time, it would walk the time index and test
    every row for a rare word)."""
    return list(entries.order_by().values_list("pk", "occurred_at")[: RECORDS_COUNT_CAP + 1])


# The newest-first page of a search with more matches than the cap is read from a
# window of the newest rows (organization and dates: the btree index's order), the
# words and other filters tested in it; the window grows from the first one's
# density of matches, up to the last size, beyond which the matches are sorted whole.
RECORDS_WINDOWS = (10_000, 200_000)


def _newest_in_window(
    organization: Organization,
    query: RecordQuery,
    matched: QuerySet[RecordEntry],
    *,
    window: int,
    wanted: int,
) -> list[int]:
    """The pks of the first ``wanted`` matches, newest first, among the ``window``
    newest entries of the organization in the query's dates (all of them when the
    window holds fewer). Rows past the window are never read, so a common word's page
    costs a walk of the time index, whatever the table's size; a window's matches are
    the newest matches of all, so a window that holds ``wanted`` of them is exact."""
    from django.db import connection

    bounds = ["organization_id = %s"]
    params: list[Any] = [organization.pk]
    if query.start is not None:
        bounds.append("occurred_at >= %s")
        params.append(query.start)
    if query.end is not None:
        bounds.append("occurred_at < %s")
        params.append(query.end)
    compiler = matched.query.get_compiler(using=matched.db)
    where, where_params = compiler.compile(matched.query.where)
    # The window is named like the table so that the matches' own WHERE (filters,
    # words) applies to it unchanged; bounds and WHERE are built from constants.
    sql = (
        "SELECT archive_recordentry.id FROM (SELECT * FROM archive_recordentry"  # noqa: S608
        f" WHERE {' AND '.join(bounds)}"
        " ORDER BY occurred_at DESC, id DESC LIMIT %s) AS archive_recordentry"
        f" WHERE {where} ORDER BY archive_recordentry.occurred_at DESC,"
        " archive_recordentry.id DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, window, *where_params, wanted])
        return [row[0] for row in cursor.fetchall()]


def _newest_page(
    organization: Organization,
    query: RecordQuery,
    matched: QuerySet[RecordEntry],
    *,
    offset: int,
    limit: int,
) -> list[int]:
    """The page's pks, newest first, for a search with more matches than the cap.

    A GIN index finds a word's rows but cannot order them: ordered by time, PostgreSQL
    either walks the time index testing every row (fast for a common word, the whole
    table for a rare one) or reads and sorts every match (slow for a common word). So:
    a small window of the newest rows first; when it holds too few, one window sized
    from its density of matches (bounded); when even that falls short (the matches are
    old, or sparse in a long history), every match read from the index and sorted."""
    from django.db import connection

    wanted = offset + limit
    first, largest = RECORDS_WINDOWS
    found = _newest_in_window(organization, query, matched, window=first, wanted=wanted)
    if len(found) < wanted:
        # Twice the rows the first window's density says are needed, so a second
        # window rarely falls short; none found: straight to the largest.
        needed = 2 * wanted * first // len(found) if found else largest
        if needed <= largest:
            found = _newest_in_window(organization, query, matched, window=needed, wanted=wanted)
    if len(found) >= wanted:
        return found[offset:]
    # Materialized, so the matches come from the GIN index and are sorted whole,
    # rather than the time index walked over rows that almost never match.
    inner = matched.order_by().values("id", "occurred_at").query
    sql, params = inner.get_compiler(using=matched.db).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH matches AS MATERIALIZED ({sql}) SELECT id FROM matches"  # noqa: S608
            " ORDER BY occurred_at DESC, id DESC LIMIT %s OFFSET %s",
            [*params, limit, offset],
        )
        return [row[0] for row in cursor.fetchall()]


def records_search(
    organization: Organization,
    query: RecordQuery,
    *,
    visible_account_ids: list[int] | None,
    limit: int = RECORDS_PAGE_SIZE,
    offset: int = 0,
) -> RecordResults:
    """Search everything kept: our posts and their earlier versions, comments on them,
    inbox items, our replies, internal notes. Full-text search first; when it finds
    nothing, the trigram fallback. Newest first.

    The matches are counted up to the cap (an unordered ``LIMIT``: the GIN index for a
    rare word, a scan that stops early for a common one). Up to the cap they are
    ordered from their (pk, time) alone and only the page's rows are read; beyond it
    the page comes from a window of the newest rows (``_newest_page``)."""
    from django.db import connection

    entries = records_entries_for_org(organization, query, visible_account_ids=visible_account_ids)
    words = query.text.strip()
    if words:
        entries, method, matches = _matching(entries, words)
    else:
        method, matches = "fulltext", _capped_matches(entries)
    capped = len(matches) > RECORDS_COUNT_CAP
    if capped and connection.vendor == "postgresql":
        ids = _newest_page(organization, query, entries, offset=offset, limit=limit)
    elif capped:
        ids = list(
            entries.order_by("-occurred_at", "-pk").values_list("pk", flat=True)[
                offset : offset + limit
            ]
        )
    else:
        matches.sort(key=lambda match: (match[1], match[0]), reverse=True)
        ids = [pk for pk, _when in matches[offset : offset + limit]]
    by_id = {
        entry.pk: entry
        for entry in RecordEntry.objects.select_related("channel_account").filter(pk__in=ids)
    }
    page = [by_id[pk] for pk in ids if pk in by_id]
    return RecordResults(
        entries=page,
        count=min(len(matches), RECORDS_COUNT_CAP),
        capped=capped,
        method=method,
    )


def records_search_all(
    organization: Organization, query: RecordQuery, *, visible_account_ids: list[int] | None
) -> QuerySet[RecordEntry]:
    """Every match of the query (for its export), oldest first."""

    entries = records_entries_for_org(organization, query, visible_account_ids=visible_account_ids)
    words = query.text.strip()
    if words:
        entries, _method, _matches = _matching(entries, words)
    return entries.order_by("occurred_at", "pk")


def visible_account_ids(membership: Membership) -> list[int] | None:
    """The accounts whose records the member may search; None: every account."""
    if membership.all_accounts:
        return None
    return list(channel_accounts_for_membership(membership).values_list("pk", flat=True))


def archived_post_get_for_membership(membership: Membership, pk: int) -> ArchivedPost:
    """An archived post of an account the member may see; another's is a 404."""
    posts = ArchivedPost.objects.filter(
        channel_account__in=channel_accounts_for_membership(membership)
    ).select_related("channel_account")
    return get_in_org(posts, membership.organization, pk=pk)
