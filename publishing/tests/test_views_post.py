"""The post's page: who sees it, review (one or two stages, never one's own), scheduling
in the reader's time zone, the alt-text rule, each target's outcome and the history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.conf import settings

from governance.models import Role
from publishing.models import JobStatus, PostStatus, PublishJob
from publishing.services.approval import StageInput, approval_policy_save, post_approve
from publishing.services.media import media_alt_text_set
from publishing.services.posts import MediaSlot, post_submit_for_review, variant_save
from publishing.tests.fixtures import approved, draft, make_image, scheduled

pytestmark = pytest.mark.django_db


def page_of(post) -> str:
    return f"/publishing/posts/{post.pk}/"


def submitted(team, author=None):
    author = author or team.eddie
    post = draft(author, team.account)
    post_submit_for_review(post=post, membership=author)
    post.refresh_from_db()
    return post


def test_member_sees_the_post_with_its_preview_and_history(client, personas, login, team):
    post = submitted(team)
    login(client, personas.carol)
    response = client.get(page_of(post))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Library</h1>" in page
    assert "In review" in page
    assert "Library opens at 9." in page
    assert "Started the post" in page
    assert "Sent it for review" in page
    assert "Eddie Editor" in page
    assert "Account: city-news" in page
    assert "Language: Finnish" in page


def test_outsider_gets_404_on_the_post_page(client, personas, login, team):
    post = submitted(team)
    login(client, personas.charlie)
    assert client.get(page_of(post)).status_code == 404
    assert client.post(f"{page_of(post)}review/", {"decision": "approve"}).status_code == 404
    assert client.post(f"{page_of(post)}cancel/").status_code == 404


def test_bob_gets_404_for_a_post_only_to_an_account_he_cannot_use(client, personas, login, team):
    post = draft(team.alice, team.other_account)
    login(client, personas.bob)
    assert client.get(page_of(post)).status_code == 404


def test_an_auditor_may_read_but_not_act(client, personas, login, team):
    post = draft(team.alice, team.account)
    login(client, personas.carol)
    page = client.get(page_of(post)).content.decode()
    assert "Submit for review" not in page
    assert client.post(f"{page_of(post)}submit/").status_code == 403
    assert client.post(f"{page_of(post)}cancel/").status_code == 403


def test_author_submits_a_draft_for_review(client, personas, login, team):
    post = draft(team.bob, team.account)
    login(client, personas.bob)
    assert "Submit for review" in client.get(page_of(post)).content.decode()
    response = client.post(f"{page_of(post)}submit/", follow=True)
    assert "Sent for review." in response.content.decode()
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW


def test_reviewer_approves_with_a_comment(client, login, team):
    post = submitted(team)
    login(client, team.rita.user)
    page = client.get(page_of(post)).content.decode()
    assert "Approve" in page and "Request changes" in page
    response = client.post(
        f"{page_of(post)}review/", {"decision": "approve", "comment": "Looks good."}, follow=True
    )
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    page = response.content.decode()
    assert "Approved. The post can be scheduled now." in page
    assert "Looks good." in page  # the decision and its comment are in the history


def test_self_approval_is_refused_and_the_page_says_why(client, personas, login, team):
    post = submitted(team, author=team.alice)
    login(client, personas.alice)
    page = client.get(page_of(post)).content.decode()
    assert "does not let authors approve their own posts" in page
    response = client.post(f"{page_of(post)}review/", {"decision": "approve"})
    assert response.status_code == 403
    assert "You cannot approve your own post." in response.content.decode()
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW


def test_self_approval_when_the_policy_allows_it(client, personas, login, team):
    approval_policy_save(
        membership=team.alice,
        name="Small team",
        stages=[StageInput(name="Any admin", role=Role.ADMIN)],
        allow_self_approval=True,
    )
    post = submitted(team, author=team.alice)
    login(client, personas.alice)
    client.post(f"{page_of(post)}review/", {"decision": "approve"})
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED


def test_requesting_changes_needs_a_comment(client, login, team):
    post = submitted(team)
    login(client, team.rita.user)
    response = client.post(f"{page_of(post)}review/", {"decision": "request_changes"})
    assert response.status_code == 400
    assert "Say what should change." in response.content.decode()
    client.post(
        f"{page_of(post)}review/", {"decision": "request_changes", "comment": "Add the address."}
    )
    post.refresh_from_db()
    assert post.status == PostStatus.CHANGES_REQUESTED


def test_two_stage_review_shows_its_progress(client, login, team):
    approval_policy_save(
        membership=team.alice,
        name="Two eyes",
        stages=[
            StageInput(name="Comms", reviewer_ids=[team.rita.pk]),
            StageInput(name="Director", reviewer_ids=[team.manny.pk]),
        ],
    )
    post = submitted(team)
    login(client, team.manny.user)
    page = client.get(page_of(post)).content.decode()
    assert "Waits for the stage before it" in page
    assert 'name="decision"' not in page  # not Manny's turn yet

    login(client, team.rita.user)
    client.post(f"{page_of(post)}review/", {"decision": "approve"})
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW

    login(client, team.manny.user)
    assert 'name="decision"' in client.get(page_of(post)).content.decode()
    client.post(f"{page_of(post)}review/", {"decision": "approve"})
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED


def test_waiting_for_me_lists_posts_to_review_with_a_count(client, login, team):
    post = submitted(team)
    login(client, team.rita.user)
    page = client.get("/publishing/review/").content.decode()
    assert "Waiting for me (1)" in page
    assert f'href="/publishing/posts/{post.pk}/"' in page
    login(client, team.eddie.user)  # the author is not a reviewer
    page = client.get("/publishing/review/").content.decode()
    assert "Nothing is waiting for your review." in page


@time_machine.travel(datetime(2026, 3, 2, 8, 0, tzinfo=UTC), tick=False)
def test_schedule_in_the_readers_time_zone_is_stored_in_utc(client, personas, login, team):
    post = approved(team)
    personas.alice.time_zone = "Europe/Helsinki"
    personas.alice.save(update_fields=["time_zone"])
    login(client, personas.alice)
    page = client.get(page_of(post)).content.decode()
    assert "In your time zone (Europe/Helsinki)" in page
    response = client.post(f"{page_of(post)}schedule/", {"at": "2026-03-02T14:30"}, follow=True)
    assert "Scheduled." in response.content.decode()
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    assert post.scheduled_at == datetime(2026, 3, 2, 12, 30, tzinfo=UTC)
    assert PublishJob.objects.get(post=post).due_at == post.scheduled_at
    assert "2 Mar 2026, 14:30" in response.content.decode()


@time_machine.travel(datetime(2026, 3, 2, 8, 0, tzinfo=UTC), tick=False)
def test_a_finnish_reader_schedules_on_a_24_hour_clock_in_their_zone(client, personas, login, team):
    post = approved(team)
    personas.alice.time_zone = "Europe/Helsinki"
    personas.alice.preferred_language = "fi"
    personas.alice.save(update_fields=["time_zone", "preferred_language"])
    login(client, personas.alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fi"
    page = client.get(page_of(post)).content.decode()
    assert 'type="datetime-local"' in page
    assert "Aikavyöhykkeelläsi (Europe/Helsinki)" in page
    # A time already past comes back as typed, with the reason.
    response = client.post(f"{page_of(post)}schedule/", {"at": "2026-03-02T09:15"})
    assert "Aika on jo mennyt." in response.content.decode()
    assert 'value="2026-03-02T09:15"' in response.content.decode()
    response = client.post(f"{page_of(post)}schedule/", {"at": "2026-03-02T14:30"}, follow=True)
    post.refresh_from_db()
    assert post.scheduled_at == datetime(2026, 3, 2, 12, 30, tzinfo=UTC)
    assert "2.3.2026 klo 14.30" in response.content.decode()


@time_machine.travel(datetime(2026, 3, 2, 8, 0, tzinfo=UTC), tick=False)
def test_a_time_in_the_past_is_refused(client, personas, login, team):
    post = approved(team)
    login(client, personas.alice)
    response = client.post(f"{page_of(post)}schedule/", {"at": "2026-03-01T09:00"})
    assert response.status_code == 400
    assert "That time has already passed." in response.content.decode()


def test_alt_text_policy_blocks_scheduling_and_the_page_says_why(
    client, personas, login, team, media_root
):
    image = make_image(team.eddie, alt={"fi": "Kirjaston ovi", "sv": "Bibliotekets dörr"})
    post = draft(team.eddie, team.account, "Kuva.", language="fi")
    variant_save(
        post=post,
        membership=team.eddie,
        channel_account=team.account,
        language="fi",
        text="Kuva.",
        media=[MediaSlot(asset=image)],
    )
    post_submit_for_review(post=post, membership=team.eddie)
    post_approve(post=post, membership=team.rita)
    # The Finnish description is removed from the library after the approval.
    media_alt_text_set(asset=image, membership=team.eddie, language="fi", text="")
    login(client, personas.alice)
    page = client.get(page_of(post)).content.decode()
    assert "has no alt text in Finnish" in page
    assert "requires alt text on every image" in page
    response = client.post(f"{page_of(post)}schedule/", {"at": "2099-01-01T09:00"})
    assert response.status_code == 400
    assert "Image 1 (photo.png) has no alt text in Finnish." in response.content.decode()
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED


def test_cancel_before_publishing(client, personas, login, team):
    post = scheduled(team)
    login(client, personas.alice)
    response = client.post(f"{page_of(post)}cancel/", {"reason": "Event moved"}, follow=True)
    assert "The post is cancelled." in response.content.decode()
    post.refresh_from_db()
    assert post.status == PostStatus.CANCELLED
    assert "Event moved" in response.content.decode()


def test_take_a_scheduled_post_off_the_schedule(client, personas, login, team):
    post = scheduled(team)
    login(client, personas.alice)
    client.post(f"{page_of(post)}unschedule/")
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED


def test_published_target_links_to_the_live_post_and_can_be_deleted(
    client, personas, login, team, run_due
):
    post = scheduled(team, at=None)
    with time_machine.travel(post.scheduled_at, tick=False):
        assert run_due() == ["published"]
    job = PublishJob.objects.get(post=post)
    login(client, personas.alice)
    page = client.get(page_of(post)).content.decode()
    assert "Published on every account." in page
    assert "See it in the practice feed" in page
    assert "Delete from network" in page
    assert client.get(f"/publishing/targets/{job.pk}/delete/").status_code == 200
    response = client.post(f"/publishing/targets/{job.pk}/delete/", follow=True)
    assert "Deleted from city-news." in response.content.decode()
    job.refresh_from_db()
    assert job.deleted_at is not None


def test_failed_target_shows_the_reason_and_can_be_retried(client, personas, login, team):
    post = scheduled(team)
    job = PublishJob.objects.get(post=post)
    PublishJob.objects.filter(pk=job.pk).update(
        status=JobStatus.FAILED,
        last_error_kind="rejected",
        last_error_message="The network refused this: duplicate post",
    )
    login(client, personas.alice)
    page = client.get(page_of(post)).content.decode()
    assert "Failed:" in page
    assert "The network refused this: duplicate post" in page
    response = client.post(f"/publishing/targets/{job.pk}/retry/", follow=True)
    assert "Trying city-news again now." in response.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING


def test_outsider_cannot_retry_or_delete_a_target(client, personas, login, team):
    post = scheduled(team)
    job = PublishJob.objects.get(post=post)
    login(client, personas.charlie)
    assert client.post(f"/publishing/targets/{job.pk}/retry/").status_code == 404
    assert client.get(f"/publishing/targets/{job.pk}/delete/").status_code == 404


def test_home_tells_a_reviewer_how_many_posts_wait(client, login, team):
    submitted(team)
    login(client, team.rita.user)
    page = client.get("/").content.decode()
    assert "Waiting for me: 1 post to review" in page
    assert 'href="/publishing/review/"' in page
    login(client, team.eddie.user)  # editors do not review
    assert "Waiting for me" not in client.get("/").content.decode()
