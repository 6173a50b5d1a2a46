"""Outside reviewers: people who approve a stage without being GovSocial users.

A stage of an approval policy may name an outside reviewer's e-mail address (a
legal unit, a minister's office). When a post reaches that stage, they get an
e-mail in the organization's language with a link that works once, for
``OUTSIDE_REVIEW_TTL_HOURS`` (72 by default), and only while the post is exactly
as it was when the link was sent (its version and a hash of everything that
would be published). The token is 32 random bytes; only its SHA-256 is stored.

The decision itself is ``approval.post_outside_decide``: the same path as a
member's approval, so the post moves on exactly as it would then.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import zoneinfo
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from governance.models import Membership, User
from governance.selectors.access import require_perm
from governance.services.audit import audit_record
from publishing.models import OutsideReview, Post, PostStatus
from publishing.selectors import ApprovalState, StageState, post_approval_state
from publishing.services._base import lock_post
from publishing.validation import variants_with_content

logger = logging.getLogger(__name__)

# Anything longer is not one of our tokens (43 characters); refused before hashing.
MAX_TOKEN_LENGTH = 100


class LinkProblem:
    """Why a link cannot be used (each has its own page text)."""

    UNKNOWN = "unknown"
    REPLACED = "replaced"
    REVOKED = "revoked"
    USED = "used"
    CHANGED = "changed"
    CLOSED = "closed"
    EXPIRED = "expired"


def outside_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def outside_review_link(token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("publishing:outside_review", args=[token])


def post_content_hash(post: Post) -> str:
    """A hash of everything the post would publish: each target's account, language,
    texts, options, images (by content) and their alt text in the variant's language."""
    content = []
    for variant in variants_with_content(post):
        content.append(
            {
                "account": variant.channel_account_id,
                "language": variant.language,
                "texts": [variant.text] + [part.text for part in variant.parts.all()],
                "content_warning": variant.content_warning,
                "visibility": variant.visibility,
                "media": [
                    [
                        slot.thread_index,
                        slot.position,
                        slot.asset.sha256,
                        slot.asset.alt_text_for(variant.language),
                    ]
                    for slot in variant.media.all()
                ],
            }
        )
    payload = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _contact(post: Post) -> str:
    person = post.submitted_by or post.created_by
    return person.email if person is not None else ""


def _ttl() -> timedelta:
    return timedelta(hours=settings.OUTSIDE_REVIEW_TTL_HOURS)


def _send_mail(review_id: int, token: str, *, reminder: bool = False) -> None:
    review = (
        OutsideReview.objects.select_related("organization", "post", "sent_by")
        .filter(pk=review_id)
        .first()
    )
    if review is None:
        return
    organization = review.organization
    post = review.post
    asker = post.submitted_by or post.created_by
    # The reviewer has no preferences with us: the organization's language and zone.
    with (
        translation.override(organization.default_language or settings.LANGUAGE_CODE),
        timezone.override(zoneinfo.ZoneInfo(organization.time_zone)),
    ):
        context = {
            "organization": organization,
            "post_title": post.title or _("Post %(number)d") % {"number": post.pk},
            "stage_name": review.stage_name,
            "asker": asker,
            "contact_email": review.contact_email,
            "link": outside_review_link(token),
            "expires_at": review.expires_at,
            "time_zone": organization.time_zone,
            "reminder": reminder,
        }
        subject = render_to_string("publishing/email/outside_review_subject.txt", context)
        body = render_to_string("publishing/email/outside_review_body.txt", context)
    try:
        send_mail(" ".join(subject.split()), body, settings.DEFAULT_FROM_EMAIL, [review.email])
    except Exception:
        # The link is recorded and shown on the post's page, where staff can send it
        # again; a mail outage must not undo the submission that caused it.
        logger.exception("Could not e-mail outside review %s", review_id)


def _create(
    post: Post,
    *,
    stage_state: StageState,
    email: str,
    sent_by: User | None,
    content_hash: str,
    reminder: bool = False,
) -> OutsideReview:
    assert stage_state.stage is not None
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    review = OutsideReview.objects.create(
        organization=post.organization,
        post=post,
        stage=stage_state.stage,
        stage_name=stage_state.name,
        email=email,
        token_hash=outside_token_hash(token),
        review_round=post.review_round,
        post_version=post.version,
        content_hash=content_hash,
        contact_email=_contact(post),
        sent_by=sent_by,
        created_at=now,
        expires_at=now + _ttl(),
    )
    transaction.on_commit(partial(_send_mail, review.pk, token, reminder=reminder))
    return review


def outside_reviews_open(
    post: Post,
    *,
    state: ApprovalState | None = None,
    sent_by: User | None = None,
    request: HttpRequest | None = None,
) -> list[OutsideReview]:
    """Send a link to the outside reviewer of every stage of a locked, in-review post
    that is open now and has had no link in this round. Called wherever a stage
    opens: on submission, on returning to review, after an approval. (A link staff
    withdrew stays withdrawn: only they, or a new round, send another.)"""
    if post.status != PostStatus.IN_REVIEW:
        return []
    state = state or post_approval_state(post)
    waiting = [s for s in state.stages if s.outside_email and s.is_open and not s.satisfied]
    if not waiting:
        return []
    sent = set(
        OutsideReview.objects.filter(post=post, review_round=post.review_round).values_list(
            "stage_id", flat=True
        )
    )
    content_hash = post_content_hash(post)
    created = []
    for stage in waiting:
        assert stage.stage is not None
        if stage.stage.pk in sent:
            continue
        review = _create(
            post, stage_state=stage, email=stage.outside_email, sent_by=sent_by,
            content_hash=content_hash,
        )  # fmt: skip
        audit_record(
            action="post.outside_review_sent",
            organization=post.organization,
            actor=sent_by,
            actor_label="" if sent_by else "system",
            target=post,
            new={
                "stage": stage.name,
                "outside_reviewer": stage.outside_email,
                "expires_at": review.expires_at.isoformat(),
                "review_round": post.review_round,
                "version": post.version,
            },
            request=request,
        )
        created.append(review)
    return created


