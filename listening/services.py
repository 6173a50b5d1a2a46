"""Listening: keeping watches, polling the networks' search, volume, alerts and actions.

Polling runs on the ``sync`` queue, one small task per (watch, account) that is
due; the claim is a conditional update, so a doubled beat tick or a second worker
does nothing. Posts are kept once per watch, keyed by their identity across the
network (a Mastodon status's ``uri``, not the id one instance gave it), so searching
the same window again, or the same status through a second instance, adds nothing.
Every change a person makes is audited.
"""

from __future__ import annotations

import logging
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, Sum
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.connectors.base import (
    AuthError,
    ConnectorError,
    FoundPost,
    RateLimited,
)
from accounts.connectors.registry import UnknownNetwork, get_connector
from accounts.models import AccountStatus, ChannelAccount
from accounts.services import channel_account_record_error
from governance.models import Membership, User
from governance.selectors.access import require_perm
from governance.services.audit import audit_record
from governance.services.notifications import notification_send
from inbox.models import InboxItem
from inbox.services.sync import inbox_store_pushed_items
from listening.matching import (
    MAX_TERM_LENGTH,
    MAX_TERMS,
    Matcher,
    matcher_for,
    search_query,
    term_kind,
)
from listening.models import (
    CaseReach,
    CaseStatus,
    ListeningPost,
    MisinformationCase,
    Watch,
    WatchAlert,
    WatchSource,
    WatchVolume,
)
from publishing.models import PublishingPause
from publishing.services.pause import publishing_pause_start

logger = logging.getLogger(__name__)

POLL_EVERY = timedelta(minutes=5)
POLL_LEASE = timedelta(minutes=5)
# How far back the first search of a new watch reaches, and how much each later search
# overlaps the last (a post indexed late is not lost; duplicates are ignored).
FIRST_LOOKBACK = timedelta(days=1)
OVERLAP = timedelta(minutes=15)
PAGE_SIZE = 100
MAX_PAGES_PER_TERM = 5
DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=15)
BASELINE_DAYS = 14
HOUR = timedelta(hours=1)


# --- watches -----------------------------------------------------------------------------------


def _validate_terms(terms: Sequence[str], excluded: Sequence[str]) -> None:
    errors: dict[str, list[str]] = {}
    if not terms:
        errors["terms"] = [_("Give at least one term to watch.")]
    elif len(terms) > MAX_TERMS:
        errors["terms"] = [_("A watch can have at most %(count)d terms.") % {"count": MAX_TERMS}]
    for field, values in (("terms", terms), ("excluded_terms", excluded)):
        long = [t for t in values if len(t) > MAX_TERM_LENGTH]
        bare = [t for t in values if term_kind(t) in ("hashtag", "handle") and len(t) < 2]
        if long:
            errors.setdefault(field, []).append(
                _("A term can be at most %(count)d characters.") % {"count": MAX_TERM_LENGTH}
            )
        if bare:
            errors.setdefault(field, []).append(_("Write the hashtag or handle after # or @."))
    if errors:
        raise ValidationError(errors)


def _watch_state(watch: Watch) -> dict[str, object]:
    return {
        "name": watch.name,
        "terms": list(watch.terms),
        "excluded_terms": list(watch.excluded_terms),
        "prefix_match": watch.prefix_match,
        "accounts": sorted(a.handle for a in watch.channel_accounts.all()),
        "alert_factor": watch.alert_factor,
        "alert_min_count": watch.alert_min_count,
        "is_active": watch.is_active,
    }


