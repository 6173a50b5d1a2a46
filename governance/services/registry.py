"""Writes to the account registry: entries, the people with native access, access
reviews and their reminders. Each function is one transaction and writes an audit
entry for every change.

Linking an entry to a connected channel account changes a row of ``accounts``,
which this app never imports: that app registers a callable under
``LINK_ACCOUNT_PROVIDER`` (``fn(*, organization, entry, account_id)``: point the
organization's account ``account_id`` at ``entry``, or with ``account_id`` None
unlink whatever account points at it).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import override

from governance.models import (
    AccessReview,
    Membership,
    NativeAdmin,
    Organization,
    RegistryEntry,
    RegistryNetwork,
    ReviewCadence,
    Role,
    User,
)
from governance.providers import get_providers
from governance.selectors.registry import (
    connected_account_for_entry,
    connected_accounts_for_org,
    local_today,
    registry_entries_with_review_due,
)
from governance.services.audit import audit_record
from governance.services.notifications import notification_send

LINK_ACCOUNT_PROVIDER = "registry.link_channel_account"
REVIEW_REMINDER_KIND = "registry.review_due"


def add_months(day: date, months: int) -> date:
    """``day`` moved ``months`` ahead, kept inside the month (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


@dataclass
class RegistryEntryData:
    """What a person can set on an entry, parsed by a form or a serializer."""

    network: str
    handle: str
    display_name: str = ""
    purpose: str = ""
    business_owner: Membership | None = None
    technical_custodian: Membership | None = None
    backup_owner: Membership | None = None
    login_identity: str = ""
    two_factor_location: str = ""
    two_factor_holder: Membership | None = None
    review_cadence_months: int = ReviewCadence.QUARTERLY
    next_review_due: date | None = None


@dataclass(frozen=True)
class PersonInput:
    """A person with native access, as typed in: name, e-mail, role on the network."""

    name: str
    email: str = ""
    role_on_network: str = ""


_PEOPLE_FIELDS = ("business_owner", "technical_custodian", "backup_owner", "two_factor_holder")


def _person_label(membership: Membership | None) -> str:
    return membership.user.get_full_name() if membership is not None else ""


def _values(entry: RegistryEntry) -> dict[str, Any]:
    """An entry as the audit log records it: people by name, dates as text."""
    values: dict[str, Any] = {
        "network": entry.network,
        "handle": entry.handle,
        "display_name": entry.display_name,
        "purpose": entry.purpose,
        "login_identity": entry.login_identity,
        "two_factor_location": entry.two_factor_location,
        "review_cadence_months": entry.review_cadence_months,
        "next_review_due": entry.next_review_due.isoformat() if entry.next_review_due else None,
    }
    for name in _PEOPLE_FIELDS:
        values[name] = _person_label(getattr(entry, name))
    return values


def _validate(
    organization: Organization, data: RegistryEntryData, entry: RegistryEntry | None
) -> None:
    errors: dict[str, list[str]] = {}
    data.handle = data.handle.strip()
    if not data.handle:
        errors.setdefault("handle", []).append(_("Enter the account's handle or address."))
    if data.network not in RegistryNetwork.values:
        errors.setdefault("network", []).append(_("Choose a network from the list."))
    if data.review_cadence_months not in ReviewCadence.values:
        errors.setdefault("review_cadence_months", []).append(_("Choose a cadence from the list."))
    for name in _PEOPLE_FIELDS:
        person: Membership | None = getattr(data, name)
        if person is not None and (
            person.organization_id != organization.pk or not person.is_active
        ):
            errors.setdefault(name, []).append(_("Choose an active member of the organization."))
    duplicates = RegistryEntry.objects.filter(
        organization=organization, network=data.network, handle__iexact=data.handle
    )
    if entry is not None:
        duplicates = duplicates.exclude(pk=entry.pk)
    if data.handle and duplicates.exists():
        errors.setdefault("handle", []).append(_("This account is already in the registry."))
    if errors:
        raise ValidationError(errors)


def _apply(entry: RegistryEntry, data: RegistryEntryData) -> None:
    for field in fields(data):
        value = getattr(data, field.name)
        if field.name == "next_review_due" and value is None:
            continue  # kept as it is (a new entry gets its date from the cadence)
        setattr(entry, field.name, value)


def registry_entry_create(
    *,
    organization: Organization,
    actor: User,
    data: RegistryEntryData,
    channel_account_id: int | None = None,
    request: HttpRequest | None = None,
) -> RegistryEntry:
    """Add an official account to the registry, linked to a connected channel account
    if one is given. Its first access review falls due one cadence from today unless
    a date is given."""
    with transaction.atomic():
        _validate(organization, data, None)
        entry = RegistryEntry(organization=organization)
        _apply(entry, data)
        if data.next_review_due is None:
            entry.next_review_due = add_months(
                local_today(organization), int(data.review_cadence_months)
            )
        entry.save()
        audit_record(
            action="registry.entry_created",
            organization=organization,
            actor=actor,
            target=entry,
            new=_values(entry),
            request=request,
        )
        if channel_account_id is not None:
            _link_channel_account(
                entry=entry, actor=actor, account_id=channel_account_id, request=request
            )
    return entry


def registry_entry_update(
    *,
    entry: RegistryEntry,
    actor: User,
    data: RegistryEntryData,
    channel_account_id: int | Literal["unchanged"] | None = "unchanged",
    request: HttpRequest | None = None,
) -> RegistryEntry:
    """Change an entry; with ``channel_account_id`` (an id, or None to unlink) also
    change which connected channel account points at it."""
    with transaction.atomic():
        _validate(entry.organization, data, entry)
        old = _values(entry)
        _apply(entry, data)
        new = _values(entry)
        changed = [name for name in new if new[name] != old[name]]
        if changed:
            entry.updated_at = timezone.now()
            entry.save()
            audit_record(
                action="registry.entry_updated",
                organization=entry.organization,
                actor=actor,
                target=entry,
                old={name: old[name] for name in changed},
                new={name: new[name] for name in changed},
                request=request,
            )
        if channel_account_id != "unchanged":
            _link_channel_account(
                entry=entry, actor=actor, account_id=channel_account_id, request=request
            )
    return entry


def registry_entry_delete(
    *, entry: RegistryEntry, actor: User, request: HttpRequest | None = None
) -> None:
    """Remove an entry (an account closed for good). Its vault secrets stay, unlinked."""
    with transaction.atomic():
        audit_record(
            action="registry.entry_deleted",
            organization=entry.organization,
            actor=actor,
            target=entry,
            old=_values(entry),
            request=request,
        )
        entry.delete()


def _link_channel_account(
    *,
    entry: RegistryEntry,
    actor: User,
    account_id: int | None,
    request: HttpRequest | None,
) -> None:
    """Point a connected channel account at this entry (or, with None, unlink it)."""
    with transaction.atomic():
        current = connected_account_for_entry(entry)
        current_id = current.pk if current is not None else None
        if current_id == account_id:
            return
        accounts = {
            account.pk: account for account in connected_accounts_for_org(entry.organization)
        }
        if account_id is not None and account_id not in accounts:
            raise ValidationError(
                {"channel_account": [_("Choose one of the organization's connected accounts.")]}
            )
        for provider in get_providers(LINK_ACCOUNT_PROVIDER):
            provider(organization=entry.organization, entry=entry, account_id=account_id)
        audit_record(
            action="registry.channel_account_linked",
            organization=entry.organization,
            actor=actor,
            target=entry,
            old={"channel_account": current.label if current is not None else None},
            new={"channel_account": accounts[account_id].label if account_id is not None else None},
            request=request,
        )


def _member_by_email(organization: Organization, email: str) -> Membership | None:
    if not email:
        return None
    return (
        Membership.objects.filter(
            organization=organization, is_active=True, user__email__iexact=email.strip()
        )
        .select_related("user")
        .first()
    )


def _new_native_admin(entry: RegistryEntry, person: PersonInput) -> NativeAdmin:
    name = person.name.strip()
    email = person.email.strip().lower()
    membership = _member_by_email(entry.organization, email)
    if not name and membership is not None:
        name = membership.user.get_full_name()
    if not name:
        raise ValidationError({"name": [_("Enter the person's name.")]})
    duplicate = entry.native_admins.filter(
        Q(email__iexact=email) if email else Q(name__iexact=name, email="")
    )
    if duplicate.exists():
        raise ValidationError(
            {"email" if email else "name": [_("This person is already on the list.")]}
        )
    return NativeAdmin.objects.create(
        entry=entry,
        name=name,
        email=email,
        role_on_network=person.role_on_network.strip(),
        membership=membership,
    )


def native_admin_add(
    *,
    entry: RegistryEntry,
    actor: User,
    person: PersonInput,
    request: HttpRequest | None = None,
) -> NativeAdmin:
    """Record someone with direct access on the network. An e-mail address that is an
    active member's links the person to that membership."""
    with transaction.atomic():
        admin = _new_native_admin(entry, person)
        audit_record(
            action="registry.native_admin_added",
            organization=entry.organization,
            actor=actor,
            target=entry,
            new={**admin.as_person(), "member": admin.is_member},
            request=request,
        )
    return admin


def native_admin_remove(
    *, admin: NativeAdmin, actor: User, request: HttpRequest | None = None
) -> None:
    entry = admin.entry
    with transaction.atomic():
        audit_record(
            action="registry.native_admin_removed",
            organization=entry.organization,
            actor=actor,
            target=entry,
            old={**admin.as_person(), "member": admin.is_member},
            request=request,
        )
        admin.delete()


def access_review_record(
    *,
    entry: RegistryEntry,
    reviewer: User,
    keep_ids: set[int],
    added: list[PersonInput],
    notes: str = "",
    request: HttpRequest | None = None,
) -> AccessReview:
    """Record a completed access review: the people still with access (``keep_ids``
    of the current list) are confirmed, the rest removed, ``added`` put on the list;
    the next review falls due one cadence from today."""
    with transaction.atomic():
        locked = RegistryEntry.objects.select_for_update().get(pk=entry.pk)
        current = list(locked.native_admins.order_by("name", "pk"))
        unknown = keep_ids - {admin.pk for admin in current}
        if unknown:
            raise ValidationError(
                {"keep": [_("The list changed while you were reviewing it. Start again.")]}
            )
        confirmed = [admin for admin in current if admin.pk in keep_ids]
        removed = [admin for admin in current if admin.pk not in keep_ids]
        for admin in removed:
            admin.delete()
        new_admins = [_new_native_admin(locked, person) for person in added]
        now = timezone.now()
        next_due = add_months(local_today(locked.organization, now), locked.review_cadence_months)
        review = AccessReview.objects.create(
            entry=locked,
            reviewer=reviewer,
            reviewed_at=now,
            people_confirmed=[admin.as_person() for admin in confirmed],
            people_removed=[admin.as_person() for admin in removed],
            people_added=[admin.as_person() for admin in new_admins],
            notes=notes.strip(),
            next_due=next_due,
        )
        old_due = locked.next_review_due
        locked.last_reviewed_at = now
        locked.next_review_due = next_due
        locked.updated_at = now
        locked.save(update_fields=["last_reviewed_at", "next_review_due", "updated_at"])
        entry.last_reviewed_at, entry.next_review_due = now, next_due
        audit_record(
            action="registry.access_reviewed",
            organization=locked.organization,
            actor=reviewer,
            target=locked,
            old={"next_review_due": old_due.isoformat()},
            new={
                "confirmed": [person["name"] for person in review.people_confirmed],
                "removed": [person["name"] for person in review.people_removed],
                "added": [person["name"] for person in review.people_added],
                "next_review_due": next_due.isoformat(),
            },
            request=request,
        )
    return review


def _reminder_recipients(entry: RegistryEntry) -> list[User]:
    """The owner is reminded; without one, the custodian or backup; without any, the admins."""
    for membership in (entry.business_owner, entry.technical_custodian, entry.backup_owner):
        if membership is not None and membership.is_active and membership.user.is_active:
            return [membership.user]
    admins = Membership.objects.filter(
        organization=entry.organization, role=Role.ADMIN, is_active=True, user__is_active=True
    ).select_related("user")
    return [membership.user for membership in admins]


def access_review_send_reminder(*, entry_id: int, now: datetime | None = None) -> bool:
    """Remind the owner of a due access review, once per due date. Claimed with a
    conditional update, so two overlapping ticks cannot both send it. Returns whether
    this call sent it."""
    now = now or timezone.now()
    with transaction.atomic():
        entry = (
            RegistryEntry.objects.select_related(
                "organization",
                "business_owner__user",
                "technical_custodian__user",
                "backup_owner__user",
            )
            .filter(pk=entry_id)
            .first()
        )
        if entry is None or entry.next_review_due > local_today(entry.organization, now):
            return False
        due = entry.next_review_due
        claimed = (
            RegistryEntry.objects.filter(pk=entry.pk, next_review_due=due)
            .filter(Q(review_reminded_for__isnull=True) | ~Q(review_reminded_for=due))
            .update(review_reminded_for=due)
        )
        if claimed != 1:
            return False
        recipients = _reminder_recipients(entry)
        link = reverse("governance:registry_review", args=[entry.pk])
        for user in recipients:
            language = user.preferred_language or entry.organization.default_language
            with override(language):
                message = _(
                    "The access review of %(account)s is due (%(date)s): check who can "
                    "log in to it and record the review."
                ) % {"account": str(entry), "date": date_format(due, "DATE_FORMAT")}
            notification_send(
                user=user,
                organization=entry.organization,
                kind=REVIEW_REMINDER_KIND,
                message=message,
                link=link,
            )
        audit_record(
            action="registry.review_reminder_sent",
            organization=entry.organization,
            target=entry,
            new={"due": due.isoformat(), "to": [user.email for user in recipients]},
        )
    return True


def access_reviews_remind_due(*, now: datetime | None = None) -> int:
    """Send every due access review's reminder that has not gone out; how many went."""
    now = now or timezone.now()
    return sum(
        access_review_send_reminder(entry_id=entry.pk, now=now)
        for entry in registry_entries_with_review_due(now)
    )
