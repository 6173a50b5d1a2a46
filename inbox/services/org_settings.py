"""The organization's inbox rules, its watch words and saved replies, and people's saved views."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ChannelAccount
from governance.models import Membership, Organization, User
from governance.selectors.access import require_perm
from governance.services.audit import audit_record
from inbox.models import (
    InboxSettings,
    Priority,
    PriorityWord,
    ResponsePolicy,
    SavedReply,
    SavedView,
    Tag,
)
from publishing.languages import normalise_language_tag, organization_language_codes
from publishing.validation import organization_publishing_rules


def response_policy_update(
    *,
    membership: Membership,
    actor: User,
    working_days: Iterable[int],
    work_starts: time,
    work_ends: time,
    target_hours: Decimal,
    high_priority_target_hours: Decimal | None,
    holidays: Iterable[date] = (),
    request: HttpRequest | None = None,
) -> ResponsePolicy:
    """Set how fast the organization promises to answer. Due times of items already in
    the inbox stay as they were promised."""
    require_perm(membership, "inbox.manage")
    days = sorted({int(day) for day in working_days})
    if not days or any(day not in range(7) for day in days):
        raise ValidationError(_("Choose at least one working day."), code="working_days")
    if work_ends <= work_starts:
        raise ValidationError(_("The working day must end after it starts."), code="work_ends")
    if target_hours <= 0:
        raise ValidationError(_("The target must be more than zero hours."), code="target_hours")
    if high_priority_target_hours is not None and high_priority_target_hours <= 0:
        raise ValidationError(
            _("The target must be more than zero hours."), code="high_priority_target_hours"
        )
    with transaction.atomic():
        policy, _created = ResponsePolicy.objects.select_for_update().get_or_create(
            organization=membership.organization
        )
        old = _policy_values(policy)
        policy.working_days = days
        policy.work_starts = work_starts
        policy.work_ends = work_ends
        policy.target_hours = target_hours
        policy.high_priority_target_hours = high_priority_target_hours
        policy.holidays = sorted({day.isoformat() for day in holidays})
        policy.updated_at = timezone.now()
        policy.save()
        new = _policy_values(policy)
        if old != new:
            audit_record(
                action="inbox.response_policy_changed",
                organization=membership.organization,
                actor=actor,
                target=policy,
                old=old,
                new=new,
                request=request,
            )
    return policy


def _policy_values(policy: ResponsePolicy) -> dict[str, object]:
    return {
        "working_days": list(policy.working_days),
        "work_starts": str(policy.work_starts),
        "work_ends": str(policy.work_ends),
        "target_hours": str(Decimal(policy.target_hours)),
        "high_priority_target_hours": (
            str(Decimal(policy.high_priority_target_hours))
            if policy.high_priority_target_hours is not None
            else None
        ),
        "holidays": list(policy.holidays),
    }


def inbox_settings_update(
    *,
    membership: Membership,
    actor: User,
    signature_rule: str,
    approval_accounts: Iterable[ChannelAccount],
    approval_tags: Iterable[Tag],
    request: HttpRequest | None = None,
) -> InboxSettings:
    """Set the signature rule and which accounts' and tags' replies need approval."""
    require_perm(membership, "inbox.manage")
    organization = membership.organization
    accounts = list(approval_accounts)
    tags = list(approval_tags)
    if any(account.organization_id != organization.pk for account in accounts) or any(
        tag.organization_id != organization.pk for tag in tags
    ):
        raise ValidationError(_("Choose the organization's own accounts and tags."))
    with transaction.atomic():
        settings, _created = InboxSettings.objects.select_for_update().get_or_create(
            organization=organization
        )
        old = _settings_values(settings)
        settings.signature_rule = signature_rule
        settings.updated_at = timezone.now()
        settings.save(update_fields=["signature_rule", "updated_at"])
        settings.approval_accounts.set(accounts)
        settings.approval_tags.set(tags)
        new = _settings_values(settings)
        if old != new:
            audit_record(
                action="inbox.settings_changed",
                organization=organization,
                actor=actor,
                target=settings,
                old=old,
                new=new,
                request=request,
            )
    return settings


def _settings_values(settings: InboxSettings) -> dict[str, object]:
    return {
        "signature_rule": settings.signature_rule,
        "approval_accounts": sorted(settings.approval_accounts.values_list("handle", flat=True)),
        "approval_tags": sorted(settings.approval_tags.values_list("name", flat=True)),
    }


def priority_word_add(
    *,
    membership: Membership,
    actor: User,
    word: str,
    language: str = "",
    match_prefix: bool = False,
    level: int = Priority.HIGH,
    request: HttpRequest | None = None,
) -> PriorityWord:
    """Add a watch word. It raises the priority of items that arrive from now on.
    ``language`` is any BCP 47 tag (normalised: "FI" → "fi"), or blank for any."""
    require_perm(membership, "inbox.manage")
    word = " ".join(word.split())
    if not word:
        raise ValidationError(_("Write the word or phrase."), code="word")
    if language:
        language = normalise_language_tag(language)
    if level not in (Priority.HIGH, Priority.URGENT):
        raise ValidationError(_("Choose high or urgent."), code="level")
    try:
        with transaction.atomic():
            entry = PriorityWord.objects.create(
                organization=membership.organization,
                word=word,
                language=language,
                match_prefix=match_prefix,
                level=level,
                created_by=actor,
            )
            audit_record(
                action="inbox.priority_word_added",
                organization=membership.organization,
                actor=actor,
                target=entry,
                new={
                    "word": word,
                    "language": language,
                    "match_prefix": match_prefix,
                    "level": level,
                },
                request=request,
            )
    except IntegrityError as exc:
        raise ValidationError(
            _("%(word)s is already on the list.") % {"word": word}, code="word"
        ) from exc
    return entry


def priority_word_delete(
    *, membership: Membership, actor: User, word: PriorityWord, request: HttpRequest | None = None
) -> None:
    require_perm(membership, "inbox.manage")
    with transaction.atomic():
        audit_record(
            action="inbox.priority_word_removed",
            organization=membership.organization,
            actor=actor,
            target=word,
            old={"word": word.word, "level": word.level, "match_prefix": word.match_prefix},
            request=request,
        )
        word.delete()


def saved_reply_language_codes(organization: Organization, current: str = "") -> list[str]:
    """The languages a saved reply may be in: those the organization posts in, and the
    reply's own language when it has since left the list."""
    codes = organization_language_codes(organization_publishing_rules(organization))
    if current and current not in codes:
        codes.append(current)
    return codes