def watch_save(
    *,
    membership: Membership,
    watch: Watch | None,
    name: str,
    terms: Sequence[str],
    excluded_terms: Sequence[str],
    prefix_match: bool,
    channel_accounts: Sequence[ChannelAccount],
    followers: Sequence[User] = (),
    alert_factor: int = 3,
    alert_min_count: int = 10,
    is_active: bool = True,
    request: HttpRequest | None = None,
) -> Watch:
    """Create or change a watch; the accounts must be the organization's and searchable."""
    require_perm(membership, "listening.manage")
    _validate_terms(terms, excluded_terms)
    if not channel_accounts:
        raise ValidationError({"channel_accounts": [_("Choose where to search.")]})
    for account in channel_accounts:
        if account.organization_id != membership.organization_id:
            raise PermissionDenied
        try:
            searchable = get_connector(account.network).listening.searchable
        except UnknownNetwork:
            searchable = False
        if not searchable:
            raise ValidationError(
                {
                    "channel_accounts": [
                        _("%(account)s is on a network whose search we cannot use.")
                        % {"account": account.handle}
                    ]
                }
            )
    with transaction.atomic():
        creating = watch is None
        old = None if watch is None else _watch_state(watch)
        if watch is None:
            watch = Watch(organization=membership.organization, created_by=membership.user)
        watch.name = name.strip()[:120]
        watch.terms = list(terms)
        watch.excluded_terms = list(excluded_terms)
        watch.prefix_match = prefix_match
        watch.alert_factor = alert_factor
        watch.alert_min_count = alert_min_count
        watch.is_active = is_active
        watch.updated_at = timezone.now()
        watch.save()
        watch.channel_accounts.set(channel_accounts)
        if creating:
            watch.followers.add(membership.user)
        if followers:
            members = Membership.objects.filter(
                organization_id=membership.organization_id,
                is_active=True,
                user__in=[u.pk for u in followers],
            ).values_list("user_id", flat=True)
            watch.followers.add(*members)
        for account in channel_accounts:
            WatchSource.objects.get_or_create(watch=watch, channel_account=account)
        WatchSource.objects.filter(watch=watch).exclude(
            channel_account__in=[a.pk for a in channel_accounts]
        ).delete()
        audit_record(
            action="listening.watch_created" if creating else "listening.watch_changed",
            organization=membership.organization,
            actor=membership.user,
            target=watch,
            target_label=watch.name,
            old=old,
            new=_watch_state(watch),
            request=request,
        )
    return watch


def watch_follow(
    *, membership: Membership, watch: Watch, follow: bool, request: HttpRequest | None = None
) -> None:
    """Follow a watch (its alerts come to you in the app and by e-mail), or stop."""
    require_perm(membership, "listening.view")
    with transaction.atomic():
        if follow:
            watch.followers.add(membership.user)
        else:
            watch.followers.remove(membership.user)
        audit_record(
            action="listening.watch_followed" if follow else "listening.watch_unfollowed",
            organization=membership.organization,
            actor=membership.user,
            target=watch,
            target_label=watch.name,
            request=request,
        )


def watch_delete(
    *, membership: Membership, watch: Watch, request: HttpRequest | None = None
) -> None:
    """Delete a watch with the posts it found. A watch whose posts are evidence in a
    misinformation case (or marked as misinformation) is kept: stop it instead."""
    require_perm(membership, "listening.manage")
    evidence = ListeningPost.objects.filter(watch=watch).filter(
        Q(case__isnull=False) | Q(misinformation_at__isnull=False)
    )
    if evidence.exists():
        raise ValidationError(
            _(
                "Posts this watch found are marked as misinformation or belong to a case; "
                "they are kept. Make the watch inactive instead."
            ),
            code="watch_has_evidence",
        )
    with transaction.atomic():
        audit_record(
            action="listening.watch_deleted",
            organization=membership.organization,
            actor=membership.user,
            target=watch,
            target_label=watch.name,
            old=_watch_state(watch),
            request=request,
        )
        watch.delete()


# --- polling -----------------------------------------------------------------------------------


@dataclass
class PollResult:
    outcome: str
    found: int = 0
    added: int = 0
    message: str = ""


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def sources_due(now: datetime | None = None) -> Iterable[int]:
    now = now or timezone.now()
    return (
        WatchSource.objects.filter(
            watch__is_active=True,
            channel_account__status=AccountStatus.ACTIVE,
            next_poll_at__lte=now,
        )
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .values_list("pk", flat=True)
    )


def _search_term(
    source: WatchSource, term: str, since: datetime, matcher: Matcher
) -> list[tuple[FoundPost, list[str]]]:
    """Every post the network finds for ``term`` since ``since`` that the watch matches."""
    account = source.channel_account
    connector = get_connector(account.network)
    kind = term_kind(term)
    caps = connector.listening
    if (
        (kind == "hashtag" and not caps.hashtags)
        or (kind == "handle" and not caps.handles)
        or (kind in ("word", "phrase") and not caps.words)
    ):
        return []
    kept: list[tuple[FoundPost, list[str]]] = []
    cursor = ""
    for _page in range(MAX_PAGES_PER_TERM):
        page = connector.search_posts(
            account,
            search_query(term, prefix=source.watch.prefix_match),
            since=since,
            cursor=cursor,
            limit=PAGE_SIZE,
        )
        older = False
        for post in page.posts:
            if post.created_at is not None and post.created_at < since:
                older = True
                continue
            matched = matcher.matches(post.text)
            if matched:
                kept.append((post, matched))
        if older or not page.next_cursor or not page.posts:
            break
        cursor = page.next_cursor
    return kept


