"""Providers: how a lower app learns things from the apps above it.

``governance`` is the ground floor and never imports ``accounts``, ``publishing``,
``inbox`` or ``analytics``. Where a governance page needs their data (the
registry listing connected channel accounts, the risk report listing sign-ins
about to end, a handover listing the posts a person holds), the higher app
registers a provider here from its ``AppConfig.ready`` and governance calls
every provider registered for that kind.

Most kinds take plain callables; each kind's module in governance documents the
call signature and the shape of what the callables return, and this module
only keeps the lists. Two kinds take small provider objects, specified here:
``HANDOVER`` and ``RECORDS``. For example::

    # publishing/apps.py
    class PublishingConfig(AppConfig):
        def ready(self) -> None:
            from governance.providers import HANDOVER, RECORDS, register_provider
            from publishing import providers

            register_provider(HANDOVER, providers.AuthoredPostsProvider())
            register_provider(RECORDS, providers.PublishedPostsRecords())

``HANDOVER`` providers (:class:`HandoverProvider`) list what one person holds
and hand it to someone else:

- ``key``: a stable code, stored on each ``HandoverItem.kind`` (``"publishing.posts"``).
- ``label``: what the handover page calls the group ("Posts they wrote").
- ``items_held_by(membership) -> list[HeldItem]``: everything the member holds
  in this provider's area, in the member's organization only.
- ``reassign(item_ids, new_holder, actor, *, previous_holder) -> None``: give the
  objects named by ``item_ids`` (the ``HeldItem.object_id`` values the provider
  returned) to ``new_holder`` (an active, non-auditor membership of the same
  organization, never the leaving one). ``previous_holder`` is the membership
  that holds them now: the leaving person, or the new holder chosen earlier when
  someone changes their mind, so a provider that *replaces* a person (an
  approval stage's named reviewer) knows whom to replace. It runs inside the
  handover service's transaction: do the write, write the provider's own audit
  entry (``audit_record``) for each object's change, and raise
  ``django.core.exceptions.ValidationError`` (with a message for the person)
  when the new holder cannot take an item, for instance lacking the role it
  needs; the whole reassignment is then rolled back. Objects no longer held by
  ``previous_holder`` may be skipped silently.

``RECORDS`` providers (:class:`RecordsProvider`) are one record type each, for
the retention rules, the disposal job and records-request exports:

- ``key``: the record type's code, stored on rules and holds (``"published_posts"``).
- ``label``: its name in forms and logs ("Published posts").
- ``actions``: the disposal actions it supports (``{"delete", "anonymize"}``;
  records kept in the audit log support only ``{"archive"}``: never removed).
- ``count_records(organization, accounts, start, end) -> int`` and
  ``iter_records(organization, accounts, start, end) -> Iterator[Record]``: the
  organization's records of this type, limited to channel ``accounts`` (a
  sequence of ``ChannelAccount`` ids; empty means every account) and to
  ``start <= when < end`` (aware datetimes; ``None`` means open-ended). The count
  drives the export's progress bar and must match what the iterator yields.
- ``dispose(organization, older_than, held, *, action, dry_run) -> DisposalResult``:
  delete or anonymize the records dated before ``older_than``, except those
  covered by any of ``held`` (:class:`HoldScope`: the active legal holds on this
  record type; :func:`held_q` builds the matching ``Q``). With ``dry_run``
  change nothing and report what would be done. Write nothing to the audit
  log: the records service logs the run.

A provider object with a ``key`` replaces an earlier one with the same key
(``ready()`` can run more than once in tests, making new instances); a plain
callable registered twice is kept once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any, Protocol, runtime_checkable

from django.db.models import Q
from django.utils.functional import Promise

if TYPE_CHECKING:
    from governance.models import Membership, Organization, User

Provider = Callable[..., Any]

HANDOVER = "handover"
RECORDS = "records"
# Callables ``fn(membership) -> None`` run after a member joins or gets a new role
# (after the transaction commits), so a higher app can tell them what already waits
# for them, such as posts in review that their new role lets them decide on.
MEMBER_ROLE_GIVEN = "member_role_given"

# What each kind of provider object must have; checked when it registers.
_REQUIRED: dict[str, tuple[str, ...]] = {
    HANDOVER: ("key", "label", "items_held_by", "reassign"),
    RECORDS: ("key", "label", "actions", "count_records", "iter_records", "dispose"),
}

# Disposal actions a records provider may support.
ACTION_DELETE = "delete"
ACTION_ANONYMIZE = "anonymize"
ACTION_ARCHIVE = "archive"

# Callables, or provider objects for the kinds specified below.
_PROVIDERS: dict[str, list[Any]] = {}


def register_provider(kind: str, fn: Provider | object) -> None:
    """Add ``fn`` to the providers of ``kind``; registering the same callable twice
    (``ready()`` can run more than once in tests) keeps one, and a provider object
    replaces an earlier one with the same ``key``."""
    missing = [name for name in _REQUIRED.get(kind, ()) if not hasattr(fn, name)]
    if missing:
        raise TypeError(f"{fn!r} is not a {kind} provider: it lacks {', '.join(missing)}")
    providers = _PROVIDERS.setdefault(kind, [])
    key = getattr(fn, "key", None)
    if key is not None:
        for index, existing in enumerate(providers):
            if getattr(existing, "key", None) == key:
                providers[index] = fn
                return
    if fn not in providers:
        providers.append(fn)


def unregister_provider(kind: str, fn: Provider | object) -> None:
    """Remove ``fn`` (or the provider whose ``key`` is ``fn``) from the providers of
    ``kind`` (tests that swap one in)."""
    providers = _PROVIDERS.get(kind, [])
    for existing in list(providers):
        if (
            existing is fn
            or existing == fn
            or (isinstance(fn, str) and getattr(existing, "key", None) == fn)
        ):
            providers.remove(existing)


def get_providers(kind: str) -> list[Provider]:
    """The callables registered for ``kind``, in registration order (a copy)."""
    return list(_PROVIDERS.get(kind, []))


def _keyed(kind: str, key: str) -> Any | None:
    for provider in _PROVIDERS.get(kind, []):
        if getattr(provider, "key", None) == key:
            return provider
    return None


# --- handover -----------------------------------------------------------------------


@dataclass(frozen=True)
class HeldItem:
    """One thing a person holds, as a handover case lists it.

    ``object_type`` is the model's ``app_label.model_name`` (``"publishing.post"``)
    and ``object_id`` its primary key as text. ``link`` is a path to the object's
    page ("" when it has none); ``detail`` a short second line (its status, its
    time). ``needs_rotation`` marks a secret the person knew: whoever takes it
    over should change it.
    """

    object_type: str
    object_id: str
    label: str
    link: str = ""
    detail: str = ""
    needs_rotation: bool = False


@runtime_checkable
class HandoverProvider(Protocol):
    key: str
    label: str | Promise

    def items_held_by(self, membership: Membership) -> list[HeldItem]: ...

    def reassign(
        self,
        item_ids: Sequence[str],
        new_holder: Membership,
        actor: User,
        *,
        previous_holder: Membership,
    ) -> None: ...


def handover_providers() -> list[HandoverProvider]:
    return list(_PROVIDERS.get(HANDOVER, []))


def handover_provider(key: str) -> HandoverProvider | None:
    provider: HandoverProvider | None = _keyed(HANDOVER, key)
    return provider


# --- records ------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFile:
    """A media file that goes into an export beside the records.

    ``name`` is its file name inside the record type's media folder (unique within
    the type, e.g. ``"42-photo.png"``); ``open`` returns a binary file object,
    which the exporter closes.
    """

    name: str
    open: Callable[[], IO[bytes]]


@dataclass(frozen=True)
class Record:
    """One record for an export: JSON-able ``data`` plus any media files.

    ``data`` values are JSON types (times as ISO 8601 strings). The CSV file takes
    its columns from the keys; nested values are written as JSON text.
    """

    id: str
    occurred_at: datetime
    data: dict[str, Any]
    media: tuple[ExportFile, ...] = ()


@dataclass(frozen=True)
class HoldScope:
    """What one active legal hold protects within one record type.

    ``account_ids`` empty: every account. ``start``/``end``: aware datetimes,
    ``start <= when < end``; ``None`` is open-ended.
    """

    hold_id: int
    account_ids: frozenset[int] = frozenset()
    start: datetime | None = None
    end: datetime | None = None

    def covers(self, when: datetime | None, account_ids: Iterable[int] = ()) -> bool:
        """Whether a record dated ``when``, tied to ``account_ids``, is held."""
        if when is not None:
            if self.start is not None and when < self.start:
                return False
            if self.end is not None and when >= self.end:
                return False
        if self.account_ids:
            return bool(self.account_ids.intersection(account_ids))
        return True


def held_q(held: Sequence[HoldScope], *, date_field: str, account_field: str = "") -> Q:
    """A ``Q`` matching the records any of ``held`` covers.

    ``date_field`` is the record's date lookup; ``account_field`` the lookup of its
    channel account id (``"variants__channel_account_id"``), or "" for records not
    tied to an account (then an account-limited hold covers none of them). Across
    a multi-valued relation, use it as ``qs.filter(q).values("pk")``. With no
    holds the ``Q`` matches nothing.
    """
    matches = Q(pk__in=[])
    for scope in held:
        # Starts as "every record": an empty Q() would vanish when or-ed below.
        q = Q(pk__isnull=False)
        if scope.start is not None:
            q &= Q(**{f"{date_field}__gte": scope.start})
        if scope.end is not None:
            q &= Q(**{f"{date_field}__lt": scope.end})
        if scope.account_ids:
            if not account_field:
                continue
            q &= Q(**{f"{account_field}__in": sorted(scope.account_ids)})
        matches |= q
    return matches


@dataclass(frozen=True)
class DisposalResult:
    """What a disposal did (or, in a dry run, would do).

    ``removed``: records deleted or anonymized; ``held``: records past their
    retention kept because a legal hold covers them; ``ids``: the removed
    records' ids (the log keeps them, so what went is on record); ``note``: a
    sentence for the log when the provider did something else.
    """

    removed: int
    held: int = 0
    ids: list[str] = field(default_factory=list)
    note: str = ""


@runtime_checkable
class RecordsProvider(Protocol):
    key: str
    label: str | Promise
    actions: frozenset[str]

    def count_records(
        self,
        organization: Organization,
        accounts: Sequence[int],
        start: datetime | None,
        end: datetime | None,
    ) -> int: ...

    def iter_records(
        self,
        organization: Organization,
        accounts: Sequence[int],
        start: datetime | None,
        end: datetime | None,
    ) -> Iterator[Record]: ...

    def dispose(
        self,
        organization: Organization,
        older_than: datetime,
        held: Sequence[HoldScope],
        *,
        action: str,
        dry_run: bool,
    ) -> DisposalResult: ...


def records_providers() -> list[RecordsProvider]:
    return list(_PROVIDERS.get(RECORDS, []))


def records_provider(key: str) -> RecordsProvider | None:
    provider: RecordsProvider | None = _keyed(RECORDS, key)
    return provider
