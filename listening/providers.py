"""Listening as record types of governance's records export: the posts our watches
found (with the watch that found them) and the misinformation cases."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy

from governance.models import Organization
from governance.providers import (
    ACTION_ANONYMIZE,
    ACTION_DELETE,
    DisposalResult,
    HoldScope,
    Record,
    held_q,
)
from listening.models import CaseReach, ListeningPost, MisinformationCase


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


class ListeningPostsRecords:
    """Posts by others that a watch found: their text as found, who wrote them, the
    watch (its name and terms) that found them, and whether the team marked them as
    misinformation. Dated by when the post was made; tied to the account searched
    through.

    Anonymizing removes who wrote each post and its address; the words stay.
    Deleting removes the posts.
    """

    key = "listening_posts"
    label = gettext_lazy("Posts found by listening")
    actions = frozenset({ACTION_DELETE, ACTION_ANONYMIZE})

    def _posts(
        self,
        organization: Organization,
        accounts: Sequence[int],
        start: datetime | None,
        end: datetime | None,
    ) -> QuerySet[ListeningPost]:
        posts = ListeningPost.objects.filter(organization=organization)
        if accounts:
            posts = posts.filter(channel_account_id__in=accounts)
        if start is not None:
            posts = posts.filter(posted_at__gte=start)
        if end is not None:
            posts = posts.filter(posted_at__lt=end)
        return posts

    def count_records(
        self,
        organization: Organization,
        accounts: Sequence[int],
        start: datetime | None,
        end: datetime | None,
    ) -> int:
        return self._posts(organization, accounts, start, end).count()

    def iter_records(
        self,
        organization: Organization,
        accounts: Sequence[int],
        start: datetime | None,
        end: datetime | None,
    ) -> Iterator[Record]:
        posts = (
            self._posts(organization, accounts, start, end)
            .select_related("watch", "channel_account", "misinformation_by", "case")
            .order_by("posted_at", "pk")
        )
        for post in posts.iterator(chunk_size=200):
            data = listening_post_data(post)
            yield Record(id=str(post.pk), occurred_at=post.posted_at, data=data)

    def dispose(
        self,
        organization: Organization,
        older_than: datetime,
        held: Sequence[HoldScope],
        *,
        action: str,
        dry_run: bool,
    ) -> DisposalResult:
        if action not in self.actions:
            raise ValueError(f"Posts found by listening cannot be disposed of by {action!r}")
        due = ListeningPost.objects.filter(organization=organization, posted_at__lt=older_than)
        if action == ACTION_ANONYMIZE:
            # Posts already without names are done: counting them again would say the
            # job did something every day.
            due = due.exclude(author_handle="", author_name="", url="", extra={})
        held_ids = set(
            due.filter(
                held_q(held, date_field="posted_at", account_field="channel_account_id")
            ).values_list("pk", flat=True)
        )
        ids = sorted(set(due.values_list("pk", flat=True)) - held_ids)
        if not dry_run and ids:
            with transaction.atomic():
                posts = ListeningPost.objects.filter(pk__in=ids)
                if action == ACTION_DELETE:
                    posts.delete()
                else:
                    posts.update(
                        author_handle="", author_name="", url="", extra={}, misinformation_by=None
                    )
        return DisposalResult(removed=len(ids), held=len(held_ids), ids=[str(pk) for pk in ids])


def listening_post_data(post: ListeningPost) -> dict[str, Any]:
    return {
        "id": post.pk,
        "watch": post.watch.name,
        "watch_terms": list(post.watch.terms),
        "watch_excluded_terms": list(post.watch.excluded_terms),
        "found_through": post.channel_account.handle if post.channel_account else "",
        "network": post.network,
        "network_post_id": post.remote_id,
        "url": post.url,
        "author": post.author_handle,
        "author_name": post.author_name,
        "text": post.text,
        "language": post.language,
        "posted_at": _iso(post.posted_at),
        "found_at": _iso(post.found_at),
        "matched_terms": list(post.matched_terms),
        "likes": post.likes,
        "shares": post.shares,
        "replies": post.replies,
        "quotes": post.quotes,
        "misinformation_at": _iso(post.misinformation_at),
        "misinformation_by": post.misinformation_by.email if post.misinformation_by else "",
        "case": post.case_id,
        "correction_url": post.correction_url,
    }


class MisinformationCasesRecords:
    """Misinformation cases: the false claim, our correcting post, who opened and
    closed the case and why, the posts that spread the claim, and its reach over
    time. Dated by when the case was opened; tied to the accounts its posts were
    found through.

    Anonymizing removes the staff who opened and closed each case; deleting removes
    the cases with their reach (the posts stay, without their case).
    """

    key = "misinformation_cases"
    label = gettext_lazy("Misinformation cases")
    actions = frozenset({ACTION_DELETE, ACTION_ANONYMIZE})

    def _cases(
        self,
        organization: Organization,
        accounts: Sequence[int],
        start: datetime | None,
        end: datetime | None,
    ) -> QuerySet[MisinformationCase]:
        cases = MisinformationCase.objects.filter(organization=organization)
        if accounts:
            cases = cases.filter(
                Exists(
                    ListeningPost.objects.filter(
                        case=OuterRef("pk"), channel_account_id__in=accounts
                    )
                )
            )
        if start is not None:
            cases = cases.filter(opened_at__gte=start)
        if end is not None:
            cases = cases.filter(opened_at__lt=end)
        return cases

    def count_records(
        self,
        organization: Organization,
        accounts: Sequence[int],
        start: datetime | None,
        end: datetime | None,
    ) -> int:
        return self._cases(organization, accounts, start, end).count()

    def iter_records(
        self,
        organization: Organization,
        accounts: Sequence[int],
        start: datetime | None,
        end: datetime | None,
    ) -> Iterator[Record]:
        cases = (
            self._cases(organization, accounts, start, end)
            .select_related("watch", "opened_by", "closed_by")
            .prefetch_related(
                Prefetch("posts", queryset=ListeningPost.objects.order_by("posted_at", "pk")),
                Prefetch("reach", queryset=CaseReach.objects.order_by("at", "pk")),
            )
            .order_by("opened_at", "pk")
        )
        for case in cases.iterator(chunk_size=100):
            yield Record(
                id=str(case.pk),
                occurred_at=case.opened_at,
                data={
                    "id": case.pk,
                    "claim": case.claim,
                    "watch": case.watch.name if case.watch else "",
                    "status": case.status,
                    "correction_url": case.correction_url,
                    "opened_by": case.opened_by.email if case.opened_by else "",
                    "opened_at": _iso(case.opened_at),
                    "closed_by": case.closed_by.email if case.closed_by else "",
                    "closed_at": _iso(case.closed_at),
                    "closing_note": case.closing_note,
                    "posts": [
                        {
                            "id": post.pk,
                            "network": post.network,
                            "url": post.url,
                            "author": post.author_handle,
                            "text": post.text,
                            "posted_at": _iso(post.posted_at),
                        }
                        for post in case.posts.all()
                    ],
                    "reach": [
                        {"at": _iso(point.at), "posts": point.posts, "engagement": point.engagement}
                        for point in case.reach.all()
                    ],
                },
            )

    def dispose(
        self,
        organization: Organization,
        older_than: datetime,
        held: Sequence[HoldScope],
        *,
        action: str,
        dry_run: bool,
    ) -> DisposalResult:
        if action not in self.actions:
            raise ValueError(f"Misinformation cases cannot be disposed of by {action!r}")
        due = MisinformationCase.objects.filter(organization=organization, opened_at__lt=older_than)
        if action == ACTION_ANONYMIZE:
            due = due.filter(Q(opened_by__isnull=False) | Q(closed_by__isnull=False))
        held_ids = set(
            due.filter(
                held_q(held, date_field="opened_at", account_field="posts__channel_account_id")
            ).values_list("pk", flat=True)
        )
        ids = sorted(set(due.values_list("pk", flat=True)) - held_ids)
        if not dry_run and ids:
            with transaction.atomic():
                cases = MisinformationCase.objects.filter(pk__in=ids)
                if action == ACTION_DELETE:
                    cases.delete()
                else:
                    cases.update(opened_by=None, closed_by=None)
        return DisposalResult(removed=len(ids), held=len(held_ids), ids=[str(pk) for pk in ids])
