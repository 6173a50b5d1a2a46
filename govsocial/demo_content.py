"""A few weeks of a municipality's social media, for screenshots and demonstrations.

``demo_content_seed`` fills the demo organization of ``bootstrap_demo`` with what its
screens show on an ordinary weekday: accounts on three networks, two months of published
posts with their likes and followers, an image with alt text, posts waiting for approval,
this week's schedule, and citizens' questions in the inbox (written on the Sandbox and
read in by the inbox's own sync). Everything is made as the app records it, except that
published posts are written directly (nothing is sent to any network).

It is for a database of its own (``scripts/screenshots.py`` makes one); running it twice
adds everything twice.
"""

from __future__ import annotations

import io
import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.models import AccountStatus, ChannelAccount, SandboxPost
from analytics.models import AccountMetricSnapshot, PostMetricSnapshot
from analytics.services.pull import metrics_networks, tracked_post_for
from analytics.services.rollups import rollups_rebuild
from governance.models import Membership, Organization, Role, User
from inbox.models import InboxItem, ItemKind, ItemStatus
from inbox.services import inbox_sync_account
from publishing.models import JobStatus, MediaAsset, Post, PostStatus, PublishJob, Variant
from publishing.services.media import media_asset_upload
from publishing.services.posts import (
    MediaSlot,
    post_create,
    post_submit_for_review,
    variant_save,
)

HISTORY_DAYS = 60
EDITOR_EMAIL = "eeva.editor@demo.example"

# (title, Finnish text, Swedish text)
TOPICS = [
    ("Library summer hours", "Kirjasto on kesällä auki klo 10-18.", "Biblioteket är öppet 10-18."),
    ("Road works on Main Street", "Pääkadun tietyöt alkavat maanantaina.", "Vägarbetet börjar."),
    ("Swimming hall reopens", "Uimahalli avautuu taas 1.6.", "Simhallen öppnar igen 1.6."),
    ("Flu vaccinations", "Influenssarokotukset alkavat.", "Influensavaccinationerna börjar."),
    ("Snow ploughing tonight", "Auraus jatkuu yöllä.", "Plogningen fortsätter i natt."),
    ("Council meeting live", "Valtuuston kokous suorana.", "Fullmäktiges möte direkt."),
    ("Recycling day", "Kierrätyspäivä torilla lauantaina.", "Återvinningsdag på torget."),
    ("Summer jobs for youth", "Kesätyöt nuorille: hae nyt.", "Sommarjobb för unga: sök nu."),
]
QUESTIONS = [
    ("aino.virtanen", "Aino Virtanen", "Is the library open on Midsummer Eve?"),
    ("erik.lind", "Erik Lind", "When will the road to the harbour open again?"),
    ("sanna.ek", "Sanna Ek", "Who do I call about a broken street light on Koulukatu?"),
    ("mikko.h", "Mikko Heikkinen", "Do the summer jobs need a CV in Finnish?"),
    ("lea.n", "Lea Nieminen", "Thank you for the quick ploughing this morning!"),
]


@dataclass(frozen=True)
class DemoContent:
    editor: User
    accounts: list[ChannelAccount]
    image: MediaAsset
    waiting: list[Post]


def _zone(organization: Organization) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(organization.time_zone or "Europe/Helsinki")


def _at(day: date, hour: int, zone: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=zone) + timedelta(hours=hour)