def listening_store_posts(
    *,
    watch: Watch,
    account: ChannelAccount | None,
    network: str,
    found: Sequence[tuple[FoundPost, Sequence[str]]],
    now: datetime | None = None,
) -> list[ListeningPost]:
    """Keep the posts the watch has not seen yet, count them into the hourly volume, and
    raise an alert for any hour that passed its baseline. Returns the new rows."""
    now = now or timezone.now()
    unique: dict[str, tuple[FoundPost, Sequence[str]]] = {}
    for post, matched in found:
        if not post.remote_id:
            continue
        key = (post.canonical_id or post.remote_id)[:500]
        if key not in unique:
            unique[key] = (post, matched)
    if not unique:
        return []
    with transaction.atomic():
        # One store per watch at a time: two of its sources (two Mastodon instances)
        # polled at once may find the same status, and only one may count it as new.
        Watch.objects.select_for_update().filter(pk=watch.pk).values_list("pk").first()
        existing = {
            row[0]: row
            for row in ListeningPost.objects.filter(
                watch=watch, network=network, canonical_key__in=list(unique)
            ).values_list("canonical_key", "pk", "likes", "shares", "replies", "quotes")
        }
        rows = [
            ListeningPost(
                organization_id=watch.organization_id,
                watch=watch,
                channel_account=account,
                network=network,
                remote_id=post.remote_id[:300],
                canonical_key=key,
                url=post.url[:500],
                author_handle=post.author_handle[:255],
                author_name=post.author_name[:255],
                text=post.text,
                language=post.language[:16],
                posted_at=min(post.created_at, now) if post.created_at else now,
                found_at=now,
                likes=post.likes,
                shares=post.shares,
                replies=post.replies,
                quotes=post.quotes,
                matched_terms=list(matched),
                extra=dict(post.extra),
            )
            for key, (post, matched) in unique.items()
            if key not in existing
        ]
        ListeningPost.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        # Refresh the engagement of posts seen before whose numbers changed (one query).
        changed = [
            ListeningPost(
                pk=existing[key][1],
                likes=post.likes,
                shares=post.shares,
                replies=post.replies,
                quotes=post.quotes,
            )
            for key, (post, _matched) in unique.items()
            if key in existing
            and existing[key][2:] != (post.likes, post.shares, post.replies, post.quotes)
        ]
        if changed:
            ListeningPost.objects.bulk_update(
                changed, ["likes", "shares", "replies", "quotes"], batch_size=500
            )
        hours = Counter(_hour(row.posted_at) for row in rows)
        _add_volume(watch, hours)
    for hour in sorted(hours):
        if hour >= _hour(now) - HOUR:
            alert_check(watch=watch, hour=hour)
    return rows


def _add_volume(watch: Watch, hours: Counter[datetime]) -> None:
    if not hours:
        return
    WatchVolume.objects.bulk_create(
        [WatchVolume(watch=watch, hour=hour, count=0) for hour in hours], ignore_conflicts=True
    )
    for hour, count in hours.items():
        WatchVolume.objects.filter(watch=watch, hour=hour).update(count=F("count") + count)


