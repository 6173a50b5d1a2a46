"""X end to end against the local X API v2 server: an account connected through the
organization's own X app; a Finnish post with an image and its alt text published
exactly once by real Celery processes (beat and worker, Redis, PostgreSQL) even
though the first answer is lost; a mention answered from the inbox as a reply; the
usage counter moving; and the post's metrics and followers pulled into analytics."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ApiCallCount, ChannelAccount, NetworkApp
from accounts.services import channel_account_connect_x_finish, channel_account_connect_x_start
from accounts.usage import account_month_usage
from analytics.models import AccountMetricSnapshot, PostMetricSnapshot, TrackedPost
from analytics.services.pull import metrics_pull_account, tracked_posts_discover
from inbox.models import InboxItem, ItemKind, ReplyStatus
from inbox.services import inbox_sync_account
from inbox.services.replies import inbox_reply_create
from publishing.models import AttemptKind, AttemptStatus, Post, PostStatus, PublishJob
from publishing.services.posts import MediaSlot, post_schedule
from publishing.tests.fixtures import Team, approved, make_image
from publishing.tests.processes import CeleryProcesses, require_postgres_and_redis
from tests.x_server.server import XTestServer

REDIRECT_URI = "https://govsocial.example.fi/accounts/x/callback/"
TEXT = "Kirjasto avataan maanantaina klo 9. Tervetuloa! https://www.hel.fi/kirjasto"
ALT = "Uuden kirjaston pääovi aamuauringossa"
# Short leases and a fast sweeper: a killed worker's job comes back in seconds.
FAST_RECOVERY = {
    "PUBLISHING_TEST_RUN_LEASE": "4",
    "PUBLISHING_TEST_CLAIM_LEASE": "5",
    "PUBLISHING_TEST_SWEEP_SECONDS": "1",
}


def connect_x(team: Team, server: XTestServer) -> ChannelAccount:
    """An admin's X app, then the connect flow: consent page, code, token pair."""
    app = server.create_app(redirect_uris=[REDIRECT_URI])
    org = team.alice.organization
    NetworkApp.objects.create(
        organization=org,
        network="x",
        client_id=app.client_id,
        client_secret=app.client_secret,
        options={"plan": "pay_per_use"},
    )
    start = channel_account_connect_x_start(organization=org, redirect_uri=REDIRECT_URI)
    answer = server.approve(start.authorization_url)
    return channel_account_connect_x_finish(
        organization=org,
        actor=team.alice.user,
        redirect_uri=REDIRECT_URI,
        code=answer["code"],
        returned_state=answer["state"],
        expected_state=start.state,
        code_verifier=start.code_verifier,
    )


