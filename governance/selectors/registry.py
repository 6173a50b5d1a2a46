"""Reads of the account registry, always inside the caller's organization.

Connected channel accounts live in ``accounts``, above this app: the registry
learns about them from providers registered under ``CONNECTED_ACCOUNTS_PROVIDER``
(see ``governance.providers``), never by importing ``accounts``.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import (
    AccessReview,
    AuditEvent,
    Membership,
    NativeAdmin,
    Organization,
    RegistryEntry,
    VaultSecret,
)
from governance.providers import get_providers
from governance.selectors.access import get_in_org, has_perm

# Providers of this kind take ``organization`` and return an iterable of
# ``ConnectedAccount``: the organization's channel accounts connected to the app.
CONNECTED_ACCOUNTS_PROVIDER = "registry.connected_accounts"


@dataclass(frozen=True)
class ConnectedAccount:
    """A channel account connected to the app, as the registry shows it."""

    pk: int
    network: str
    handle: str
    label: str
    status_label: str
    url: str
    registry_entry_id: int | None


def connected_accounts_for_org(organization: Organization) -> list[ConnectedAccount]:
    found: list[ConnectedAccount] = []
    for provider in get_providers(CONNECTED_ACCOUNTS_PROVIDER):
        found.extend(provider(organization))
    return sorted(found, key=lambda account: (account.network, account.handle, account.pk))


def connected_account_for_entry(entry: RegistryEntry) -> ConnectedAccount | None:
    for account in connected_accounts_for_org(entry.organization):
        if account.registry_entry_id == entry.pk:
            return account
    return None


# --- Access ----------------------------------------------------------------------------


def _holds_role_in(membership: Membership, entry: RegistryEntry) -> bool:
    return membership.pk in {
        entry.business_owner_id,
        entry.technical_custodian_id,
        entry.backup_owner_id,
    }


def registry_entry_can_view(membership: Membership, entry: RegistryEntry) -> bool:
    """Registry readers see every entry; an owner sees the entries they answer for."""
    return has_perm(membership, "registry.view") or (
        membership.is_active and _holds_role_in(membership, entry)
    )


def registry_entry_can_review(membership: Membership, entry: RegistryEntry) -> bool:
    """Admins review any account's access; its owner, custodian and backup their own."""
    return has_perm(membership, "registry.manage") or (
        membership.is_active and _holds_role_in(membership, entry)
    )


# --- Lists and details -----------------------------------------------------------------

_PEOPLE = (
    "business_owner__user",
    "technical_custodian__user",
    "backup_owner__user",
    "two_factor_holder__user",
)


def registry_entries_for_org(organization: Organization) -> QuerySet[RegistryEntry]:
    """Every entry of the organization, its people loaded, with ``native_admin_count``."""
    return (
        RegistryEntry.objects.filter(organization=organization)
        .select_related(*_PEOPLE)
        .annotate(native_admin_count=Count("native_admins", distinct=True))
        .order_by("network", "handle", "pk")
    )


def registry_entries_held_by(membership: Membership) -> QuerySet[RegistryEntry]:
    """Entries where the member is business owner, technical custodian or backup owner."""
    return registry_entries_for_org(membership.organization).filter(
        Q(business_owner=membership)
        | Q(technical_custodian=membership)
        | Q(backup_owner=membership)
    )


def registry_entry_get(organization: Organization, pk: int | str) -> RegistryEntry:
    """One entry of the organization (404 for another organization's)."""
    entry: RegistryEntry = get_in_org(
        RegistryEntry.objects.select_related("organization", *_PEOPLE).prefetch_related(
            Prefetch(
                "native_admins",
                queryset=NativeAdmin.objects.select_related("membership__user").order_by(
                    "name", "pk"
                ),
            ),
            # Never the values: a page that lists secrets must not decrypt them.
            Prefetch(
                "vault_secrets",
                queryset=VaultSecret.objects.defer("value").order_by("name", "pk"),
            ),
        ),
        organization,
        pk=pk,
    )
    return entry


def native_admin_get(entry: RegistryEntry, pk: int | str) -> NativeAdmin:
    admin = entry.native_admins.filter(pk=pk).first() if str(pk).isdigit() else None
    if admin is None:
        raise Http404
    return admin


def access_reviews_for_entry(entry: RegistryEntry) -> QuerySet[AccessReview]:
    return entry.access_reviews.select_related("reviewer").order_by("-reviewed_at", "-pk")


def registry_entry_history(entry: RegistryEntry, limit: int = 20) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        target_type=RegistryEntry._meta.label_lower, target_id=str(entry.pk)
    ).order_by("-created_at", "-pk")[:limit]


