"""Personal API tokens: made, shown once, stored only as a hash, revoked."""

from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import ApiToken, Membership, Organization, User
from governance.services.audit import audit_record

# Every token starts with this, so a leaked one is recognisable (secret scanners,
# log scrubbers) and the authentication layer can tell it from other schemes.
TOKEN_PREFIX = "gs_"  # noqa: S105 (a label, not a secret)
# How much of the token the list shows to tell tokens apart: "gs_" and 7 random characters.
DISPLAY_PREFIX_LENGTH = 10
NAME_MAX_LENGTH = 100


def api_token_hash(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def api_token_create(
    *, user: User, organization: Organization, name: str, request: HttpRequest | None = None
) -> tuple[ApiToken, str]:
    """Make a token for ``user`` in ``organization``; return it with the raw token.

    The raw token exists only in the return value: the database keeps its SHA-256,
    and the audit entry names the token by its display prefix, never the token.
    """
    name = name.strip()
    if not name:
        raise ValidationError({"name": [_("Give the token a name.")]})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            {"name": [_("Use at most %(max)d characters.") % {"max": NAME_MAX_LENGTH}]}
        )
    if (
        not user.is_active
        or not Membership.objects.filter(
            user=user, organization=organization, is_active=True
        ).exists()
    ):
        raise PermissionDenied
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            organization=organization,
            name=name,
            prefix=raw[:DISPLAY_PREFIX_LENGTH],
            token_hash=api_token_hash(raw),
        )
        audit_record(
            action="api_token.created",
            organization=organization,
            actor=user,
            target=token,
            new={"name": token.name, "prefix": token.prefix, "user": user.email},
            request=request,
        )
    return token, raw


def api_token_revoke(*, token: ApiToken, actor: User, request: HttpRequest | None = None) -> bool:
    """Revoke ``token`` at once. Returns False (and writes nothing) if it was already revoked.

    The conditional update decides the winner when two revocations race, so the
    audit log holds exactly one ``api_token.revoked`` entry per token.
    """
    now = timezone.now()
    with transaction.atomic():
        changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
        if not changed:
            return False
        token.revoked_at = now
        audit_record(
            action="api_token.revoked",
            organization=token.organization,
            actor=actor,
            target=token,
            old={"revoked_at": None},
            new={"revoked_at": now, "user": token.user.email},
            request=request,
        )
    return True