def _current(post: Post, review: OutsideReview) -> bool:
    return (
        review.post_id == post.pk
        and post.status == PostStatus.IN_REVIEW
        and review.review_round == post.review_round
        and review.used_at is None
    )


def outside_review_resend(
    *,
    review: OutsideReview,
    membership: Membership,
    request: HttpRequest | None = None,
    reminder: bool = False,
) -> OutsideReview:
    """Send the outside reviewer a new link (the old one stops working at once),
    valid for the full time again and bound to the post as it is now."""
    require_perm(membership, "posts.write")
    if review.organization_id != membership.organization_id:
        raise PermissionDenied
    with transaction.atomic():
        post = lock_post(review.post)
        return _resend(post, review, actor=membership.user, request=request, reminder=reminder)


def _resend(
    post: Post,
    review: OutsideReview,
    *,
    actor: User | None,
    request: HttpRequest | None = None,
    reminder: bool = False,
) -> OutsideReview:
    review = OutsideReview.objects.select_for_update().get(pk=review.pk)
    if not _current(post, review):
        raise ValidationError(
            _("This post is no longer waiting for that outside review."), code="not_waiting"
        )
    state = post_approval_state(post)
    stage = next(
        (s for s in state.stages if s.stage is not None and s.stage.pk == review.stage_id), None
    )
    if stage is None or not stage.outside_email or not stage.is_open or stage.satisfied:
        raise ValidationError(
            _("This post is no longer waiting for that outside review."), code="not_waiting"
        )
    now = timezone.now()
    OutsideReview.objects.filter(pk=review.pk, revoked_at__isnull=True).update(revoked_at=now)
    new = _create(
        post, stage_state=stage, email=stage.outside_email, sent_by=actor,
        content_hash=post_content_hash(post), reminder=reminder,
    )  # fmt: skip
    audit_record(
        action="post.outside_review_resent",
        organization=post.organization,
        actor=actor,
        actor_label="" if actor else "system",
        target=post,
        new={
            "stage": stage.name,
            "outside_reviewer": stage.outside_email,
            "expires_at": new.expires_at.isoformat(),
            "reminder": reminder,
        },
        request=request,
    )
    return new


def outside_review_remind(*, review: OutsideReview) -> OutsideReview | None:
    """The reminder of a stage that waited too long, for an outside reviewer: the link
    again, fresh (the system sends it; None when the stage no longer waits)."""
    with transaction.atomic():
        post = lock_post(review.post)
        try:
            return _resend(post, review, actor=None, reminder=True)
        except ValidationError:
            return None


def outside_review_revoke(
    *, review: OutsideReview, membership: Membership, request: HttpRequest | None = None
) -> OutsideReview:
    """Make the link useless at once (a wrong address, a reviewer who should not decide)."""
    require_perm(membership, "posts.write")
    if review.organization_id != membership.organization_id:
        raise PermissionDenied
    with transaction.atomic():
        post = lock_post(review.post)
        review = OutsideReview.objects.select_for_update().get(pk=review.pk)
        if review.used_at is not None or review.revoked_at is not None:
            raise ValidationError(_("This link was already used or revoked."), code="link_closed")
        now = timezone.now()
        OutsideReview.objects.filter(pk=review.pk).update(revoked_at=now)
        review.revoked_at = now
        audit_record(
            action="post.outside_review_revoked",
            organization=post.organization,
            actor=membership.user,
            target=post,
            new={"stage": review.stage_name, "outside_reviewer": review.email},
            request=request,
        )
    return review


@dataclass(frozen=True)
class OutsideLink:
    """A link as its holder sees it: the review (None for an unknown token) and what,
    if anything, stops it from being used."""

    review: OutsideReview | None
    problem: str = ""

    @property
    def usable(self) -> bool:
        return self.review is not None and not self.problem


def outside_link_problem(review: OutsideReview, post: Post) -> str:
    """What stops the link from being used now ("" when nothing does)."""
    if review.revoked_at is not None:
        newer = OutsideReview.objects.filter(
            post_id=review.post_id,
            stage_id=review.stage_id,
            review_round=review.review_round,
            created_at__gt=review.created_at,
        ).exists()
        return LinkProblem.REPLACED if newer else LinkProblem.REVOKED
    if review.used_at is not None:
        return LinkProblem.USED
    if review.post_version != post.version or review.content_hash != post_content_hash(post):
        return LinkProblem.CHANGED
    if post.status != PostStatus.IN_REVIEW or review.review_round != post.review_round:
        return LinkProblem.CLOSED
    if review.is_expired:
        return LinkProblem.EXPIRED
    return ""


def outside_link_get(token: str) -> OutsideLink:
    """The review a link's token names, and whether it can be used. Never raises for
    a made-up, truncated or tampered token: that is an unknown link."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return OutsideLink(review=None, problem=LinkProblem.UNKNOWN)
    review = (
        OutsideReview.objects.select_related("organization", "post", "post__organization")
        .filter(token_hash=outside_token_hash(token))
        .first()
    )
    if review is None:
        return OutsideLink(review=None, problem=LinkProblem.UNKNOWN)
    return OutsideLink(review=review, problem=outside_link_problem(review, review.post))


def outside_link_opened(review: OutsideReview) -> None:
    """Note the first time the link was opened (shown on the post's page)."""
    OutsideReview.objects.filter(Q(pk=review.pk) & Q(opened_at__isnull=True)).update(
        opened_at=timezone.now()
    )
