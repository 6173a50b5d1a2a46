"""Handover of a leaving member's responsibilities.

A case lists what the member holds, as the ``HANDOVER`` providers of
``governance.providers`` report it (registry roles, vault secrets, posts,
approval stages, inbox items, connected channel accounts). Each item gets a new
holder through its provider's ``reassign``; a manager or admin signs the case
off once nothing is left unassigned. Every function is keyword-only, runs in
one transaction and writes an audit entry for each change it makes; broken
rules raise ``ValidationError`` with a message for the person and a ``code``.
Who may call what (``handover.manage``, ``handover.sign_off``) is checked by
the views and the API through the access layer.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from governance.models import HandoverCase, HandoverItem, HandoverReason, Membership, Role, User
from governance.models.handover import HandoverStatus
from governance.providers import HeldItem, handover_provider, handover_providers
from governance.services.audit import audit_record
from governance.services.notifications import notification_send

logger = logging.getLogger(__name__)

# How many unassigned items a refusal names before it says "and N more".
UNASSIGNED_LISTED = 20


@dataclass
class _Collected:
    held: list[tuple[str, HeldItem]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SyncResult:
    added: int
    removed: int


def _content_type_id(object_type: str) -> int | None:
    app_label, _dot, model = object_type.partition(".")
    try:
        # The manager caches content types (and its cache follows test flushes).
        return ContentType.objects.get_by_natural_key(app_label, model).pk
    except ContentType.DoesNotExist:
        return None


def _collect(membership: Membership) -> _Collected:
    """Ask every provider what the member holds.

    One failing provider must not stop a deactivation (ending someone's access
    matters more than the list being complete at once): its key is recorded as
    an incomplete source, the case shows it, and the case cannot be signed off
    until a refresh lists it. A savepoint keeps its database error from
    poisoning the surrounding transaction.
    """
    collected = _Collected()
    for provider in handover_providers():
        try:
            with transaction.atomic():
                items = provider.items_held_by(membership)
        except Exception:
            logger.exception(
                "Handover provider %s failed for membership %s", provider.key, membership.pk
            )
            collected.failed.append(provider.key)
            continue
        collected.held.extend((provider.key, item) for item in items)
    return collected


def _sync_items(case: HandoverCase) -> SyncResult:
    """Bring the case's items in line with what the member holds now.

    New items are added; unassigned items the member no longer holds (a post
    published meanwhile) are dropped; items already given a new holder stay as
    the record of the handover, even if a provider still lists them (a secret
    the person knew stays known after it is handed on).
    """
    collected = _collect(case.membership)
    existing = {(item.kind, item.object_id): item for item in case.items.all()}
    seen: set[tuple[str, str]] = set()
    added = 0
    for kind, held in collected.held:
        key = (kind, str(held.object_id))
        if key in seen:
            continue
        seen.add(key)
        item = existing.get(key)
        if item is None:
            HandoverItem.objects.create(
                case=case,
                kind=kind,
                content_type_id=_content_type_id(held.object_type),
                object_id=str(held.object_id)[:64],
                label=held.label[:300],
                link=held.link[:500],
                detail=held.detail[:300],
                needs_rotation=held.needs_rotation,
            )
            added += 1
        elif not item.is_assigned and (
            item.label != held.label[:300]
            or item.link != held.link[:500]
            or item.detail != held.detail[:300]
            or item.needs_rotation != held.needs_rotation
        ):
            item.label = held.label[:300]
            item.link = held.link[:500]
            item.detail = held.detail[:300]
            item.needs_rotation = held.needs_rotation
            item.save(update_fields=["label", "link", "detail", "needs_rotation"])
    # A failed provider's items are left alone: not listed is not "no longer held".
    gone = [
        item.pk
        for key, item in existing.items()
        if key not in seen and not item.is_assigned and item.kind not in collected.failed
    ]
    if gone:
        HandoverItem.objects.filter(pk__in=gone).delete()
    case.refreshed_at = timezone.now()
    case.incomplete_sources = sorted(collected.failed)
    case.save(update_fields=["refreshed_at", "incomplete_sources"])
    return SyncResult(added=added, removed=len(gone))


def _lock_case(case: HandoverCase) -> HandoverCase:
    return (
        HandoverCase.objects.select_for_update(of=("self",))
        .select_related("organization", "membership__user")
        .get(pk=case.pk)
    )


def _refuse_closed(case: HandoverCase) -> None:
    if not case.is_open:
        raise ValidationError(
            _("This handover was signed off; it can no longer change."), code="case_closed"
        )


def _case_summary(case: HandoverCase) -> dict[str, object]:
    return {
        "member": case.membership.user.email,
        "items": case.items.count(),
        "unassigned": case.items.filter(new_holder__isnull=True).count(),
    }


def handover_case_open(
    *,
    membership: Membership,
    actor: User | None,
    reason: str = HandoverReason.MANUAL,
    request: HttpRequest | None = None,
) -> HandoverCase:
    """Open the member's handover case and list what they hold.

    A member has at most one open case: when one is open already (a leaving date
    opened it, and now they are deactivated) it is refreshed and returned.
    """
    if reason not in HandoverReason.values:
        raise ValidationError(_("Choose a valid reason."), code="invalid_reason")
    with transaction.atomic():
        # The member's row lock serializes two admins opening the same case at once.
        membership = (
            Membership.objects.select_for_update(of=("self",), no_key=True)
            .select_related("organization", "user")
            .get(pk=membership.pk)
        )
        case = HandoverCase.objects.filter(
            membership=membership, status=HandoverStatus.OPEN
        ).first()
        if case is not None:
            case.membership = membership
            result = _sync_items(case)
            if result.added or result.removed:
                audit_record(
                    action="handover.case_refreshed",
                    organization=membership.organization,
                    actor=actor,
                    target=case,
                    new={"added": result.added, "removed": result.removed, "reason": reason},
                    request=request,
                )
            return case
        case = HandoverCase.objects.create(
            organization=membership.organization,
            membership=membership,
            reason=reason,
            opened_by=actor,
        )
        _sync_items(case)
        audit_record(
            action="handover.case_opened",
            organization=membership.organization,
            actor=actor,
            target=case,
            new={**_case_summary(case), "reason": reason},
            request=request,
        )
    return case


def _refresh(
    case: HandoverCase, actor: User | None, request: HttpRequest | None, *, always_audit: bool
) -> SyncResult:
    with transaction.atomic():
        case = _lock_case(case)
        _refuse_closed(case)
        result = _sync_items(case)
        if always_audit or result.added or result.removed:
            audit_record(
                action="handover.case_refreshed",
                organization=case.organization,
                actor=actor,
                target=case,
                new={
                    "added": result.added,
                    "removed": result.removed,
                    "incomplete_sources": case.incomplete_sources,
                },
                request=request,
            )
    return result


def handover_case_refresh(
    *, case: HandoverCase, actor: User, request: HttpRequest | None = None
) -> SyncResult:
    """List again what the member holds (while the case is open)."""
    return _refresh(case, actor, request, always_audit=True)


def _check_new_holder(case: HandoverCase, new_holder: Membership) -> None:
    if (
        new_holder.organization_id != case.organization_id
        or not new_holder.is_active
        or new_holder.pk == case.membership_id
    ):
        raise ValidationError(
            _("Choose an active member of the organization other than the person leaving."),
            code="invalid_holder",
        )
    if new_holder.role == Role.AUDITOR:
        raise ValidationError(
            _("Auditors have read-only access and cannot take responsibilities over."),
            code="invalid_holder",
        )


def _notify_new_holder(case: HandoverCase, new_holder: Membership, count: int) -> None:
    user = new_holder.user
    language = user.preferred_language or case.organization.default_language
    with translation.override(language):
        message = ngettext(
            "You have taken over %(count)d item from the handover of %(name)s.",
            "You have taken over %(count)d items from the handover of %(name)s.",
            count,
        ) % {"count": count, "name": case.membership.user.full_name or case.membership.user.email}
    notification_send(
        user=user,
        organization=case.organization,
        kind="handover.items_reassigned",
        message=message,
    )


def handover_items_reassign(
    *,
    case: HandoverCase,
    item_ids: Sequence[int],
    new_holder: Membership,
    actor: User,
    request: HttpRequest | None = None,
) -> list[HandoverItem]:
    """Give the chosen items of the case to ``new_holder``.

    Each item's provider moves the object in its own app (the post's author, the
    stage's named reviewer); an item already given to someone else moves on from
    them. All or nothing: if a provider refuses one item (the new holder lacks
    the role it needs) nothing is reassigned.
    """
    wanted = sorted({int(pk) for pk in item_ids})
    if not wanted:
        raise ValidationError(_("Choose at least one item."), code="no_items")
    with transaction.atomic():
        case = _lock_case(case)
        _refuse_closed(case)
        new_holder = Membership.objects.select_related("user").get(pk=new_holder.pk)
        _check_new_holder(case, new_holder)
        items = list(
            case.items.select_for_update(of=("self",))
            .filter(pk__in=wanted)
            .select_related("new_holder__user")
        )
        if len(items) != len(wanted):
            raise ValidationError(
                _("Some of the chosen items are not part of this handover."), code="unknown_items"
            )
        groups: dict[tuple[str, int], list[HandoverItem]] = defaultdict(list)
        for item in items:
            if item.new_holder_id == new_holder.pk:
                continue
            holder_id = item.new_holder_id or case.membership_id
            groups[(item.kind, holder_id)].append(item)
        holders = {
            m.pk: m
            for m in Membership.objects.select_related("user", "organization").filter(
                pk__in={holder_id for _kind, holder_id in groups}
            )
        }
        now = timezone.now()
        moved: list[HandoverItem] = []
        previous: dict[str, str] = {}
        for (kind, holder_id), group in groups.items():
            provider = handover_provider(kind)
            if provider is None:
                raise ValidationError(
                    _("The part of the app that holds “%(item)s” is not available.")
                    % {"item": group[0].label},
                    code="provider_missing",
                )
            provider.reassign(
                [item.object_id for item in group],
                new_holder,
                actor,
                previous_holder=holders[holder_id],
            )
            for item in group:
                previous[item.label] = holders[holder_id].user.email
                item.new_holder = new_holder
                item.reassigned_by = actor
                item.reassigned_at = now
                item.save(update_fields=["new_holder", "reassigned_by", "reassigned_at"])
                moved.append(item)
        if moved:
            audit_record(
                action="handover.items_reassigned",
                organization=case.organization,
                actor=actor,
                target=case,
                old={"holders": previous},
                new={
                    "new_holder": new_holder.user.email,
                    "items": [f"{item.kind}:{item.object_id} {item.label}" for item in moved],
                    "rotate": [item.label for item in moved if item.needs_rotation],
                },
                request=request,
            )
            _notify_new_holder(case, new_holder, len(moved))
    return moved


def _unassigned_message(case: HandoverCase, labels: list[str]) -> str:
    listed = "; ".join(labels[:UNASSIGNED_LISTED])
    more = len(labels) - UNASSIGNED_LISTED
    if more > 0:
        listed += " " + ngettext("and %(count)d more", "and %(count)d more", more) % {"count": more}
    return ngettext(
        "The handover cannot be signed off: %(count)d item still needs a new holder: %(items)s.",
        "The handover cannot be signed off: %(count)d items still need a new holder: %(items)s.",
        len(labels),
    ) % {"count": len(labels), "items": listed}


def handover_case_sign_off(
    *,
    case: HandoverCase,
    actor: User,
    notes: str = "",
    request: HttpRequest | None = None,
) -> HandoverCase:
    """Close the case. Refused while any item has no new holder, or while a part of the
    app could not list what the person holds.

    The list is refreshed first, in its own transaction, so something the person
    took on since the last look (a leaving member still at work) is not missed:
    it is added to the case and the sign-off refused until it has a holder.
    """
    _refresh(case, actor, request, always_audit=False)
    with transaction.atomic():
        case = _lock_case(case)
        _refuse_closed(case)
        if case.incomplete_sources:
            raise ValidationError(
                _(
                    "The handover cannot be signed off: some parts of the app could not list "
                    "what the person holds (%(sources)s). Refresh the list and try again."
                )
                % {"sources": ", ".join(case.incomplete_sources)},
                code="incomplete",
            )
        unassigned = [
            item.label
            for item in case.items.filter(new_holder__isnull=True).order_by("kind", "label")
        ]
        if unassigned:
            raise ValidationError(_unassigned_message(case, unassigned), code="unassigned")
        case.status = HandoverStatus.SIGNED_OFF
        case.signed_off_by = actor
        case.signed_off_at = timezone.now()
        case.notes = notes.strip()
        case.save(update_fields=["status", "signed_off_by", "signed_off_at", "notes"])
        audit_record(
            action="handover.case_signed_off",
            organization=case.organization,
            actor=actor,
            target=case,
            old={"status": HandoverStatus.OPEN},
            new={"status": HandoverStatus.SIGNED_OFF, **_case_summary(case), "notes": case.notes},
            request=request,
        )
    return case