@pytest.mark.django_db(transaction=True)
def test_a_finnish_post_with_an_image_goes_out_once_then_is_answered_and_measured(
    team, x_server, tmp_path, monkeypatch, settings
):
    broker_url = require_postgres_and_redis()
    # The worker and beat processes read these from their environment.
    media_root = tmp_path / "media"
    settings.MEDIA_ROOT = str(media_root)
    monkeypatch.setenv("MEDIA_ROOT", str(media_root))
    monkeypatch.setenv("X_API_URL", x_server.base_url)
    monkeypatch.setenv("X_AUTHORIZE_URL", x_server.authorize_url)
    account = connect_x(team, x_server)
    account.limited_members.add(team.bob)
    image = make_image(team.eddie, alt={"fi": ALT})
    post = approved(team, TEXT, account=account, media=[MediaSlot(asset=image)])

    # X takes the post but its answer never reaches the worker, which dies waiting.
    x_server.hang(method="POST", path_prefix="/2/tweets", after_processing=True)
    with CeleryProcesses(tmp_path, broker_url=broker_url, overrides=FAST_RECOVERY) as celery:
        celery.start_worker()
        celery.start_beat()
        post_schedule(post=post, membership=team.eddie, at=timezone.now() + timedelta(seconds=2))
        celery.wait_for(
            lambda: bool(x_server.requests_to("POST", "/2/tweets")),
            "the worker to be waiting for X's answer",
        )
        celery.kill_worker()
        x_server.release()
        celery.start_worker()
        celery.wait_for(
            lambda: Post.objects.filter(pk=post.pk, status=PostStatus.PUBLISHED).exists(),
            "the post to be published after the restart",
        )

    # Exactly once: one post on X, found again by looking up the account's posts.
    [tweet] = x_server.tweets_of(x_server.user)
    assert len(x_server.requests_to("POST", "/2/tweets")) == 1
    # X shows the text with a t.co link for the attached photo at the end.
    assert tweet.sent_text == TEXT
    link, photo = tweet.urls
    shown = TEXT.replace(link["expanded_url"], link["url"])
    assert tweet.text == f"{shown} {photo['url']}" and "hel.fi" not in tweet.text
    assert tweet.urls[-1]["expanded_url"].endswith(f"/status/{tweet.id}/photo/1")
    [media_id] = tweet.media_ids
    assert x_server.media[media_id].alt_text == ALT
    job = PublishJob.objects.get(post=post)
    assert job.remote_id == tweet.id
    assert job.remote_url == f"https://x.com/KaupunkiX/status/{tweet.id}"
    attempts = list(job.attempt_rows.order_by("number").values_list("kind", "status"))
    assert attempts[0] == (AttemptKind.PUBLISH, AttemptStatus.UNKNOWN)
    assert attempts[-1] == (AttemptKind.RECONCILE, AttemptStatus.RECONCILED)
    assert x_server.requests_to("GET", f"/2/users/{x_server.user.id}/tweets")

    # A resident mentions the city under the post; the inbox reads it and bob answers.
    citizen = x_server.create_user("aino_v", "Aino Virtanen")
    inbox_sync_account(account=account)
    question = x_server.post_as(
        citizen, "@KaupunkiX onko kirjastossa lehtiä?", in_reply_to=tweet.id
    )
    result = inbox_sync_account(account=account)
    assert result.new_items == 1
    item = InboxItem.objects.get(channel_account=account, remote_id=question.id)
    assert item.kind == ItemKind.REPLY and item.author_handle == "@aino_v"
    reply = inbox_reply_create(
        item=item,
        body="Kyllä, lehtilukusali on toisessa kerroksessa.",
        actor=team.bob.user,
        membership=team.bob,
    )
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.SENT
    answer = x_server.tweets[reply.remote_id]
    assert answer.in_reply_to_tweet_id == question.id
    assert answer.text.startswith("Kyllä, lehtilukusali on toisessa kerroksessa.")
    sent = json.loads(x_server.requests_to("POST", "/2/tweets")[-1].body)
    assert sent["reply"] == {"in_reply_to_tweet_id": question.id}

    # People engage; the metrics pull stores the numbers and the followers.
    tweet.like_count, tweet.retweet_count, tweet.impression_count = 12, 3, 640
    tracked_posts_discover()
    pulled = metrics_pull_account(account=account, now=timezone.now() + timedelta(hours=1))
    assert pulled.outcome == "pulled"
    tracked = TrackedPost.objects.get(channel_account=account, remote_id=tweet.id)
    assert (tracked.likes, tracked.shares, tracked.replies) == (12, 3, 1)
    snapshot = PostMetricSnapshot.objects.filter(tracked_post=tracked).latest("taken_at")
    assert snapshot.likes == 12
    assert AccountMetricSnapshot.objects.get(channel_account=account).followers == 1520

    # Every call was counted for the account, by endpoint, in this month's usage.
    usage = dict(account_month_usage(account).by_endpoint)
    assert usage["POST /2/tweets"] == 2  # the lost one and the reply
    assert usage["POST /2/media/metadata"] == 1
    assert usage["GET /2/users/{id}/mentions"] >= 2
    assert usage["GET /2/tweets"] >= 1
    assert sum(ApiCallCount.objects.filter(account=account).values_list("count", flat=True)) == (
        account_month_usage(account).calls
    )
