"""Reads of the credential vault. Lists and details never load a secret's value
(the column is deferred, so nothing is decrypted until someone reveals it)."""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from governance.models import AuditEvent, Membership, Organization, VaultSecret
from governance.selectors.access import get_in_org
from governance.selectors.registry import local_today

REVEAL_ACTIONS = ("vault.secret_revealed", "vault.reveal_refused")


def _secrets() -> QuerySet[VaultSecret]:
    return (
        VaultSecret.objects.defer("value")
        .select_related("registry_entry", "created_by")
        .prefetch_related(
            Prefetch(
                "known_by",
                queryset=Membership.objects.select_related("user").order_by("user__email"),
            )
        )
    )


def vault_secrets_for_org(organization: Organization) -> QuerySet[VaultSecret]:
    return _secrets().filter(organization=organization).order_by("name", "pk")


def vault_secret_get(organization: Organization, pk: int | str) -> VaultSecret:
    """One secret of the organization, without its value (404 for another's)."""
    secret: VaultSecret = get_in_org(_secrets(), organization, pk=pk)
    return secret


def vault_reveal_history(secret: VaultSecret, limit: int = 50) -> QuerySet[AuditEvent]:
    """Who revealed the secret (or tried to), when and why: read from the audit log."""
    return (
        AuditEvent.objects.filter(
            target_type=VaultSecret._meta.label_lower,
            target_id=str(secret.pk),
            action__in=REVEAL_ACTIONS,
        )
        .select_related("actor")
        .order_by("-created_at", "-pk")[:limit]
    )


def vault_secret_rotation_due(secret: VaultSecret, today: date) -> bool:
    return secret.rotate_by is not None and secret.rotate_by < today


def vault_secrets_past_rotation(now: datetime | None = None) -> list[VaultSecret]:
    """Secrets, across organizations, past their rotation date where their organization
    is, whose reminder for that date has not gone out."""
    now = now or timezone.now()
    candidates = (
        VaultSecret.objects.defer("value")
        .filter(rotate_by__isnull=False, rotate_by__lte=now.date())
        .select_related("organization")
        .order_by("rotate_by", "pk")
    )
    return [
        secret
        for secret in candidates
        if secret.rotate_by is not None
        and secret.rotate_by < local_today(secret.organization, now)
        and secret.rotation_reminded_for != secret.rotate_by
    ]
