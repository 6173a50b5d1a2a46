"""A post in Finnish and Arabic: the admin adds Arabic to the organization's languages
by its name and limits a translator to it; the editor writes both versions (the Arabic
one right to left) and sends the post for review; the translator approves the Arabic
version, a reviewer the Finnish one, and only then is the post approved."""

from __future__ import annotations

from typing import Any

import pytest

from governance.models import Role, User
from publishing.models import Post, PostStatus
from publishing.services.approval import StageInput, approval_policy_save
from publishing.services.org_settings import publishing_settings_update
from tests.browser.conftest import AxeTracker, settle, visit
from tests.browser.test_publishing_compose import log_in
from tests.factories import (
    ChannelAccountFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARABIC = "تفتح المكتبة يوم الاثنين الساعة التاسعة."


def approve_language(browser: Any, live_server: Any, user: User, button: str) -> str:
    """The reviewer opens the post from "Waiting for me" and presses ``button``."""
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.axe = AxeTracker(page)
    try:
        log_in(page, user)
        visit(page, "/publishing/review/")
        page.get_by_role("link", name="Opening hours").click()
        settle(page)
        buttons = page.locator(".review-form button").all_inner_texts()
        page.get_by_role("button", name=button, exact=True).click()
        settle(page)
        message = page.locator(".messages").inner_text()
        table = page.locator(".language-approvals")
        states = table.inner_text() if table.count() else ""
        assert not page.axe.unchecked()
        assert not page.axe.csp_errors, page.axe.csp_errors
    finally:
        context.close()
    return "\n".join([*buttons, message, states])


def test_a_finnish_and_arabic_post_approved_language_by_language(page, browser, live_server):
    org = OrganizationFactory.create(name="City of Example", slug="example")
    alice = UserFactory.create(email="alice@example.org", full_name="Alice Admin")
    eeva = UserFactory.create(email="eeva@example.org", full_name="Eeva Editor")
    riikka = UserFactory.create(email="riikka@example.org", full_name="Riikka Reviewer")
    amal = UserFactory.create(email="amal@example.org", full_name="Amal Translator")
    admin = MembershipFactory.create(organization=org, user=alice, role=Role.ADMIN)
    MembershipFactory.create(organization=org, user=eeva, role=Role.EDITOR)
    MembershipFactory.create(organization=org, user=riikka, role=Role.REVIEWER)
    MembershipFactory.create(organization=org, user=amal, role=Role.REVIEWER)
    account = ChannelAccountFactory.create(
        organization=org, network="sandbox", handle="city-practice", display_name="City"
    )
    approval_policy_save(
        membership=admin,
        name="Each language",
        per_language=True,
        stages=[StageInput(name="Language check", role=Role.REVIEWER)],
    )

    # The admin finds Arabic by its name and adds it; Amal approves Arabic only.
    log_in(page, alice)
    visit(page, "/publishing/languages/")
    page.get_by_label("Add a language").fill("Arabic")
    page.get_by_role("button", name="Add", exact=True).click()
    settle(page)
    page.get_by_role("button", name="Add Arabic — العربية (ar)").click()
    settle(page)
    assert page.get_by_text("Arabic — العربية was added.").is_visible()
    row = page.locator("tr[data-language='ar']")
    assert "Right to left" in row.inner_text()
    page.get_by_label("Reviewer").select_option(label="Amal Translator")
    page.get_by_label("Arabic — العربية", exact=True).check()
    page.get_by_role("button", name="Save the reviewer's languages").click()
    settle(page)
    assert "Amal Translator: Arabic — العربية" in page.locator("main").inner_text()
    publishing_settings_update(membership=admin, post_languages=["fi", "ar"])
    page.context.clear_cookies()

    # The editor writes both versions; the Arabic one is typed and shown right to left.
    log_in(page, eeva)
    visit(page, "/publishing/posts/new/")
    page.get_by_label("Internal title").fill("Opening hours")
    assert page.get_by_label("Arabic — العربية", exact=True).is_checked()
    finnish = page.get_by_label("Text in Finnish for city-practice")
    arabic = page.get_by_label("Text in Arabic for city-practice")
    assert arabic.get_attribute("dir") == "rtl" and arabic.get_attribute("lang") == "ar"
    assert finnish.get_attribute("dir") == "ltr"
    finnish.fill("Kirjasto aukeaa maanantaina klo 9.")
    arabic.fill(ARABIC)
    status = page.locator(f"#status-{account.pk}-ar")
    status.get_by_text(f"{len(ARABIC)} of 500 characters").wait_for()
    preview = page.locator(f"#preview-{account.pk}-ar .preview-post")
    preview.get_by_text(ARABIC).wait_for()
    assert preview.get_attribute("dir") == "rtl" and preview.get_attribute("lang") == "ar"
    page.axe.check()  # the page as htmx left it
    page.get_by_role("button", name="Save and submit for review").click()
    settle(page)
    assert page.get_by_text("Saved and sent for review.").is_visible()
    post = Post.objects.get()
    assert post.status == PostStatus.IN_REVIEW

    # Amal sees a button for Arabic only; approving it leaves Finnish waiting.
    seen = approve_language(browser, live_server, amal, "Approve Arabic — العربية")
    assert "Approve Finnish" not in seen
    assert "You approved the Arabic version." in seen
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW

    # Riikka approves the Finnish version: now every version is approved.
    seen = approve_language(browser, live_server, riikka, "Approve Finnish")
    assert "Approved. The post can be scheduled now." in seen
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
