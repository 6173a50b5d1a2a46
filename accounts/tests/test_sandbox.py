"""The Sandbox network: a feed inside the app, a simulated audience, drills that fail on purpose."""

from __future__ import annotations

import pytest

from accounts.connectors.base import (
    AuthError,
    MediaItem,
    PublishRequest,
    RateLimited,
    Rejected,
    RemoteRef,
    TransientError,
    UnknownOutcome,
)
from accounts.connectors.registry import get_connector
from accounts.connectors.sandbox import simulate_audience
from accounts.models import SandboxPost
from accounts.tests.helpers import channel_account


@pytest.fixture
def sandbox():
    return get_connector("sandbox")


@pytest.fixture
def account(db):
    return channel_account(network="sandbox", handle="city-news", display_name="City News")


def test_publishing_puts_the_post_in_the_feed(sandbox, account):
    result = sandbox.publish(
        account,
        PublishRequest(
            text="The library opens on Monday.",
            media=[MediaItem(b"\x89PNG...", "image/png", "The new library building")],
            language="en",
        ),
    )
    post = SandboxPost.objects.get(remote_id=result.remote_id)
    assert post.account == account
    assert post.text == "The library opens on Monday."
    assert post.media[0]["alt_text"] == "The new library building"
    assert post.language == "en"
    assert result.published_at == post.created_at


def test_the_same_idempotency_key_publishes_once(sandbox, account):
    request = PublishRequest(text="Only once", idempotency_key="job-42-attempt")
    first = sandbox.publish(account, request)
    second = sandbox.publish(account, request)
    assert first.remote_id == second.remote_id
    assert SandboxPost.objects.filter(account=account).count() == 1


def test_a_text_over_the_limit_is_rejected(sandbox, account):
    with pytest.raises(Rejected, match="limit is 500"):
        sandbox.publish(account, PublishRequest(text="x" * 501))
    # Counted as people see characters: one family emoji is one.
    assert sandbox.text_length("👨‍👩‍👧‍👦" * 500) == 500


def test_replies_thread_under_their_post(sandbox, account):
    root = sandbox.publish(account, PublishRequest(text="Road works this week."))
    reply = sandbox.reply(
        account, PublishRequest(text="Update: finished early.", reply_to=root.ref)
    )
    post = SandboxPost.objects.select_related("in_reply_to", "thread_root").get(
        remote_id=reply.remote_id
    )
    assert post.in_reply_to is not None and post.in_reply_to.remote_id == root.remote_id
    assert post.thread_root is not None and post.thread_root.remote_id == root.remote_id


def test_deleted_posts_leave_the_feed_and_deleting_twice_is_harmless(sandbox, account):
    result = sandbox.publish(account, PublishRequest(text="Oops"))
    sandbox.delete(account, result.ref)
    sandbox.delete(account, result.ref)
    assert sandbox.lookup_recent(account) == []
    assert sandbox.fetch_post_metrics(account, [result.ref])[0].deleted


def test_recent_posts_carry_their_idempotency_key_for_reconciling(sandbox, account):
    sandbox.publish(account, PublishRequest(text="First", idempotency_key="k1"))
    sandbox.publish(account, PublishRequest(text="Second", idempotency_key="k2"))
    recent = sandbox.lookup_recent(account, limit=5)
    assert [p.text for p in recent] == ["Second", "First"]
    assert recent[0].ref.extra["idempotency_key"] == "k2"


def test_the_simulated_audience_answers_and_the_inbox_shows_it(sandbox, account):
    post = sandbox.publish(account, PublishRequest(text="Tell us what you think"))
    activity = simulate_audience(account, seed=1, actions=30)
    page = sandbox.fetch_inbox(account)
    talkative = activity.replies + activity.mentions + activity.messages + activity.quotes
    assert len(page.items) == talkative > 0
    assert {item.kind for item in page.items} <= {"reply", "mention", "dm", "quote"}
    replies = [item for item in page.items if item.kind == "reply"]
    assert all(item.in_reply_to.remote_id == post.remote_id for item in replies)
    metrics = sandbox.fetch_post_metrics(account, [post.ref])[0]
    assert metrics.likes == activity.likes
    assert metrics.shares == activity.reposts
    assert metrics.replies == activity.replies
    assert metrics.impressions > 0
    assert sandbox.fetch_account_metrics(account).followers == activity.follows


def test_the_same_seed_gives_the_same_audience(sandbox, db):
    feeds = []
    for handle in ("first", "second"):
        account = channel_account(network="sandbox", handle=handle)
        sandbox.publish(account, PublishRequest(text="Same post"))
        simulate_audience(account, seed="drill-7", actions=12, mood="crisis")
        items = sandbox.fetch_inbox(account).items
        feeds.append([(i.kind, i.author_handle, i.text.replace(handle, "")) for i in items])
    assert feeds[0] == feeds[1]