def saved_reply_save(
    *,
    membership: Membership,
    actor: User,
    title: str,
    language: str,
    body: str,
    saved_reply: SavedReply | None = None,
    request: HttpRequest | None = None,
) -> SavedReply:
    """Add a saved reply, or change ``saved_reply``."""
    require_perm(membership, "inbox.manage")
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise ValidationError(_("Give the saved reply a title and a text."), code="body")
    allowed = saved_reply_language_codes(
        membership.organization, saved_reply.language if saved_reply else ""
    )
    if language not in allowed:
        raise ValidationError(
            _("%(language)s is not a language we publish in.") % {"language": language},
            code="language",
        )
    try:
        with transaction.atomic():
            if saved_reply is None:
                entry = SavedReply.objects.create(
                    organization=membership.organization,
                    title=title,
                    language=language,
                    body=body,
                    created_by=actor,
                )
                old: dict[str, object] = {}
            else:
                entry = SavedReply.objects.select_for_update().get(pk=saved_reply.pk)
                old = {"title": entry.title, "language": entry.language, "body": entry.body}
                entry.title, entry.language, entry.body = title, language, body
                entry.updated_at = timezone.now()
                entry.save()
            audit_record(
                action="inbox.saved_reply_saved",
                organization=membership.organization,
                actor=actor,
                target=entry,
                old=old,
                new={"title": title, "language": language, "body": body},
                request=request,
            )
    except IntegrityError as exc:
        raise ValidationError(
            _("There is already a saved reply with this title in this language."), code="title"
        ) from exc
    return entry


def saved_reply_delete(
    *,
    membership: Membership,
    actor: User,
    saved_reply: SavedReply,
    request: HttpRequest | None = None,
) -> None:
    require_perm(membership, "inbox.manage")
    with transaction.atomic():
        audit_record(
            action="inbox.saved_reply_deleted",
            organization=membership.organization,
            actor=actor,
            target=saved_reply,
            old={
                "title": saved_reply.title,
                "language": saved_reply.language,
                "body": saved_reply.body,
            },
            request=request,
        )
        saved_reply.delete()


def saved_view_save(*, membership: Membership, name: str, query: str) -> SavedView:
    """Keep the reader's current filters under ``name`` (replacing a view of that name).
    A personal bookmark, not an accountable act: not audited."""
    require_perm(membership, "inbox.view")
    name = " ".join(name.split())
    if not name:
        raise ValidationError(_("Give the view a name."), code="name")
    view, _created = SavedView.objects.update_or_create(
        organization_id=membership.organization_id,
        owner_id=membership.user_id,
        name=name[:80],
        defaults={"query": query[:1000]},
    )
    return view


def saved_view_delete(*, membership: Membership, view: SavedView) -> None:
    if view.owner_id != membership.user_id:
        raise ValidationError(_("This is not your view."))
    view.delete()