def watch_poll_source(*, source_id: int) -> PollResult:
    """Search each of the watch's terms through one account, since the last search."""
    now = timezone.now()
    claimed = (
        WatchSource.objects.filter(pk=source_id, next_poll_at__lte=now)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .update(leased_until=now + POLL_LEASE)
    )
    if not claimed:
        return PollResult("busy")
    source = WatchSource.objects.select_related(
        "watch", "channel_account", "channel_account__organization"
    ).get(pk=source_id)
    account = source.channel_account
    watch = source.watch
    if not watch.is_active or account.status != AccountStatus.ACTIVE:
        WatchSource.objects.filter(pk=source.pk).update(leased_until=None)
        return PollResult("inactive")
    try:
        connector = get_connector(account.network)
    except UnknownNetwork:
        connector = None
    if connector is None or not connector.listening.searchable:
        WatchSource.objects.filter(pk=source.pk).update(
            leased_until=None, next_poll_at=now + timedelta(days=1)
        )
        return PollResult("not_supported")
    since = (source.searched_until or now - FIRST_LOOKBACK) - OVERLAP
    if connector.listening.lookback_days is not None:
        since = max(since, now - timedelta(days=connector.listening.lookback_days))
    matcher = matcher_for(watch.terms, watch.excluded_terms, watch.prefix_match)
    found: list[tuple[FoundPost, list[str]]] = []
    try:
        for term in watch.terms:
            found.extend(_search_term(source, term, since, matcher))
    except RateLimited as exc:
        wait = timedelta(seconds=exc.retry_after) if exc.retry_after else DEFAULT_RATE_LIMIT_WAIT
        _keep_found(watch, account, found)
        _finish(source, next_poll_at=timezone.now() + wait, error=exc)
        return PollResult("rate_limited", message=exc.message)
    except AuthError as exc:
        _finish(source, next_poll_at=timezone.now() + POLL_EVERY, error=exc)
        channel_account_record_error(account=account, error=exc)
        return PollResult("auth_failed", message=exc.message)
    except ConnectorError as exc:
        failures = source.failures + 1
        wait = min(POLL_EVERY * (2 ** min(failures, 6)), timedelta(hours=6))
        _finish(source, next_poll_at=timezone.now() + wait, error=exc, failures=failures)
        logger.warning("Listening search of watch %s failed (%s): %s", watch.pk, exc.kind, exc)
        return PollResult("failed", message=exc.message)
    except BaseException:
        WatchSource.objects.filter(pk=source.pk).update(leased_until=None)
        raise
    added = _keep_found(watch, account, found)
    WatchSource.objects.filter(pk=source.pk).update(
        leased_until=None,
        searched_until=now,
        last_polled_at=timezone.now(),
        next_poll_at=timezone.now() + POLL_EVERY,
        failures=0,
        last_error="",
        last_error_kind="",
        posts_found=F("posts_found") + added,
    )
    return PollResult("searched", found=len(found), added=added)


def _keep_found(
    watch: Watch, account: ChannelAccount, found: Sequence[tuple[FoundPost, list[str]]]
) -> int:
    rows = listening_store_posts(watch=watch, account=account, network=account.network, found=found)
    return len(rows)


def _finish(
    source: WatchSource, *, next_poll_at: datetime, error: ConnectorError, failures: int = 0
) -> None:
    WatchSource.objects.filter(pk=source.pk).update(
        leased_until=None,
        next_poll_at=next_poll_at,
        last_polled_at=timezone.now(),
        last_error=error.message[:2000],
        last_error_kind=str(error.kind),
        failures=failures,
    )


# --- volume and alerts -------------------------------------------------------------------------


def baseline_for(watch: Watch, hour: datetime) -> float:
    """The median count of the same hour of the day over the previous 14 days (an hour
    with no posts counts as 0)."""
    earlier = [hour - timedelta(days=day) for day in range(1, BASELINE_DAYS + 1)]
    counts = dict(
        WatchVolume.objects.filter(watch=watch, hour__in=earlier).values_list("hour", "count")
    )
    return float(statistics.median(counts.get(moment, 0) for moment in earlier))


def alert_threshold(watch: Watch, baseline: float) -> float:
    return max(float(watch.alert_min_count), watch.alert_factor * baseline)


def alert_check(*, watch: Watch, hour: datetime) -> WatchAlert | None:
    """Raise the hour's alert (once) when its volume passes the baseline, and tell the
    watch's followers in the app and by e-mail."""
    count = (
        WatchVolume.objects.filter(watch=watch, hour=hour).values_list("count", flat=True).first()
    ) or 0
    baseline = baseline_for(watch, hour)
    if count < alert_threshold(watch, baseline) or count <= watch.alert_factor * baseline:
        return None
    with transaction.atomic():
        alert, created = WatchAlert.objects.get_or_create(
            watch=watch, hour=hour, defaults={"count": count, "baseline": baseline}
        )
        if not created:
            return None
        audit_record(
            action="listening.alert_raised",
            organization=watch.organization,
            target=alert,
            target_label=watch.name,
            new={"hour": hour.isoformat(), "count": count, "baseline": baseline},
            actor_label="GovSocial",
        )
        link = reverse("listening:stream", args=[watch.pk])
        followers = watch.followers.filter(
            is_active=True,
            memberships__organization_id=watch.organization_id,
            memberships__is_active=True,
        ).distinct()
        for user in followers:
            language = (
                user.preferred_language
                or watch.organization.default_language
                or settings.LANGUAGE_CODE
            )
            with translation.override(language):
                message = _(
                    "Listening alert for %(watch)s: %(count)d posts in one hour, usually "
                    "%(baseline)s. Open the stream to see them or to pause publishing."
                ) % {"watch": watch.name, "count": count, "baseline": f"{baseline:g}"}
            notification_send(
                user=user,
                organization=watch.organization,
                kind="listening.alert",
                message=message,
                link=link,
            )
    return alert