def test_the_inbox_cursor_returns_only_newer_items(sandbox, account, settings):
    sandbox.publish(account, PublishRequest(text="Hello"))
    simulate_audience(account, seed=2, actions=20)
    first = sandbox.fetch_inbox(account)
    assert first.items and not first.has_more
    again = sandbox.fetch_inbox(account, first.next_cursor)
    assert again.items == [] and again.next_cursor == first.next_cursor
    simulate_audience(account, seed=3, actions=20)
    later = sandbox.fetch_inbox(account, first.next_cursor)
    seen = {item.remote_id for item in first.items}
    assert later.items and not seen & {item.remote_id for item in later.items}


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("auth", AuthError),
        ("rate_limited", RateLimited),
        ("rejected", Rejected),
        ("transient", TransientError),
        ("timeout_unsent", UnknownOutcome),
    ],
)
def test_a_drill_makes_publishing_fail_the_way_asked(sandbox, account, mode, error):
    account.credentials = {"sandbox_fail_mode": mode}
    with pytest.raises(error):
        sandbox.publish(account, PublishRequest(text="Drill"))
    assert not SandboxPost.objects.filter(account=account).exists()


def test_a_timeout_drill_publishes_but_loses_the_answer(sandbox, account):
    account.credentials = {"sandbox_fail_mode": "timeout", "sandbox_fail_only": ["publish"]}
    request = PublishRequest(text="Did it go out?", idempotency_key="attempt-1")
    with pytest.raises(UnknownOutcome):
        sandbox.publish(account, request)
    (recent,) = sandbox.lookup_recent(account)
    assert recent.ref.extra["idempotency_key"] == "attempt-1"


def test_a_drill_can_fail_one_operation_only(sandbox, account):
    account.credentials = {"sandbox_fail_mode": "transient", "sandbox_fail_only": ["publish"]}
    with pytest.raises(TransientError):
        sandbox.publish(account, PublishRequest(text="Drill"))
    assert sandbox.fetch_inbox(account).items == []
    assert sandbox.check_health(account).handle == "city-news"


def test_a_rate_limit_drill_says_when_to_come_back(sandbox, account):
    account.credentials = {"sandbox_fail_mode": "rate_limited"}
    with pytest.raises(RateLimited) as caught:
        sandbox.fetch_inbox(account)
    assert caught.value.retry_after == 60


def test_replying_to_a_post_that_is_gone_is_rejected(sandbox, account):
    with pytest.raises(Rejected):
        sandbox.reply(account, PublishRequest(text="Hi", reply_to=RemoteRef("sbx_missing")))


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fi", "Kiitos"), ("sv", "Tack"), ("en", "Thanks")],
)
def test_the_audience_answers_in_the_posts_language(sandbox, account, language, expected):
    from django.utils import translation

    from accounts.connectors.sandbox import _everyday_replies

    post = sandbox.publish(account, PublishRequest(text="Uimahalli", language=language))
    simulate_audience(account, seed="language", actions=40, remote_id=post.remote_id)
    replies = SandboxPost.objects.filter(account=account, in_reply_to__remote_id=post.remote_id)
    assert replies.exists()
    with translation.override(language):
        known = set(_everyday_replies())
    assert {reply.text for reply in replies} <= known
    assert {reply.language for reply in replies} == {language}
    with translation.override("en"):
        english = set(_everyday_replies())
    if language != "en":
        assert not {reply.text for reply in replies} & english  # not English
    with translation.override(language):
        assert any(text.startswith(expected) for text in known)


def test_the_audience_answers_a_new_post_on_its_own(
    sandbox, account, settings, django_capture_on_commit_callbacks
):
    from governance.models import AuditEvent
    from govsocial.celery import app

    settings.SANDBOX_AUDIENCE_REACTS = True
    settings.SANDBOX_AUDIENCE_DELAY_SECONDS = 0
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True  # the task itself runs, here, instead of on a worker
    try:
        with django_capture_on_commit_callbacks(execute=True):
            post = sandbox.publish(account, PublishRequest(text="Kirjasto aukeaa", language="fi"))
    finally:
        app.conf.task_always_eager = eager
    event = AuditEvent.objects.get(action="sandbox.audience_simulated")
    assert event.actor is None and event.new_values["post"] == post.remote_id
    reactions = SandboxPost.objects.filter(account=account, is_own=False)
    assert reactions.exists() or event.new_values["likes"] + event.new_values["reposts"] > 0


def test_the_audience_stays_quiet_when_switched_off(sandbox, account, settings):
    from governance.models import AuditEvent

    settings.SANDBOX_AUDIENCE_REACTS = False
    sandbox.publish(account, PublishRequest(text="Kirjasto aukeaa", language="fi"))
    assert not AuditEvent.objects.filter(action="sandbox.audience_simulated").exists()
