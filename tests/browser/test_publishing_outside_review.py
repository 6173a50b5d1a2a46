"""The ministry's legal unit approves a post without a GovSocial account: the editor sends
it for review, the legal unit's e-mail brings a link, the page shows the post as it will
appear (Finnish and Swedish, the image with its alt text) on a wide screen and a phone,
and they approve it with a comment. The editor sees the outside review on the post's page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from publishing.models import PostStatus
from publishing.services.approval import StageInput, approval_policy_save
from publishing.services.posts import MediaSlot, post_submit_for_review, variant_save
from publishing.tests.fixtures import draft, make_image
from tests.browser.conftest import settle, visit
from tests.browser.test_publishing_compose import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LEGAL = "legal@ministry.example"


def test_an_outside_reviewer_approves_through_the_emailed_link(
    page: Any, team: Any, mailoutbox: Any, media_root: Any
) -> None:
    org = team.alice.organization
    org.default_language = "en"
    org.save(update_fields=["default_language"])
    approval_policy_save(
        membership=team.alice,
        name="Legal check",
        stages=[StageInput(name="Legal unit", outside_email=LEGAL)],
    )
    image = make_image(team.eddie, alt={"fi": "Kirjaston ovi", "sv": "Bibliotekets dörr"})
    post = draft(
        team.eddie, team.account, "Kirjasto aukeaa klo 9.", title="Opening hours",
        media=[MediaSlot(asset=image)],
    )  # fmt: skip
    variant_save(
        post=post, membership=team.eddie, channel_account=team.account, language="sv",
        text="Biblioteket öppnar kl. 9.", media=[MediaSlot(asset=image)],
    )  # fmt: skip
    post_submit_for_review(post=post, membership=team.eddie)

    assert [m.to for m in mailoutbox] == [[LEGAL]]
    match = re.search(r"https?://[^/\s]+(/publishing/outside-review/\S+/)", mailoutbox[0].body)
    assert match, mailoutbox[0].body
    path = match.group(1)

    page.set_viewport_size({"width": 1366, "height": 900})
    visit(page, path)
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Review a post for City of Example"
    )
    previews = page.locator(".preview-card")
    assert previews.count() == 2
    assert "Kirjasto aukeaa klo 9." in previews.nth(0).inner_text()
    assert "Biblioteket öppnar kl. 9." in previews.nth(1).inner_text()
    assert page.get_by_role("img", name="Kirjaston ovi").is_visible()
    assert page.get_by_role("img", name="Bibliotekets dörr").is_visible()
    # Nothing leads into the app.
    assert page.locator("a").count() == 0

    page.set_viewport_size({"width": 390, "height": 844})
    page.axe.check()
    page.get_by_label("Comment").fill("Checked against the decision of 3 December.")
    page.get_by_role("button", name="Approve").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Thank you"
    assert "Your approval is recorded." in page.locator("main").inner_text()
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED

    # Opening the link again: used, says so, decides nothing.
    visit(page, path)
    assert "This link was used on" in page.locator("main").inner_text()
    visit(page, path[:-5] + "xxxx/")
    assert "This link does not work." in page.locator("main").inner_text()

    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, team.eddie.user)
    visit(page, f"/publishing/posts/{post.pk}/")
    outside = page.locator(".outside-reviews").inner_text()
    assert "Legal unit: legal@ministry.example." in outside
    assert "Approved" in outside
    assert "Checked against the decision of 3 December." in outside
    history = page.locator(".history").inner_text()
    assert "legal@ministry.example: Approved (outside reviewer)" in history


def test_an_admin_sets_a_stage_the_author_names_and_the_author_names_the_reviewer(
    page: Any, team: Any, mailoutbox: Any
) -> None:
    org = team.alice.organization
    org.default_language = "en"
    org.save(update_fields=["default_language"])
    log_in(page, team.alice.user)
    visit(page, "/publishing/approval-policies/new/")
    page.get_by_label("Name:", exact=True).fill("Minister's office")
    page.get_by_label("Remind the approvers after (hours)").fill("24")
    page.get_by_label("Tell the managers after (hours)").fill("48")
    page.get_by_label("Stage name").fill("Minister's office")
    page.get_by_label("Who approves").select_option("")
    page.get_by_label("The author names the outside reviewer for each post").check()
    page.get_by_role("button", name="Save policy").click()
    settle(page)
    policy = page.locator(".policy").inner_text()
    assert "an outside reviewer the author names approves through an e-mailed link" in policy
    assert "Approvers are reminded after 24 hours of waiting." in policy
    page.get_by_role("button", name="Log out").click()
    settle(page)

    post = draft(team.eddie, team.account, "Ministeri vierailee kirjastossa.", title="Visit")
    log_in(page, team.eddie.user)
    visit(page, f"/publishing/posts/{post.pk}/")
    page.get_by_label("Outside reviewer's e-mail for “Minister's office”").fill(
        "aide@minister.example"
    )
    page.get_by_role("button", name="Submit for review").click()
    settle(page)
    assert "Sent for review." in page.locator(".messages").inner_text()
    assert [m.to for m in mailoutbox] == [["aide@minister.example"]]
    assert "Outside reviewer: aide@minister.example" in page.locator(".stages-table").inner_text()
    assert "not opened yet" in page.locator(".outside-reviews").inner_text()