def demo_image() -> bytes:
    """A small PNG: a harbour at dusk, drawn with Pillow (no file from outside)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 400), "#f2b880")
    draw = ImageDraw.Draw(image)
    for row in range(200):  # the evening sky, darker upwards
        shade = 120 + row // 2
        draw.line([(0, row), (640, row)], fill=(shade // 2, shade // 2 + 30, shade + 40))
    draw.ellipse([420, 120, 520, 220], fill="#ffd27a")
    draw.rectangle([0, 250, 640, 400], fill="#1f5fa8")
    draw.polygon([(120, 250), (260, 250), (235, 285), (145, 285)], fill="#333333")
    draw.rectangle([180, 200, 192, 250], fill="#333333")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _published(
    account: ChannelAccount, *, at: datetime, title: str, text: str, language: str
) -> PublishJob:
    """A published post as the dispatcher leaves it (on the Sandbox also in its feed)."""
    remote_id = f"demo_{uuid.uuid4().hex[:20]}"
    post = Post.objects.create(
        organization=account.organization,
        title=title,
        status=PostStatus.PUBLISHED,
        scheduled_at=at,
        published_at=at,
    )
    variant = Variant.objects.create(
        post=post, channel_account=account, language=language, text=text
    )
    url = f"https://sandbox.invalid/{remote_id}" if account.network == "sandbox" else ""
    job = PublishJob.objects.create(
        organization=account.organization,
        post=post,
        variant=variant,
        channel_account=account,
        due_at=at,
        next_attempt_at=at,
        status=JobStatus.PUBLISHED,
        remote_id=remote_id,
        remote_url=url,
        remote_parts=[{"remote_id": remote_id, "url": url, "extra": {}}],
        published_at=at,
    )
    if account.network == "sandbox":
        SandboxPost.objects.create(
            account=account, remote_id=remote_id, author_handle=account.handle, text=text,
            created_at=at,
        )  # fmt: skip
    return job


def _track(job: PublishJob, at: datetime, likes: int, shares: int, replies: int) -> None:
    tracked = tracked_post_for(job, set(metrics_networks()))
    tracked.save()
    PostMetricSnapshot.objects.create(
        tracked_post=tracked,
        channel_account_id=tracked.channel_account_id,
        taken_at=at,
        likes=likes,
        shares=shares,
        replies=replies,
        quotes=0,
    )
    tracked.likes, tracked.shares, tracked.replies = likes, shares, replies
    tracked.engagement = likes + shares + replies
    tracked.last_pulled_at = at
    tracked.save(update_fields=["likes", "shares", "replies", "engagement", "last_pulled_at"])


def _accounts(organization: Organization, sandbox: ChannelAccount) -> list[ChannelAccount]:
    """The Sandbox account and two on other networks (never contacted: no credentials)."""
    others = [
        ("mastodon", "news@some.social", "Demo News"),
        ("bluesky", "demo-municipality.bsky.social", "Demo Municipality"),
    ]
    made = [
        ChannelAccount.objects.create(
            organization=organization,
            network=network,
            handle=handle,
            display_name=name,
            status=AccountStatus.ACTIVE,
        )
        for network, handle, name in others
    ]
    return [sandbox, *made]


def demo_content_seed(
    *, organization: Organization, admin: User, sandbox: ChannelAccount
) -> DemoContent:
    zone = _zone(organization)
    now = timezone.now()
    today = now.astimezone(zone).date()
    with transaction.atomic():
        editor = User.objects.create_user(
            EDITOR_EMAIL, None, full_name="Eeva Editor", preferred_language="en"
        )
        editing = Membership.objects.create(
            organization=organization, user=editor, role=Role.EDITOR
        )
        admin_membership = Membership.objects.get(organization=organization, user=admin)
        accounts = _accounts(organization, sandbox)
        image = media_asset_upload(
            membership=admin_membership,
            file=ContentFile(demo_image(), name="harbour-at-dusk.png"),
            alt_texts={
                "en": "The harbour at dusk: the ferry at the pier under an orange sky.",
                "fi": "Satama illalla: lautta laiturissa oranssin taivaan alla.",
            },
        )

        # Two months of history: a post most days, followers growing, questions answered.
        for days_ago in range(HISTORY_DAYS, 0, -1):
            day = today - timedelta(days=days_ago)
            for index, account in enumerate(accounts):
                AccountMetricSnapshot.objects.create(
                    channel_account=account,
                    taken_at=_at(day, 6, zone),
                    followers=[4200, 1850, 960][index] + (HISTORY_DAYS - days_ago) * (3 - index),
                    following=0,
                    posts=0,
                )
            if days_ago % 3 == 2:
                continue
            title, fi, sv = TOPICS[days_ago % len(TOPICS)]
            account = accounts[days_ago % len(accounts)]
            language = "sv" if days_ago % 4 == 0 else "fi"
            at = _at(day, 9 + days_ago % 6, zone)
            job = _published(
                account, at=at, title=title, text=fi if language == "fi" else sv, language=language
            )
            _track(job, at + timedelta(hours=20), 8 + days_ago % 23 * 3, days_ago % 7, days_ago % 5)
            asked = at + timedelta(hours=1)
            InboxItem.objects.create(
                organization=organization,
                channel_account=account,
                network=account.network,
                remote_id=f"demo-old-{days_ago}",
                kind=ItemKind.REPLY,
                author_handle="citizen",
                author_name="A citizen",
                text="Thanks for letting us know.",
                posted_at=asked,
                received_at=asked,
                thread_key=f"demo-old-{days_ago}",
                status=ItemStatus.ANSWERED,
                first_response_at=asked + timedelta(minutes=15 + days_ago % 9 * 10),
                sla_due_at=asked + timedelta(hours=4),
            )

        # Published this morning, with an image and likes coming in.
        fresh = _published(
            sandbox,
            at=now - timedelta(minutes=40),
            title="Ferry timetable for the summer",
            text="Lautan kesäaikataulu on julkaistu: lähtöjä puolen tunnin välein.",
            language="fi",
        )
        fresh.variant.media.create(asset=image)
        _track(fresh, now - timedelta(minutes=5), 64, 18, 7)

        # Waiting for approval: written by the editor.
        waiting: list[Post] = []
        for title, fi, sv in TOPICS[:2]:
            post = post_create(
                membership=editing, title=title, planned_at=_at(today + timedelta(days=1), 10, zone)
            )
            variant_save(
                post=post, membership=editing, channel_account=sandbox, language="fi", text=fi,
                media=[MediaSlot(asset=image)] if not waiting else [],
            )  # fmt: skip
            variant_save(
                post=post, membership=editing, channel_account=sandbox, language="sv", text=sv
            )
            waiting.append(post_submit_for_review(post=post, membership=editing))

        # This week's schedule.
        monday = today - timedelta(days=today.weekday())
        for number in range(14):
            at = _at(monday + timedelta(days=number % 7), 8 + (number * 5) % 10, zone)
            if at < now:
                continue
            title, fi, _sv = TOPICS[(number + 3) % len(TOPICS)]
            account = accounts[number % len(accounts)]
            post = Post.objects.create(
                organization=organization,
                title=title,
                status=PostStatus.SCHEDULED,
                created_by=editor,
                scheduled_at=at,
            )
            variant = Variant.objects.create(
                post=post, channel_account=account, language="fi", text=fi
            )
            PublishJob.objects.create(
                organization=organization,
                post=post,
                variant=variant,
                channel_account=account,
                due_at=at,
                next_attempt_at=at,
                status=JobStatus.PENDING,
            )

        # Citizens ask on the Sandbox; the inbox reads them in as it does every minute.
        for minutes, (handle, name, text) in zip((35, 22, 14, 9, 3), QUESTIONS, strict=True):
            SandboxPost.objects.create(
                account=sandbox,
                remote_id=f"demo_q{uuid.uuid4().hex[:16]}",
                is_own=False,
                author_handle=handle,
                author_name=name,
                text=text,
                in_reply_to=SandboxPost.objects.get(remote_id=fresh.remote_id),
                thread_root=SandboxPost.objects.get(remote_id=fresh.remote_id),
                visibility="public",
                created_at=now - timedelta(minutes=minutes),
            )
    inbox_sync_account(
        account=ChannelAccount.objects.select_related("organization").get(pk=sandbox.pk)
    )
    first = InboxItem.objects.filter(channel_account=sandbox, status=ItemStatus.NEW).first()
    if first is not None:
        first.assignee = admin
        first.status = ItemStatus.ASSIGNED
        first.save(update_fields=["assignee", "status"])
    rollups_rebuild(organization=organization, since=today - timedelta(days=HISTORY_DAYS + 1))
    return DemoContent(editor=editor, accounts=accounts, image=image, waiting=waiting)