def alert_acknowledge(
    *, membership: Membership, alert: WatchAlert, request: HttpRequest | None = None
) -> WatchAlert:
    """Say the alert is seen and in hand (once: acknowledging again changes nothing)."""
    require_perm(membership, "listening.manage")
    with transaction.atomic():
        claimed = WatchAlert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now(), acknowledged_by=membership.user
        )
        alert.refresh_from_db(fields=["acknowledged_at", "acknowledged_by"])
        if claimed:
            audit_record(
                action="listening.alert_acknowledged",
                organization=membership.organization,
                actor=membership.user,
                target=alert,
                target_label=alert.watch.name,
                new={"hour": alert.hour.isoformat(), "count": alert.count},
                request=request,
            )
    return alert


def watch_pause_publishing(
    *, membership: Membership, watch: Watch, request: HttpRequest | None = None
) -> PublishingPause:
    """The alert's one-click crisis pause: all publishing stops, the reason names the watch."""
    reason = _("Listening alert on %(watch)s: publishing paused from the listening stream.") % {
        "watch": watch.name
    }
    return publishing_pause_start(membership=membership, reason=reason, request=request)


# --- actions on posts --------------------------------------------------------------------------


def listening_post_to_inbox(
    *, membership: Membership, post: ListeningPost, request: HttpRequest | None = None
) -> InboxItem:
    """Make the post an inbox item to answer, on the account that found it."""
    require_perm(membership, "inbox.reply")
    if post.inbox_item_id is not None and post.inbox_item is not None:
        return post.inbox_item
    account = post.channel_account
    if account is None:
        raise ValidationError(_("The account that found this post is gone."))
    from accounts.connectors.base import InboxItem as RemoteItem
    from accounts.connectors.base import RemoteRef

    extra = {k: str(v) for k, v in (post.extra or {}).items()}
    remote = RemoteItem(
        remote_id=post.remote_id,
        kind="mention",
        author_handle=post.author_handle,
        author_name=post.author_name,
        text=post.text,
        created_at=post.posted_at,
        url=post.url,
        thread_root=RemoteRef(remote_id=post.remote_id, url=post.url, extra=extra),
        raw={**extra, "langs": [post.language] if post.language else [], "listening": True},
    )
    with transaction.atomic():
        inbox_store_pushed_items(account=account, items=[remote])
        item = InboxItem.objects.get(channel_account=account, remote_id=post.remote_id[:300])
        ListeningPost.objects.filter(pk=post.pk).update(inbox_item=item)
        post.inbox_item = item
        audit_record(
            action="listening.sent_to_inbox",
            organization=membership.organization,
            actor=membership.user,
            target=post,
            target_label=post.url or post.remote_id,
            new={"inbox_item": item.pk},
            request=request,
        )
    return item


def listening_post_mark_misinformation(
    *,
    membership: Membership,
    post: ListeningPost,
    case: MisinformationCase | None = None,
    request: HttpRequest | None = None,
) -> ListeningPost:
    require_perm(membership, "listening.manage")
    if case is not None and case.organization_id != membership.organization_id:
        raise PermissionDenied
    if case is not None and case.status != CaseStatus.OPEN:
        raise ValidationError(_("That case is closed."))
    with transaction.atomic():
        post.misinformation_at = post.misinformation_at or timezone.now()
        post.misinformation_by = post.misinformation_by or membership.user
        if case is not None:
            post.case = case
        post.save(update_fields=["misinformation_at", "misinformation_by", "case"])
        audit_record(
            action="listening.marked_misinformation",
            organization=membership.organization,
            actor=membership.user,
            target=post,
            target_label=post.url or post.remote_id,
            new={"case": case.pk if case else None},
            request=request,
        )
        if case is not None:
            case_reach_record(case)
    return post


def listening_post_link_correction(
    *,
    membership: Membership,
    post: ListeningPost,
    url: str,
    request: HttpRequest | None = None,
) -> ListeningPost:
    require_perm(membership, "listening.manage")
    with transaction.atomic():
        old = post.correction_url
        post.correction_url = url[:500]
        post.save(update_fields=["correction_url"])
        audit_record(
            action="listening.correction_linked",
            organization=membership.organization,
            actor=membership.user,
            target=post,
            target_label=post.url or post.remote_id,
            old={"correction_url": old},
            new={"correction_url": post.correction_url},
            request=request,
        )
    return post