def registry_people_choices(organization: Organization) -> QuerySet[Membership]:
    """Members who can own, keep or back up an account: the active ones."""
    return (
        Membership.objects.filter(organization=organization, is_active=True)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


# --- Login identity: role mailbox or a person's address? -------------------------------

# Words that mark a shared mailbox, in the interface's languages. A word of five
# letters or more also counts inside a longer part ("viestintayksikko").
ROLE_MAILBOX_WORDS = frozenset(
    {
        # English
        "admin", "comms", "communication", "communications", "contact", "digital",
        "editor", "editorial", "hello", "info", "marketing", "media", "news", "newsroom",
        "noreply", "office", "press", "pr", "service", "social", "socialmedia", "support",
        "team", "web", "webmaster",
        # Finnish
        "asiakaspalvelu", "kirjaamo", "markkinointi", "neuvonta", "palaute", "some",
        "tiedotus", "tiedotteet", "toimitus", "verkko", "verkkoviestinta", "viestinta",
        # Swedish
        "information", "kommunikation", "kundtjanst", "registrator", "redaktion",
        # Turkish
        "basin", "bilgi", "iletisim",
        # Indonesian
        "humas", "informasi", "kontak",
    }
)  # fmt: skip
# Personal webmail: an official account's login should never sit on one.
CONSUMER_EMAIL_DOMAINS = frozenset(
    {
        "aol.com", "gmail.com", "gmx.com", "gmx.de", "googlemail.com", "hotmail.com",
        "icloud.com", "live.com", "luukku.com", "mail.com", "me.com", "msn.com",
        "outlook.com", "proton.me", "protonmail.com", "suomi24.fi", "yahoo.com",
        "yandex.com", "ymail.com",
    }
)  # fmt: skip

IdentityKind = Literal["missing", "not_email", "role", "personal", "unclear"]
IDENTITY_KINDS: tuple[IdentityKind, ...] = ("missing", "not_email", "role", "personal", "unclear")


@dataclass(frozen=True)
class LoginIdentityCheck:
    kind: IdentityKind
    reason: str = ""

    @property
    def looks_personal(self) -> bool:
        return self.kind == "personal"


def _fold(text: str) -> str:
    """Lower case without accents, so "Viestintä" and "viestinta" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _is_role_word(part: str) -> bool:
    return part in ROLE_MAILBOX_WORDS or any(
        len(word) >= 5 and word in part for word in ROLE_MAILBOX_WORDS
    )


def _name_forms(full_name: str) -> set[str]:
    """How a person's name tends to appear before the @: first.last, first_last, …"""
    parts = [_fold(part) for part in re.split(r"[\s\-]+", full_name.strip()) if part]
    if len(parts) < 2:
        return set()
    first, last = parts[0], parts[-1]
    return {
        f"{first}.{last}",
        f"{first}_{last}",
        f"{first}-{last}",
        f"{first}{last}",
        f"{first[0]}.{last}",
        f"{first[0]}{last}",
        f"{last}.{first}",
    }


def login_identity_check(identity: str, members: Iterable[Membership]) -> LoginIdentityCheck:
    """Say whether a login address looks like a role mailbox or a person's own.

    The registry recommends a role mailbox (viestinta@, comms@): a personal
    address leaves with the person. Flags an address that is a member's own, a
    webmail address, or shaped like firstname.lastname.
    """
    identity = identity.strip()
    if not identity:
        return LoginIdentityCheck("missing")
    if "@" not in identity:
        return LoginIdentityCheck("not_email")
    local, _at, domain = _fold(identity).rpartition("@")
    for membership in members:
        if _fold(membership.user.email) == f"{local}@{domain}":
            return LoginIdentityCheck(
                "personal",
                _("This is the personal address of %(name)s.")
                % {"name": membership.user.get_full_name()},
            )
    parts = [part for part in re.split(r"[._+\-\d]+", local) if part]
    if any(_is_role_word(part) for part in parts):
        return LoginIdentityCheck("role", _("A role mailbox."))
    if domain in CONSUMER_EMAIL_DOMAINS:
        return LoginIdentityCheck("personal", _("A personal webmail address."))
    for membership in members:
        if local in _name_forms(membership.user.full_name):
            return LoginIdentityCheck(
                "personal",
                _("Looks like the address of %(name)s.")
                % {"name": membership.user.get_full_name()},
            )
    # Two or three runs of letters joined by dots, dashes or underscores.
    if re.fullmatch(r"[^\W\d_]{2,}([.\-_][^\W\d_]{2,}){1,2}", local):
        return LoginIdentityCheck(
            "personal", _("Looks like a person's address (firstname.lastname).")
        )
    return LoginIdentityCheck("unclear")


# --- Access reviews falling due -------------------------------------------------------


def local_today(organization: Organization, now: datetime | None = None) -> date:
    """Today's date where the organization is."""
    now = now or timezone.now()
    try:
        zone = zoneinfo.ZoneInfo(organization.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return timezone.localtime(now, zone).date()


def registry_entries_with_review_due(now: datetime | None = None) -> list[RegistryEntry]:
    """Entries, across organizations, whose access review is due today or earlier where
    their organization is, and whose reminder for that due date has not gone out."""
    now = now or timezone.now()
    # A day of slack for time zones ahead of UTC; the exact check is per organization.
    horizon = now.date().toordinal() + 1
    candidates = (
        RegistryEntry.objects.filter(next_review_due__lte=date.fromordinal(horizon))
        .filter(Q(review_reminded_for__isnull=True) | ~Q(review_reminded_for=F("next_review_due")))
        .select_related("organization")
        .order_by("next_review_due", "pk")
    )
    return [
        entry
        for entry in candidates
        if entry.next_review_due <= local_today(entry.organization, now)
    ]
