"""LinkedIn end to end against the local LinkedIn test server: a Finnish and Swedish
post with images and alt text published exactly once by real Celery workers, a lost
answer reconciled instead of resent, a comment answered from the inbox as the page,
and the page's statistics pulled into analytics."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import LazySettings
from django.test import Client
from django.utils import timezone

from accounts.connectors.base import PublishRequest
from accounts.connectors.registry import get_connector
from accounts.models import ChannelAccount
from analytics.models import AccountMetricSnapshot, PostMetricSnapshot, TrackedPost
from analytics.services.pull import metrics_pull_account, tracked_posts_discover
from inbox.models import InboxItem, ItemKind, Reply, ReplyStatus
from inbox.services import inbox_sync_account
from inbox.text import SIGNATURE_DASH as DASH
from publishing.models import (
    AttemptKind,
    AttemptStatus,
    JobStatus,
    Post,
    PostStatus,
    PublishAttempt,
    PublishJob,
)
from publishing.services.approval import post_approve
from publishing.services.posts import (
    MediaSlot,
    post_schedule,
    post_submit_for_review,
    variant_save,
)
from publishing.tests.fixtures import Team, approved, draft, make_image
from publishing.tests.processes import CeleryProcesses, require_postgres_and_redis
from tests.linkedin_server.server import LinkedInTestServer, Organization

POSTS = "/rest/posts"


def linkedin_account(team: Team, server: LinkedInTestServer, page: Organization) -> ChannelAccount:
    account = ChannelAccount.objects.create(
        organization=team.alice.organization,
        network="linkedin",
        handle=page.vanity_name,
        display_name=page.name,
        remote_id=str(page.id),
        server_url=server.base_url,
        credentials={"access_token": server.issue_token()},
        credentials_expire_at=timezone.now() + timedelta(days=60),
    )
    account.limited_members.add(team.bob)
    return account


@pytest.fixture
def page(linkedin_server: LinkedInTestServer) -> Organization:
    return linkedin_server.create_organization(
        "Esimerkin kaupunki", admin=linkedin_server.member, followers_organic=250
    )


@pytest.mark.django_db(transaction=True)
def test_a_finnish_and_swedish_post_with_images_goes_out_once_through_real_workers(
    team: Team, linkedin_server: LinkedInTestServer, page: Organization, tmp_path,
    media_root, settings: LazySettings,
) -> None:  # fmt: skip
    broker_url = require_postgres_and_redis()
    account = linkedin_account(team, linkedin_server, page)
    pool = make_image(team.eddie, alt={"fi": "Uimahallin allas", "sv": "Simhallens bassäng"})
    hall = make_image(team.eddie, alt={"fi": "Uimahallin aula", "sv": "Simhallens entré"})
    post = draft(
        team.eddie,
        account,
        "Uimahalli avataan maanantaina! #Espoo",
        language="fi",
        media=[MediaSlot(asset=pool), MediaSlot(asset=hall)],
    )
    variant_save(
        post=post,
        membership=team.eddie,
        channel_account=account,
        language="sv",
        text="Simhallen öppnar på måndag! #Esbo",
        media=[MediaSlot(asset=pool), MediaSlot(asset=hall)],
    )
    post_submit_for_review(post=post, membership=team.eddie)
    post_approve(post=post, membership=team.rita)

    with CeleryProcesses(
        tmp_path, broker_url=broker_url, overrides={"MEDIA_ROOT": str(settings.MEDIA_ROOT)}
    ) as celery:
        celery.start_worker()
        celery.start_beat()
        post_schedule(post=post, membership=team.eddie, at=timezone.now() + timedelta(seconds=3))
        celery.wait_for(
            lambda: Post.objects.get(pk=post.pk).status == PostStatus.PUBLISHED,
            "the post to be published",
        )

    published = {p.commentary: p for p in linkedin_server.posts_of(page)}
    assert sorted(published) == [
        r"Simhallen öppnar på måndag! {hashtag|\#|Esbo}",
        r"Uimahalli avataan maanantaina! {hashtag|\#|Espoo}",
    ]
    finnish = published[r"Uimahalli avataan maanantaina! {hashtag|\#|Espoo}"].content
    swedish = published[r"Simhallen öppnar på måndag! {hashtag|\#|Esbo}"].content
    assert finnish is not None and swedish is not None
    assert [i["altText"] for i in finnish["multiImage"]["images"]] == [
        "Uimahallin allas",
        "Uimahallin aula",
    ]
    assert [i["altText"] for i in swedish["multiImage"]["images"]] == [
        "Simhallens bassäng",
        "Simhallens entré",
    ]
    assert len(linkedin_server.requests_to("POST", POSTS)) == 2
    jobs = PublishJob.objects.filter(post=post)
    assert {(j.status, j.attempts) for j in jobs} == {(JobStatus.PUBLISHED, 1)}
    assert {j.remote_id for j in jobs} == {p.urn for p in published.values()}


@pytest.mark.django_db
def test_a_lost_answer_is_reconciled_by_reading_the_pages_posts_not_resent(
    team: Team, linkedin_server: LinkedInTestServer, page: Organization, run_due, monkeypatch
) -> None:
    account = linkedin_account(team, linkedin_server, page)
    at = timezone.now() + timedelta(minutes=5)
    post = approved(team, "Lumityöt alkavat illalla.", account=account)
    post_schedule(post=post, membership=team.eddie, at=at)
    monkeypatch.setattr(get_connector("linkedin"), "timeout", (2.0, 0.5))
    linkedin_server.hang(method="POST", path_prefix=POSTS, after_processing=True)
    with time_machine.travel(at, tick=False):
        assert run_due() == ["retry"]
    job = PublishJob.objects.get(post=post)
    assert job.needs_reconcile and job.last_error_kind == "unknown_outcome"
    linkedin_server.release()

    with time_machine.travel(job.next_attempt_at, tick=False):
        assert run_due() == ["published"]

    [landed] = linkedin_server.posts_of(page)
    assert len(linkedin_server.requests_to("POST", POSTS)) == 1
    job.refresh_from_db()
    assert (job.status, job.remote_id) == (JobStatus.PUBLISHED, landed.urn)
    assert job.remote_url == f"https://www.linkedin.com/feed/update/{landed.urn}/"
    kinds = list(
        PublishAttempt.objects.filter(job=job).order_by("number").values_list("kind", "status")
    )
    assert kinds == [
        (AttemptKind.PUBLISH, AttemptStatus.UNKNOWN),
        (AttemptKind.RECONCILE, AttemptStatus.RECONCILED),
    ]


@pytest.mark.django_db
def test_a_comment_is_answered_from_the_inbox_as_the_page(
    team: Team, linkedin_server: LinkedInTestServer, page: Organization, client: Client, login
) -> None:
    account = linkedin_account(team, linkedin_server, page)
    ours = get_connector("linkedin").publish(account, PublishRequest(text="Kysy meiltä"))
    citizen = linkedin_server.create_member("Aino Virtanen")
    question = linkedin_server.comment_as(citizen, ours.remote_id, "Onko halli auki sunnuntaina?")

    assert inbox_sync_account(account=account).new_items == 1
    item = InboxItem.objects.get(remote_id=question.urn)
    assert (item.kind, item.text) == (ItemKind.REPLY, "Onko halli auki sunnuntaina?")

    login(client, team.bob.user)
    client.post(f"/inbox/{item.pk}/reply/", {"body": "On, klo 10-16."})

    reply = Reply.objects.get(item=item)
    assert reply.status == ReplyStatus.SENT, reply.error_message
    sent = linkedin_server.comments[reply.remote_id]
    assert sent.actor == page.urn
    assert sent.parent_comment == question.urn
    assert sent.text == f"On, klo 10-16.\n\n{DASH} Bob"
    # The page's own answer is not read back into the inbox.
    assert inbox_sync_account(account=account).new_items == 0


@pytest.mark.django_db
def test_share_and_follower_statistics_reach_the_analytics_snapshots(
    team: Team, linkedin_server: LinkedInTestServer, page: Organization, run_due
) -> None:
    account = linkedin_account(team, linkedin_server, page)
    post = approved(team, "Kirjasto avaa uuden osaston.", account=account)
    post_schedule(post=post, membership=team.eddie, at=timezone.now() + timedelta(minutes=1))
    with time_machine.travel(timezone.now() + timedelta(minutes=1), tick=False):
        assert run_due() == ["published"]
    [landed] = linkedin_server.posts_of(page)
    landed.impressions, landed.likes, landed.shares = 840, 31, 4
    linkedin_server.comment_as(linkedin_server.create_member("Erik"), landed.urn, "Hienoa!")
    tracked_posts_discover()

    now = timezone.now() + timedelta(hours=2)
    result = metrics_pull_account(account=account, now=now)

    assert (result.outcome, result.posts, result.account_pulled) == ("pulled", 1, True)
    tracked = TrackedPost.objects.get()
    assert (tracked.likes, tracked.shares, tracked.replies, tracked.impressions) == (31, 4, 1, 840)
    snapshot = PostMetricSnapshot.objects.get()
    assert (snapshot.likes, snapshot.impressions) == (31, 840)
    assert AccountMetricSnapshot.objects.get(channel_account=account).followers == 250


@pytest.mark.django_db
def test_an_unconfirmed_answer_is_found_among_the_pages_comments_not_sent_twice(
    team: Team, linkedin_server: LinkedInTestServer, page: Organization, client: Client, login,
    monkeypatch,
) -> None:  # fmt: skip
    account = linkedin_account(team, linkedin_server, page)
    ours = get_connector("linkedin").publish(account, PublishRequest(text="Palaute"))
    citizen = linkedin_server.create_member("Erik Lindqvist")
    question = linkedin_server.comment_as(citizen, ours.remote_id, "Finns det svar på svenska?")
    inbox_sync_account(account=account)
    item = InboxItem.objects.get(remote_id=question.urn)
    monkeypatch.setattr(get_connector("linkedin"), "timeout", (2.0, 0.5))
    linkedin_server.hang(method="POST", path_prefix="/rest/socialActions/", after_processing=True)
    login(client, team.bob.user)

    client.post(f"/inbox/{item.pk}/reply/", {"body": "Ja, gärna."})
    reply = Reply.objects.get(item=item)
    assert reply.status == ReplyStatus.UNKNOWN
    linkedin_server.release()
    client.post(f"/inbox/replies/{reply.pk}/retry/")

    reply.refresh_from_db()
    assert reply.status == ReplyStatus.SENT
    answers = [c for c in linkedin_server.comments.values() if c.actor == page.urn]
    assert len(answers) == 1
    assert reply.remote_id == answers[0].urn
    assert len(linkedin_server.requests_to("POST", "/rest/socialActions/")) == 1