# --- misinformation cases ----------------------------------------------------------------------


def case_open(
    *,
    membership: Membership,
    claim: str,
    watch: Watch | None = None,
    correction_url: str = "",
    request: HttpRequest | None = None,
) -> MisinformationCase:
    require_perm(membership, "listening.manage")
    claim = claim.strip()
    if not claim:
        raise ValidationError({"claim": [_("Say what the false claim is.")]})
    with transaction.atomic():
        case = MisinformationCase.objects.create(
            organization=membership.organization,
            watch=watch,
            claim=claim[:300],
            correction_url=correction_url[:500],
            opened_by=membership.user,
        )
        audit_record(
            action="listening.case_opened",
            organization=membership.organization,
            actor=membership.user,
            target=case,
            target_label=case.claim,
            new={"claim": case.claim, "correction_url": case.correction_url},
            request=request,
        )
    return case


def case_add_posts(
    *,
    membership: Membership,
    case: MisinformationCase,
    posts: Sequence[ListeningPost],
    request: HttpRequest | None = None,
) -> MisinformationCase:
    """Put found posts in the case: each is marked as misinformation of this claim."""
    with transaction.atomic():
        for post in posts:
            listening_post_mark_misinformation(
                membership=membership, post=post, case=case, request=request
            )
    return case


def case_open_with_posts(
    *,
    membership: Membership,
    claim: str,
    watch: Watch | None = None,
    correction_url: str = "",
    posts: Sequence[ListeningPost] = (),
    request: HttpRequest | None = None,
) -> MisinformationCase:
    """Open a case and put the posts that spread the claim in it, all or nothing."""
    with transaction.atomic():
        case = case_open(
            membership=membership,
            claim=claim,
            watch=watch,
            correction_url=correction_url,
            request=request,
        )
        if posts:
            case_add_posts(membership=membership, case=case, posts=posts, request=request)
    return case


def case_set_correction(
    *,
    membership: Membership,
    case: MisinformationCase,
    correction_url: str,
    request: HttpRequest | None = None,
) -> MisinformationCase:
    require_perm(membership, "listening.manage")
    with transaction.atomic():
        old = case.correction_url
        case.correction_url = correction_url[:500]
        case.save(update_fields=["correction_url"])
        audit_record(
            action="listening.case_correction_linked",
            organization=membership.organization,
            actor=membership.user,
            target=case,
            target_label=case.claim,
            old={"correction_url": old},
            new={"correction_url": case.correction_url},
            request=request,
        )
    return case


def case_close(
    *,
    membership: Membership,
    case: MisinformationCase,
    note: str,
    request: HttpRequest | None = None,
) -> MisinformationCase:
    require_perm(membership, "listening.manage")
    note = note.strip()
    if not note:
        raise ValidationError({"note": [_("Write a closing note.")]})
    if case.status == CaseStatus.CLOSED:
        raise ValidationError(_("The case is already closed."))
    with transaction.atomic():
        case_reach_record(case)
        case.status = CaseStatus.CLOSED
        case.closing_note = note[:5000]
        case.closed_at = timezone.now()
        case.closed_by = membership.user
        case.save(update_fields=["status", "closing_note", "closed_at", "closed_by"])
        audit_record(
            action="listening.case_closed",
            organization=membership.organization,
            actor=membership.user,
            target=case,
            target_label=case.claim,
            new={"closing_note": case.closing_note},
            request=request,
        )
    return case


def case_reach_record(case: MisinformationCase) -> CaseReach:
    """The case's posts and their engagement now: one point of its reach over time."""
    totals = ListeningPost.objects.filter(case=case).aggregate(
        likes=Sum("likes"), shares=Sum("shares"), replies=Sum("replies"), quotes=Sum("quotes")
    )
    count = ListeningPost.objects.filter(case=case).count()
    engagement = sum(int(value or 0) for value in totals.values())
    return CaseReach.objects.create(case=case, posts=count, engagement=engagement)


def cases_record_reach() -> int:
    """A reach point for every open case (hourly, from beat)."""
    cases = list(MisinformationCase.objects.filter(status=CaseStatus.OPEN))
    for case in cases:
        case_reach_record(case)
    return len(cases)
