"""Writes to the credential vault, and the one way to read a secret's value.

A secret's value never enters the audit log, a notification, the session or a log
line: audit entries name the secret and say what happened to it. Revealing one
needs the ``vault.reveal`` permission, a stated reason and a code from the person's
authenticator app entered with the request itself: an earlier check (at login, or
for a reveal a minute ago) never stands in for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import override
from django.views.decorators.debug import sensitive_variables

from governance.models import (
    Membership,
    Organization,
    RegistryEntry,
    Role,
    SecretKind,
    User,
    VaultSecret,
)
from governance.selectors.access import has_perm
from governance.selectors.registry import local_today
from governance.selectors.vault import vault_secrets_past_rotation
from governance.services.audit import audit_record
from governance.services.auth import otp_check_fresh_code
from governance.services.notifications import notification_send

ROTATION_REMINDER_KIND = "vault.rotation_due"

RefusalReason = Literal["reason_required", "otp_required", "wrong_code", "throttled"]


@dataclass
class VaultSecretData:
    """What a person sets on a secret, apart from its value."""

    name: str
    kind: str = SecretKind.PASSWORD
    notes: str = ""
    registry_entry: RegistryEntry | None = None
    rotate_by: date | None = None


def _values(secret: VaultSecret) -> dict[str, Any]:
    """A secret as the audit log records it. Never the value."""
    return {
        "name": secret.name,
        "kind": secret.kind,
        "notes": secret.notes,
        "registry_entry": str(secret.registry_entry) if secret.registry_entry else None,
        "rotate_by": secret.rotate_by.isoformat() if secret.rotate_by else None,
    }


def _validate(organization: Organization, data: VaultSecretData) -> None:
    errors: dict[str, list[str]] = {}
    data.name = data.name.strip()
    if not data.name:
        errors["name"] = [_("Give the secret a name.")]
    if data.kind not in SecretKind.values:
        errors["kind"] = [_("Choose a kind from the list.")]
    if data.registry_entry is not None and data.registry_entry.organization_id != organization.pk:
        errors["registry_entry"] = [_("Choose one of the organization's accounts.")]
    if errors:
        raise ValidationError(errors)


def _apply(secret: VaultSecret, data: VaultSecretData) -> None:
    secret.name = data.name
    secret.kind = data.kind
    secret.notes = data.notes
    secret.registry_entry = data.registry_entry
    if secret.rotate_by != data.rotate_by:
        secret.rotation_reminded_for = None
    secret.rotate_by = data.rotate_by


@sensitive_variables("value")
def vault_secret_create(
    *,
    organization: Organization,
    actor: User,
    data: VaultSecretData,
    value: str,
    request: HttpRequest | None = None,
) -> VaultSecret:
    """Store a secret, encrypted. The person storing it is recorded as knowing it."""
    with transaction.atomic():
        _validate(organization, data)
        if not value:
            raise ValidationError({"value": [_("Enter the secret.")]})
        now = timezone.now()
        secret = VaultSecret(
            organization=organization, created_by=actor, value=value, last_rotated_at=now
        )
        _apply(secret, data)
        secret.save()
        _mark_known(secret, organization, actor)
        audit_record(
            action="vault.secret_created",
            organization=organization,
            actor=actor,
            target=secret,
            new=_values(secret),
            request=request,
        )
    return secret


def _mark_known(secret: VaultSecret, organization: Organization, user: User) -> None:
    membership = Membership.objects.filter(organization=organization, user=user).first()
    if membership is not None:
        secret.known_by.add(membership)


@sensitive_variables("new_value")
def vault_secret_update(
    *,
    secret: VaultSecret,
    actor: User,
    data: VaultSecretData,
    new_value: str = "",
    request: HttpRequest | None = None,
) -> VaultSecret:
    """Change a secret's details, and with ``new_value`` rotate it: the rotation date
    is then cleared or moved by the caller, and only the person who typed the new
    value knows it."""
    with transaction.atomic():
        _validate(secret.organization, data)
        old = _values(secret)
        _apply(secret, data)
        new = _values(secret)
        changed = [name for name in new if new[name] != old[name]]
        now = timezone.now()
        if new_value:
            secret.value = new_value
            secret.last_rotated_at = now
            secret.rotation_reminded_for = None
        if not changed and not new_value:
            return secret
        secret.updated_at = now
        secret.save()
        if changed:
            audit_record(
                action="vault.secret_updated",
                organization=secret.organization,
                actor=actor,
                target=secret,
                old={name: old[name] for name in changed},
                new={name: new[name] for name in changed},
                request=request,
            )
        if new_value:
            # Whoever knew the old value does not know this one.
            secret.known_by.clear()
            _mark_known(secret, secret.organization, actor)
            audit_record(
                action="vault.secret_rotated",
                organization=secret.organization,
                actor=actor,
                target=secret,
                new={"name": secret.name, "rotate_by": new["rotate_by"]},
                request=request,
            )
    return secret


def vault_secret_delete(
    *, secret: VaultSecret, actor: User, request: HttpRequest | None = None
) -> None:
    with transaction.atomic():
        audit_record(
            action="vault.secret_deleted",
            organization=secret.organization,
            actor=actor,
            target=secret,
            old=_values(secret),
            request=request,
        )
        secret.delete()


@dataclass(frozen=True)
class RevealOutcome:
    """A revealed value, or why it was refused. Kept only as long as the response."""

    value: str | None = None
    refused: RefusalReason | None = None
    wait_seconds: int = 0

    @property
    def ok(self) -> bool:
        return self.value is not None


def _refuse(
    *,
    secret: VaultSecret,
    actor: User,
    why: RefusalReason,
    reason: str,
    request: HttpRequest | None,
    wait_seconds: int = 0,
) -> RevealOutcome:
    audit_record(
        action="vault.reveal_refused",
        organization=secret.organization,
        actor=actor,
        target=secret,
        new={"name": secret.name, "refused": why, "reason": reason},
        request=request,
    )
    return RevealOutcome(refused=why, wait_seconds=wait_seconds)


@sensitive_variables("value", "otp_code")
def vault_secret_reveal(
    *,
    secret: VaultSecret,
    membership: Membership,
    reason: str,
    otp_code: str = "",
    request: HttpRequest,
) -> RevealOutcome:
    """Reveal a secret's value to ``membership``'s person, for a stated reason.

    The second factor must be proved by this very request: ``otp_code``, checked
    against the person's authenticator app. Nothing remembered counts (not the
    login, not a reveal moments ago, not an API token), so a session left open
    on an unattended computer cannot reveal anything. The reveal is audited with
    the reason; the value never is.
    """
    if not has_perm(membership, "vault.reveal") or secret.organization_id != (
        membership.organization_id
    ):
        raise PermissionDenied
    actor = membership.user
    reason = " ".join(reason.split())
    if not reason:
        return RevealOutcome(refused="reason_required")
    with transaction.atomic():
        if not otp_code:
            return _refuse(
                secret=secret, actor=actor, why="otp_required", reason=reason, request=request
            )
        check = otp_check_fresh_code(
            request=request, user=actor, code=otp_code, stage="vault reveal"
        )
        if not check.ok:
            why: RefusalReason = "throttled" if check.reason == "throttled" else "wrong_code"
            return _refuse(
                secret=secret,
                actor=actor,
                why=why,
                reason=reason,
                request=request,
                wait_seconds=check.wait_seconds,
            )
        value = VaultSecret.objects.only("value").get(pk=secret.pk).value
        secret.known_by.add(membership)
        audit_record(
            action="vault.secret_revealed",
            organization=secret.organization,
            actor=actor,
            target=secret,
            new={"name": secret.name, "kind": secret.kind, "reason": reason},
            request=request,
        )
    return RevealOutcome(value=value)


def _rotation_recipients(secret: VaultSecret) -> list[User]:
    """The account's technical custodian is told; without one, the organization's admins."""
    entry = secret.registry_entry
    custodian = entry.technical_custodian if entry is not None else None
    if custodian is not None and custodian.is_active and custodian.user.is_active:
        return [custodian.user]
    admins = Membership.objects.filter(
        organization=secret.organization, role=Role.ADMIN, is_active=True, user__is_active=True
    ).select_related("user")
    return [membership.user for membership in admins]


def vault_secret_send_rotation_reminder(*, secret_id: int, now: datetime | None = None) -> bool:
    """Tell the custodian a secret is past its rotation date, once per rotation date
    (claimed with a conditional update, so overlapping ticks send one notice)."""
    now = now or timezone.now()
    with transaction.atomic():
        secret = (
            VaultSecret.objects.defer("value")
            .select_related("organization", "registry_entry__technical_custodian__user")
            .filter(pk=secret_id, rotate_by__isnull=False)
            .first()
        )
        if secret is None or secret.rotate_by is None:
            return False
        rotate_by = secret.rotate_by
        if rotate_by >= local_today(secret.organization, now):
            return False
        claimed = (
            VaultSecret.objects.filter(pk=secret.pk, rotate_by=rotate_by)
            .filter(Q(rotation_reminded_for__isnull=True) | ~Q(rotation_reminded_for=rotate_by))
            .update(rotation_reminded_for=rotate_by)
        )
        if claimed != 1:
            return False
        recipients = _rotation_recipients(secret)
        link = reverse("governance:vault_edit", args=[secret.pk])
        for user in recipients:
            with override(user.preferred_language or secret.organization.default_language):
                message = _(
                    "The vault secret %(name)s should have been rotated by %(date)s: "
                    "change it on the network and store the new value."
                ) % {"name": secret.name, "date": date_format(rotate_by, "DATE_FORMAT")}
            notification_send(
                user=user,
                organization=secret.organization,
                kind=ROTATION_REMINDER_KIND,
                message=message,
                link=link,
            )
        audit_record(
            action="vault.rotation_reminder_sent",
            organization=secret.organization,
            target=secret,
            new={"rotate_by": rotate_by.isoformat(), "to": [user.email for user in recipients]},
        )
    return True


def vault_rotations_remind_due(*, now: datetime | None = None) -> int:
    """Send every past-due rotation reminder that has not gone out; how many went."""
    now = now or timezone.now()
    return sum(
        vault_secret_send_rotation_reminder(secret_id=secret.pk, now=now)
        for secret in vault_secrets_past_rotation(now)
    )
