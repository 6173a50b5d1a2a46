"""Writing guidelines beside the composer: an editor reads the short style guide with its
link to the full policy, adds a campaign's hashtag set to the Swedish text with the
keyboard (announced), and sees a discouraged word flagged with its alternative while
typing. The admin's guidelines page passes axe too."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from governance.models import Policy, Role
from inbox.models import InboxItem, Reply
from inbox.services import inbox_sync_account
from inbox.tests.helpers import citizen_writes
from publishing.models import Campaign, HashtagSet, StyleGuide, WordRule
from tests.browser.conftest import visit
from tests.browser.test_publishing_compose import log_in
from tests.factories import (
    ChannelAccountFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_editor_adds_a_hashtag_set_and_sees_a_word_flagged(page, live_server):
    org = OrganizationFactory.create(name="City of Example", slug="example", default_language="fi")
    eeva = UserFactory.create(email="eeva@example.org", full_name="Eeva Editor")
    MembershipFactory.create(organization=org, user=eeva, role=Role.EDITOR)
    ChannelAccountFactory.create(
        organization=org, network="sandbox", handle="city-practice", display_name="City Practice"
    )
    policy = Policy.objects.create(organization=org, title="Tone of voice")
    StyleGuide.objects.create(organization=org, text="Write plainly and kindly.", policy=policy)
    campaign = Campaign.objects.create(organization=org, name="Summer")
    HashtagSet.objects.create(
        organization=org, name="Summer", campaign=campaign, hashtags="#sommar #Helsingfors"
    )
    WordRule.objects.create(
        organization=org,
        language="sv",
        phrase="kund",
        severity="discouraged",
        alternative="invånare",
    )
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, eeva)
    visit(page, "/publishing/posts/new/")

    guidelines = page.get_by_role("region", name="Writing guidelines")
    expect(guidelines.get_by_text("Write plainly and kindly.")).to_be_visible()
    expect(
        guidelines.get_by_role("link", name="Read the full policy: Tone of voice")
    ).to_be_visible()

    swedish = page.get_by_label("Text in Swedish for city-practice")
    swedish.fill("Välkommen, kund!")
    # The keyboard reaches the set's button; it adds the tags to the text last written in.
    button = guidelines.get_by_role("button", name="Add Summer")
    button.focus()
    page.keyboard.press("Enter")
    expect(swedish).to_have_value("Välkommen, kund! #sommar #Helsingfors")
    expect(guidelines.locator("[data-hashtag-status]")).to_have_text(
        "Added #sommar #Helsingfors to Swedish (city-practice)."
    )
    assert page.get_by_label("Text in Finnish for city-practice").input_value() == ""
    # Pressing it again adds nothing twice.
    page.keyboard.press("Enter")
    expect(swedish).to_have_value("Välkommen, kund! #sommar #Helsingfors")
    # The live check flags the discouraged word with its alternative.
    expect(page.get_by_text("Avoid “kund”: consider “invånare”.")).to_be_visible()
    page.axe.check()


def test_the_guidelines_page_passes_axe(page, live_server):
    org = OrganizationFactory.create(name="City of Example", slug="example", default_language="fi")
    alice = UserFactory.create(email="alice@example.org", full_name="Alice Admin")
    MembershipFactory.create(organization=org, user=alice, role=Role.ADMIN)
    WordRule.objects.create(organization=org, language="fi", phrase="asiakas", severity="banned")
    log_in(page, alice)
    visit(page, "/publishing/guidelines/")
    page.locator("summary", has_text="Add a word to avoid").click()
    expect(page.get_by_label("Word or phrase")).to_be_visible()
    page.axe.check()


def test_the_inbox_reply_box_shows_the_guide_and_stops_a_banned_word(page, live_server):
    org = OrganizationFactory.create(name="City of Example", slug="example", default_language="fi")
    eeva = UserFactory.create(email="eeva@example.org", full_name="Eeva Editor")
    MembershipFactory.create(organization=org, user=eeva, role=Role.EDITOR)
    account = ChannelAccountFactory.create(
        organization=org, network="sandbox", handle="city-practice", display_name="City Practice"
    )
    policy = Policy.objects.create(organization=org, title="Tone of voice")
    StyleGuide.objects.create(organization=org, text="Answer kindly and plainly.", policy=policy)
    WordRule.objects.create(
        organization=org,
        language="en",
        phrase="customer",
        severity="banned",
        alternative="resident",
    )
    citizen = citizen_writes(account, "When does the library open?")
    inbox_sync_account(account=account)
    item = InboxItem.objects.get(remote_id=citizen.remote_id)
    log_in(page, eeva)
    visit(page, f"/inbox/{item.pk}/")
    note = page.get_by_role("note", name="Writing guidelines")
    expect(note).to_contain_text("Answer kindly and plainly.")
    expect(note.get_by_role("link", name="Read the full policy: Tone of voice")).to_be_visible()
    page.get_by_label("Your reply").fill("Dear customer, at nine.")
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_load_state("load")
    expect(
        page.get_by_text("“customer” is not used in our posts: write “resident”.")
    ).to_be_visible()
    page.axe.check()
    assert not Reply.objects.exists()
