"""Outside reviewers: a stage decided by someone without a GovSocial account, through a
single-use link e-mailed when the post reaches that stage."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.utils import timezone

from governance.models import AuditEvent, Notification, Role
from publishing.models import ApprovalDecision, OutsideReview, PostStatus
from publishing.services.approval import (
    OutsideLinkRefused,
    StageInput,
    approval_policy_save,
    post_approve,
    post_outside_decide,
)
from publishing.services.media import media_alt_text_set
from publishing.services.outside_review import outside_review_revoke, outside_token_hash
from publishing.services.posts import (
    MediaSlot,
    post_submit_for_review,
    post_update,
    post_withdraw,
    variant_save,
)
from publishing.tests.fixtures import draft, make_image

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def mail_at_commit(monkeypatch):
    """Links and notices are e-mailed once the transaction commits. A test's transaction
    never commits, so here they go when the service asks (the browser test runs real
    commits)."""
    monkeypatch.setattr(
        "django.db.transaction.on_commit", lambda func, using=None, robust=False: func()
    )


LEGAL = "legal@ministry.example"


@pytest.fixture
def english(team):
    org = team.alice.organization
    org.default_language = "en"
    org.time_zone = "Europe/Helsinki"
    org.save(update_fields=["default_language", "time_zone"])
    return org


def outside_policy(team, *, then_manager=False, before_reviewer=False):
    stages = []
    if before_reviewer:
        stages.append(StageInput(name="Comms", role=Role.REVIEWER))
    stages.append(StageInput(name="Legal", outside_email=LEGAL))
    if then_manager:
        stages.append(StageInput(name="Manager", role=Role.MANAGER))
    return approval_policy_save(membership=team.alice, name="With legal", stages=stages)


def submitted(team, text="Library opens at 9.", **variant):
    post = draft(team.eddie, team.account, text, **variant)
    mail.outbox.clear()
    post_submit_for_review(post=post, membership=team.eddie)
    post.refresh_from_db()
    return post


def link_in(message) -> str:
    match = re.search(r"https?://\S+/publishing/outside-review/(\S+)/", message.body)
    assert match, message.body
    return match.group(1)


def token_of_last_mail() -> str:
    return link_in(mail.outbox[-1])


def page(token, client=None):
    return (client or Client()).get(f"/publishing/outside-review/{token}/")


def decide(token, decision="approve", comment="", client=None):
    return (client or Client()).post(
        f"/publishing/outside-review/{token}/", {"decision": decision, "comment": comment}
    )


def status(post):
    post.refresh_from_db()
    return post.status


# --- the link ---------------------------------------------------------------------------


def test_reaching_the_stage_emails_the_outside_reviewer_a_link_stored_hashed(team, english):
    outside_policy(team)
    post = submitted(team)
    assert [m.to for m in mail.outbox] == [[LEGAL]]
    message = mail.outbox[0]
    assert message.subject == "City of Example asks you to approve “Library”"
    assert "Eddie Editor of City of Example asks you to approve" in message.body
    assert "(Europe/Helsinki) and only once" in message.body
    token = link_in(message)
    assert len(token) >= 43
    review = OutsideReview.objects.get(post=post)
    assert review.token_hash == outside_token_hash(token)
    assert token not in str(OutsideReview.objects.filter(pk=review.pk).values().get())
    assert review.expires_at - review.created_at == timedelta(hours=72)
    entry = AuditEvent.objects.get(action="post.outside_review_sent")
    assert entry.new_values["outside_reviewer"] == LEGAL


def test_the_link_lasts_as_long_as_configured(team, english, settings):
    settings.OUTSIDE_REVIEW_TTL_HOURS = 24
    outside_policy(team)
    submitted(team)
    review = OutsideReview.objects.get()
    assert review.expires_at - review.created_at == timedelta(hours=24)


def test_a_later_outside_stage_gets_its_link_when_the_stage_before_passes(team, english):
    outside_policy(team, before_reviewer=True)
    post = submitted(team)
    assert not OutsideReview.objects.exists()
    assert [m.to for m in mail.outbox] == [["rita@example.org"]]
    post_approve(post=post, membership=team.rita)
    assert OutsideReview.objects.filter(post=post).count() == 1
    assert mail.outbox[-1].to == [LEGAL]


def test_the_page_shows_the_post_as_it_will_appear_and_nothing_else(team, english, media_root):
    outside_policy(team)
    image = make_image(team.eddie, alt={"fi": "Kirjaston ovi aamulla", "sv": "Bibliotekets dörr"})
    post = draft(team.eddie, team.account, "Kirjasto aukeaa klo 9.", language="fi")
    variant_save(
        post=post, membership=team.eddie, channel_account=team.account, language="fi",
        text="Kirjasto aukeaa klo 9.",
        media=[MediaSlot(asset=image, thread_index=0)],
    )  # fmt: skip
    variant_save(
        post=post, membership=team.eddie, channel_account=team.account, language="sv",
        text="Biblioteket öppnar kl. 9.",
    )  # fmt: skip
    at = timezone.now().replace(microsecond=0) + timedelta(days=2)
    post_update(post=post, membership=team.eddie, planned_at=at)
    post_submit_for_review(post=post, membership=team.eddie)
    response = page(token_of_last_mail())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Review a post for City of Example" in html
    assert "Kirjasto aukeaa klo 9." in html and "Biblioteket öppnar kl. 9." in html
    assert 'alt="Kirjaston ovi aamulla"' in html
    assert "Alt text:</strong> Kirjaston ovi aamulla" in html
    local = timezone.localtime(at, timezone=ZoneInfo("Europe/Helsinki"))
    assert f"{local:%Y-%m-%d %H:%M}</time> (Europe/Helsinki)" in html
    # No way into the app: no link but the images' signed addresses.
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert all(h.startswith("/static/") for h in hrefs), hrefs
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]
    # The image loads for someone with no session.
    src = re.search(r'<img src="([^"]+)"', html)
    assert src and Client().get(src.group(1)).status_code == 200
    assert OutsideReview.objects.get().opened_at is not None


# --- deciding ---------------------------------------------------------------------------


def test_approving_through_the_link_approves_the_post_as_a_member_would(team, english):
    outside_policy(team)
    post = submitted(team)
    token = token_of_last_mail()
    response = decide(token, "approve", "Legally fine.")
    assert response.status_code == 302
    thanks = Client().get(response["Location"])
    assert thanks.status_code == 200
    assert "Your approval is recorded." in thanks.content.decode()
    assert status(post) == PostStatus.APPROVED
    decision = ApprovalDecision.objects.get(post=post)
    assert decision.outside_email == LEGAL and decision.reviewer is None
    assert decision.comment == "Legally fine."
    entry = AuditEvent.objects.get(action="post.outside_review_approved")
    assert entry.actor is None and entry.actor_label == LEGAL
    assert entry.new_values["comment"] == "Legally fine."
    approved = AuditEvent.objects.get(action="post.approved")
    assert approved.actor_label == LEGAL
    assert Notification.objects.filter(user=team.eddie.user, kind="post.approved").exists()
    # The page now says the link was used, and what was decided.
    after = page(token)
    assert after.status_code == 410
    assert "The decision recorded: approved." in after.content.decode()


def test_after_the_outside_stage_the_next_stage_is_asked_as_usual(team, english):
    outside_policy(team, then_manager=True)
    post = submitted(team)
    decide(token_of_last_mail(), "approve")
    assert status(post) == PostStatus.IN_REVIEW
    assert Notification.objects.filter(user=team.manny.user, kind="post.review_requested").exists()
    post_approve(post=post, membership=team.manny)
    assert status(post) == PostStatus.APPROVED


def test_no_member_can_decide_the_outside_stage(team, english):
    outside_policy(team)
    post = submitted(team)
    for member in (team.alice, team.manny, team.rita):
        with pytest.raises(PermissionDenied):
            post_approve(post=post, membership=member)


def test_requesting_changes_returns_the_post_to_its_author_with_the_comment(team, english):
    outside_policy(team)
    post = submitted(team)
    token = token_of_last_mail()
    refused = decide(token, "request_changes", "")
    assert refused.status_code == 400
    assert "Say what should change." in refused.content.decode()
    assert status(post) == PostStatus.IN_REVIEW
    decide(token, "request_changes", "Remove the opening time: it is not decided.")
    assert status(post) == PostStatus.CHANGES_REQUESTED
    notice = Notification.objects.get(user=team.eddie.user, kind="post.changes_requested")
    assert notice.message == (
        f"{LEGAL} asked for changes to “Library”: Remove the opening time: it is not decided."
    )
    entry = AuditEvent.objects.get(action="post.outside_changes_requested")
    assert entry.actor_label == LEGAL
    assert entry.new_values["comment"] == "Remove the opening time: it is not decided."


def test_a_link_works_once(team, english):
    outside_policy(team, then_manager=True)
    post = submitted(team)
    token = token_of_last_mail()
    decide(token, "approve")
    again = decide(token, "request_changes", "Second thoughts")
    assert again.status_code == 410
    assert "This link was used on" in again.content.decode()
    assert status(post) == PostStatus.IN_REVIEW
    assert ApprovalDecision.objects.filter(post=post).count() == 1
    with pytest.raises(OutsideLinkRefused) as refused:
        post_outside_decide(token=token, decision="approve", comment="")
    assert refused.value.problem == "used"


def test_an_expired_link_says_so_and_decides_nothing(team, english):
    outside_policy(team)
    post = submitted(team)
    token = token_of_last_mail()
    with time_machine.travel(timezone.now() + timedelta(hours=73)):
        response = page(token)
        assert response.status_code == 410
        assert "This link expired on" in response.content.decode()
        assert decide(token, "approve").status_code == 410
    assert status(post) == PostStatus.IN_REVIEW


def test_a_changed_post_makes_the_link_useless_and_sends_a_new_one(team, english):
    outside_policy(team)
    post = submitted(team)
    old = token_of_last_mail()
    variant_save(
        post=post, membership=team.eddie, channel_account=team.account, language="fi",
        text="Library opens at 10.",
    )  # fmt: skip
    response = page(old)
    assert response.status_code == 410
    html = response.content.decode()
    assert "The post was changed after this link was sent" in html
    assert "Questions about the post: eddie@example.org (City of Example)." in html
    assert decide(old, "approve").status_code == 410
    assert status(post) == PostStatus.IN_REVIEW
    # Back in review: a new link for the new version, which works.
    new = token_of_last_mail()
    assert new != old
    assert "Library opens at 10." in page(new).content.decode()
    decide(new, "approve")
    assert status(post) == PostStatus.APPROVED


def test_a_changed_alt_text_makes_the_link_useless(team, english, media_root):
    outside_policy(team)
    image = make_image(team.eddie, alt={"fi": "Ovi"})
    post = draft(team.eddie, team.account, media=[MediaSlot(asset=image, thread_index=0)])
    post_submit_for_review(post=post, membership=team.eddie)
    token = token_of_last_mail()
    media_alt_text_set(asset=image, membership=team.eddie, language="fi", text="Ikkuna")
    assert "The post was changed" in page(token).content.decode()
    with pytest.raises(OutsideLinkRefused):
        post_outside_decide(token=token, decision="approve", comment="")


def test_a_withdrawn_post_says_it_no_longer_waits(team, english):
    outside_policy(team)
    post = submitted(team)
    token = token_of_last_mail()
    post_withdraw(post=post, membership=team.eddie)
    response = page(token)
    assert response.status_code == 410
    assert "no longer waiting for your review" in response.content.decode()


@pytest.mark.parametrize(
    "tampered",
    [
        lambda t: t[:-1],
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: t + "x",
        lambda t: "x" * 5000,
        lambda t: "%00" + t,
        lambda t: "ä" * 43,
        lambda t: "..",
    ],
)
def test_a_tampered_link_is_not_found_and_never_an_error(team, english, tampered):
    outside_policy(team)
    post = submitted(team)
    token = tampered(token_of_last_mail())
    response = page(token)
    assert response.status_code in (400, 404)
    assert decide(token, "approve").status_code in (400, 404)
    assert status(post) == PostStatus.IN_REVIEW


def test_an_unknown_link_page_explains(team, english):
    response = page("n" * 43)
    assert response.status_code == 404
    assert "This link does not work." in response.content.decode()


def test_a_logged_in_member_opening_the_link_still_decides_as_the_outside_reviewer(
    team, english, login
):
    outside_policy(team)
    post = submitted(team)
    client = Client()
    login(client, team.alice.user)
    decide(token_of_last_mail(), "approve", client=client)
    assert status(post) == PostStatus.APPROVED
    entry = AuditEvent.objects.get(action="post.outside_review_approved")
    assert entry.actor is None and entry.actor_label == LEGAL


# --- staff: status, resend, revoke ------------------------------------------------------


def test_the_posts_page_shows_the_outside_reviews_state_and_comment(team, english, login):
    outside_policy(team)
    post = submitted(team)
    client = Client()
    login(client, team.eddie.user)
    html = client.get(f"/publishing/posts/{post.pk}/").content.decode()
    assert "Outside reviewer: legal@ministry.example" in html
    assert "not opened yet" in html
    decide(token_of_last_mail(), "request_changes", "Check the date with us.")
    html = client.get(f"/publishing/posts/{post.pk}/").content.decode()
    assert "Asked for changes" in html
    assert "Check the date with us." in html


def test_staff_resend_a_link_and_the_old_one_stops_working(team, english, login):
    outside_policy(team)
    post = submitted(team)
    old = token_of_last_mail()
    review = OutsideReview.objects.get()
    client = Client()
    login(client, team.eddie.user)
    response = client.post(f"/publishing/outside-reviews/{review.pk}/resend/")
    assert response.status_code == 302
    new = token_of_last_mail()
    assert new != old
    assert "A newer link was sent" in page(old).content.decode()
    assert page(new).status_code == 200
    assert AuditEvent.objects.filter(action="post.outside_review_resent").count() == 1
    decide(new, "approve")
    assert status(post) == PostStatus.APPROVED


def test_staff_revoke_a_link(team, english, login):
    outside_policy(team)
    post = submitted(team)
    token = token_of_last_mail()
    review = OutsideReview.objects.get()
    client = Client()
    login(client, team.eddie.user)
    client.post(f"/publishing/outside-reviews/{review.pk}/revoke/")
    response = page(token)
    assert response.status_code == 410
    assert "The sender withdrew this link." in response.content.decode()
    assert AuditEvent.objects.get(action="post.outside_review_revoked").actor == team.eddie.user
    assert status(post) == PostStatus.IN_REVIEW


def test_only_writers_of_the_organization_resend_or_revoke(team, english, login):
    outside_policy(team)
    submitted(team)
    review = OutsideReview.objects.get()
    outsider = Client()
    login(outsider, team.charlie.user)
    assert outsider.post(f"/publishing/outside-reviews/{review.pk}/resend/").status_code == 404
    assert outsider.post(f"/publishing/outside-reviews/{review.pk}/revoke/").status_code == 404
    reviewer = Client()
    login(reviewer, team.rita.user)
    assert reviewer.post(f"/publishing/outside-reviews/{review.pk}/revoke/").status_code == 403
    assert OutsideReview.objects.get().revoked_at is None


def test_the_email_and_page_are_in_the_organizations_language(team):
    org = team.alice.organization
    assert org.default_language == "fi"
    outside_policy(team)
    submitted(team)
    message = mail.outbox[-1]
    assert message.subject == "City of Example pyytää sinua hyväksymään julkaisun ”Library”"
    html = page(link_in(message)).content.decode()
    assert '<html lang="fi">' in html
    assert "Hyväksy" in html


# --- an outside reviewer named for each post --------------------------------------------


def per_post_policy(team, suggested=""):
    policy = approval_policy_save(
        membership=team.alice,
        name="Minister's office",
        stages=[
            StageInput(name="Minister's office", outside_email=suggested, outside_per_post=True)
        ],
    )
    return policy.stages.get()


def test_the_author_names_the_outside_reviewer_when_submitting(team, english, login):
    stage = per_post_policy(team)
    post = draft(team.eddie, team.account)
    client = Client()
    login(client, team.eddie.user)
    html = unescape(client.get(f"/publishing/posts/{post.pk}/").content.decode())
    assert "Outside reviewer's e-mail for “Minister's office”" in html
    refused = client.post(f"/publishing/posts/{post.pk}/submit/", follow=True)
    refused_page = unescape(refused.content.decode())
    assert "Name the outside reviewer of the stage “Minister's office”." in refused_page
    assert status(post) == PostStatus.DRAFT
    bad = client.post(
        f"/publishing/posts/{post.pk}/submit/", {f"outside-{stage.pk}": "not an address"},
        follow=True,
    )  # fmt: skip
    assert "“not an address” is not an e-mail address." in unescape(bad.content.decode())
    client.post(
        f"/publishing/posts/{post.pk}/submit/",
        {f"outside-{stage.pk}": "Office@Minister.example", "outside-²": "x"},
    )
    assert status(post) == PostStatus.IN_REVIEW
    assert mail.outbox[-1].to == ["office@minister.example"]
    html = unescape(client.get(f"/publishing/posts/{post.pk}/").content.decode())
    assert "Outside reviewer: office@minister.example" in html
    decide(token_of_last_mail(), "approve")
    assert status(post) == PostStatus.APPROVED


def test_the_policys_suggestion_stands_unless_the_author_changes_it(team, english):
    stage = per_post_policy(team, suggested="desk@minister.example")
    post = submitted(team)
    assert mail.outbox[-1].to == ["desk@minister.example"]
    decide(token_of_last_mail(), "request_changes", "Not this week.")
    post_submit_for_review(
        post=post, membership=team.eddie,
        outside_reviewers={stage.pk: "aide@minister.example"},
    )  # fmt: skip
    assert mail.outbox[-1].to == ["aide@minister.example"]
    entry = AuditEvent.objects.filter(action="post.submitted").order_by("id").last()
    assert entry is not None and entry.new_values["outside_reviewers"] == {
        "Minister's office": "aide@minister.example"
    }


def test_the_api_names_the_outside_reviewer_of_a_stage(team, english, login):
    outside_policy(team, then_manager=True)
    post = submitted(team)
    client = Client()
    login(client, team.eddie.user)
    stages = client.get(f"/api/v1/posts/{post.pk}/").json()["approval"]["stages"]
    assert [(s["name"], s["outside_reviewer"], s["is_open"]) for s in stages] == [
        ("Legal", LEGAL, True),
        ("Manager", "", False),
    ]


@pytest.mark.django_db(transaction=True)
def test_two_decisions_at_the_same_moment_use_the_link_once(team, english):
    """A double click, or the link opened twice: two requests decide at once."""
    outside_policy(team, then_manager=True)
    post = submitted(team)
    token = token_of_last_mail()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide_now(decision: str, comment: str) -> None:
        try:
            barrier.wait(timeout=10)
            post_outside_decide(token=token, decision=decision, comment=comment)
            outcomes.append(decision)
        except OutsideLinkRefused as refused:
            outcomes.append(refused.problem)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide_now, args=("approve", "")),
        threading.Thread(target=decide_now, args=("request_changes", "No.")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) in (["approve", "used"], ["request_changes", "used"])
    assert ApprovalDecision.objects.filter(post=post).count() == 1
    expected = PostStatus.IN_REVIEW if "approve" in outcomes else PostStatus.CHANGES_REQUESTED
    assert status(post) == expected


def test_a_withdrawn_link_is_not_sent_again_when_another_stage_passes(team, english):
    """Two accounts under two policies: legal checks one, the comms reviewer the other."""
    approval_policy_save(
        membership=team.alice, name="Legal", channel_account=team.account,
        stages=[StageInput(name="Legal", outside_email=LEGAL)],
    )  # fmt: skip
    approval_policy_save(
        membership=team.alice, name="Comms", stages=[StageInput(name="Comms", role=Role.REVIEWER)]
    )
    post = draft(team.eddie, team.account)
    variant_save(
        post=post, membership=team.eddie, channel_account=team.other_account, language="fi",
        text="Kirjasto aukeaa klo 9.",
    )  # fmt: skip
    post_submit_for_review(post=post, membership=team.eddie)
    review = OutsideReview.objects.get(post=post)
    outside_review_revoke(review=review, membership=team.eddie)
    sent = len(mail.outbox)
    post_approve(post=post, membership=team.rita)
    assert OutsideReview.objects.filter(post=post).count() == 1
    assert len([m for m in mail.outbox[sent:] if m.to == [LEGAL]]) == 0
    assert status(post) == PostStatus.IN_REVIEW
