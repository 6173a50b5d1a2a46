"""End to end on Meta, against the local Graph server: a Finnish and Swedish post with an
image and its alt text, scheduled to a Facebook Page and its Instagram account, goes
out through a real Celery beat and worker (separate processes, Redis, PostgreSQL)
exactly once; Instagram downloads the image from our signed public address (served
by the live server). Then a comment and a direct message are answered from the
inbox, a rude comment is hidden, and the figures land in analytics."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from accounts.models import ChannelAccount, NetworkApp
from analytics.models import AccountMetricSnapshot, PostMetricSnapshot
from analytics.services.pull import metrics_pull_account, tracked_posts_discover
from inbox.models import InboxItem, ItemKind, Reply, ReplyStatus
from inbox.services import inbox_reply_create
from inbox.services.moderation import inbox_item_moderate
from inbox.services.sync import inbox_sync_account
from publishing.models import JobStatus, Post, PostStatus, PublishJob
from publishing.services.approval import post_approve
from publishing.services.media import media_asset_upload
from publishing.services.posts import (
    MediaSlot,
    post_create,
    post_schedule,
    post_submit_for_review,
    variant_save,
)
from publishing.tests.fixtures import Team
from publishing.tests.processes import CeleryProcesses, require_postgres_and_redis

TEXTS = {
    "fi": "Uimahalli avataan maanantaina kello 6.",
    "sv": "Simhallen öppnar på måndag klockan 6.",
}
ALT = {
    "fi": "Uimahallin allas aamuvalossa",
    "sv": "Simhallens bassäng i morgonljus",
}


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1080, 1080), (20, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_bilingual_post_reaches_a_page_and_its_instagram_once_and_is_answered_and_measured(
    team: Team, graph_server, live_server, settings, tmp_path, media_root
):
    broker_url = require_postgres_and_redis()
    settings.SITE_URL = live_server.url
    org = team.alice.organization
    page = graph_server.create_page(
        "City of Example", with_instagram="cityofexample", followers=4200
    )
    NetworkApp.objects.create(
        organization=org,
        network="meta",
        client_id=graph_server.app_id,
        client_secret=graph_server.app_secret,
    )
    user_token = graph_server.user_token()
    facebook = ChannelAccount.objects.create(
        organization=org,
        network="facebook",
        handle=page.name,
        remote_id=page.id,
        server_url=graph_server.base_url,
        credentials={"access_token": page.token, "user_token": user_token},
    )
    instagram = ChannelAccount.objects.create(
        organization=org,
        network="instagram",
        handle="@cityofexample",
        remote_id=page.ig_id,
        server_url=graph_server.base_url,
        credentials={"access_token": page.token, "user_token": user_token, "page_id": page.id},
    )
    image = media_asset_upload(
        membership=team.eddie, file=ContentFile(_jpeg(), name="pool.jpg"), alt_texts=ALT
    )
    post = post_create(membership=team.eddie, title="Pool opens")
    for account in (facebook, instagram):
        for language, text in TEXTS.items():
            variant_save(
                post=post,
                membership=team.eddie,
                channel_account=account,
                language=language,
                text=text,
                media=[MediaSlot(asset=image)],
            )
    post_submit_for_review(post=post, membership=team.eddie)
    post_approve(post=post, membership=team.rita)

    with CeleryProcesses(
        tmp_path,
        broker_url=broker_url,
        overrides={"SITE_URL": live_server.url, "MEDIA_ROOT": str(media_root)},
    ) as celery:
        celery.start_worker()
        celery.start_beat()
        post_schedule(post=post, membership=team.eddie, at=timezone.now() + timedelta(seconds=3))
        celery.wait_for(
            lambda: (
                Post.objects.get(pk=post.pk).status in (PostStatus.PUBLISHED, PostStatus.FAILED)
            ),
            "the post to be published",
        )
    errors = list(PublishJob.objects.filter(post=post).values_list("last_error_message", flat=True))
    assert Post.objects.get(pk=post.pk).status == PostStatus.PUBLISHED, errors

    # Exactly once on each network, in both languages, with each language's alt text.
    fb_posts = graph_server.posts_of(page.id)
    assert sorted(p.message for p in fb_posts) == sorted(TEXTS.values())
    for fb_post in fb_posts:
        language = "fi" if fb_post.message == TEXTS["fi"] else "sv"
        [photo_id] = fb_post.attached_media
        assert graph_server.photos[photo_id].alt_text == ALT[language]
    ig_media = graph_server.posts_of(page.ig_id)
    assert sorted(m.message for m in ig_media) == sorted(TEXTS.values())
    for media in ig_media:
        language = "fi" if media.message == TEXTS["fi"] else "sv"
        container = graph_server.containers[media.children[0]]
        assert container.alt_text == ALT[language]
        assert container.fetched_bytes == image.size_bytes  # fetched from our public address
    jobs = PublishJob.objects.filter(post=post)
    assert jobs.count() == 4
    assert {j.status for j in jobs} == {JobStatus.PUBLISHED}
    assert {j.attempts for j in jobs} == {1}
    assert len(graph_server.requests_to("POST", "/media_publish")) == 2

    # The inbox: a question in the comments, a rude comment and a Messenger message.
    fi_post = next(p for p in fb_posts if p.message == TEXTS["fi"])
    question = graph_server.comment_as(fi_post.id, "Onko uimahalli auki pyhänä?", name="Maija")
    rude = graph_server.comment_as(fi_post.id, "Täysin turhaa rahan haaskausta, idiootit", name="X")
    graph_server.message_from(page.id, "Saako sinne tuoda lapsia?", name="Erik")
    ig_first = next(m for m in ig_media if m.message == TEXTS["fi"])
    ig_comment = graph_server.comment_as(ig_first.id, "Ihana!", name="liisa")
    assert inbox_sync_account(account=facebook).outcome == "synced"
    assert inbox_sync_account(account=instagram).outcome == "synced"
    by_text = {i.text: i for i in InboxItem.objects.filter(organization=org)}
    assert by_text["Onko uimahalli auki pyhänä?"].kind == ItemKind.REPLY
    assert by_text["Saako sinne tuoda lapsia?"].kind == ItemKind.DM
    assert by_text["Ihana!"].channel_account == instagram

    answer = inbox_reply_create(
        item=by_text["Onko uimahalli auki pyhänä?"],
        body="On, kello 10-18.",
        actor=team.eddie.user,
        membership=team.eddie,
    )
    assert answer.status == ReplyStatus.SENT
    sent_comment = graph_server.comments[answer.remote_id]
    assert sent_comment.parent_id == question.id and sent_comment.message.startswith("On, kello")
    dm_answer = inbox_reply_create(
        item=by_text["Saako sinne tuoda lapsia?"],
        body="Saa, tervetuloa!",
        actor=team.eddie.user,
        membership=team.eddie,
    )
    assert dm_answer.status == ReplyStatus.SENT
    conversation = next(iter(graph_server.conversations.values()))
    assert conversation.messages[-1].text.startswith("Saa, tervetuloa!")
    ig_answer = inbox_reply_create(
        item=by_text["Ihana!"], body="Kiitos!", actor=team.eddie.user, membership=team.eddie
    )
    assert graph_server.comments[ig_answer.remote_id].parent_id == ig_comment.id

    rude_item = by_text["Täysin turhaa rahan haaskausta, idiootit"]
    inbox_item_moderate(item=rude_item, action="hide", actor=team.eddie.user, membership=team.eddie)
    assert graph_server.comments[rude.id].hidden
    assert Reply.objects.filter(organization=org, status=ReplyStatus.SENT).count() == 3

    # Figures: per post and per account, into the analytics snapshots.
    for fb_post in fb_posts:
        fb_post.reactions = {"like": 12, "love": 3}
        graph_server.set_insights(fb_post.id, post_total_media_view_unique=800)
    for media in ig_media:
        graph_server.set_insights(media.id, views=950, likes=40, comments=2, shares=5)
    assert tracked_posts_discover() == 4
    later = timezone.now() + timedelta(days=1)
    for account in (facebook, instagram):
        assert metrics_pull_account(account=account, now=later).outcome == "pulled"
    snapshots = PostMetricSnapshot.objects.filter(channel_account=facebook)
    assert {(s.likes, s.impressions) for s in snapshots} == {(15, 800)}
    ig_snapshots = PostMetricSnapshot.objects.filter(channel_account=instagram)
    assert {(s.likes, s.shares, s.impressions) for s in ig_snapshots} == {(40, 5, 950)}
    followers = AccountMetricSnapshot.objects.filter(channel_account__in=[facebook, instagram])
    assert {s.followers for s in followers} == {4200}
