"""WCAG 2.1 1.4.10 Reflow: at 320 CSS pixels wide (a phone, or 1280 px at 400 % zoom)
no page scrolls sideways. Wide tables scroll inside their own focusable region, the
header wraps, and long words in lists and cells break. Every page is checked with axe,
with data in every list, in English and in Finnish (whose words are long)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import ChannelAccount
from analytics.services.rollups import rollups_rebuild
from analytics.tests.helpers import followers, local_noon, post_snapshot, today_local, tracked
from governance.models import Role
from governance.tests.registry_helpers import make_entry
from inbox.models import InboxItem
from inbox.services import inbox_sync_account
from inbox.tests.helpers import citizen_writes, publish_sandbox
from publishing.services.approval import post_approve
from publishing.services.posts import (
    post_create,
    post_schedule,
    post_submit_for_review,
    variant_save,
)
from tests.browser.conftest import visit
from tests.browser.test_analytics import log_in
from tests.factories import (
    ChannelAccountFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NARROW = {"width": 320, "height": 640}
LONG_WORD = "Terveydenhuoltopalvelujärjestelmäuudistuskokonaisuus"


def busy_municipality() -> tuple[Any, dict[str, str]]:
    """An administrator of a municipality with long Finnish names in every list."""
    org = OrganizationFactory.create(
        name="Pohjois-Pohjanmaan hyvinvointialueen viestintäyksikkö", slug="pohde"
    )
    admin = UserFactory.create(
        email="aleksandra.kivimaki-heikkinen@pohjois-pohjanmaan-hyvinvointialue.example",
        full_name="Aleksandra Kivimäki-Heikkinen",
    )
    reviewer_user = UserFactory.create(
        email="rasmus.reviewer@pohjois-pohjanmaan-hyvinvointialue.example",
        full_name="Rasmus Ruotsalainen-Välimäki",
    )
    admin_membership = MembershipFactory.create(organization=org, user=admin, role=Role.ADMIN)
    reviewer = MembershipFactory.create(organization=org, user=reviewer_user, role=Role.REVIEWER)
    account: ChannelAccount = ChannelAccountFactory.create(
        organization=org,
        network="sandbox",
        handle="hyvinvointialueen-tiedotus-ja-viestintapalvelut",
        display_name="Hyvinvointialueen tiedotus- ja viestintäpalvelut",
    )
    # Posts: scheduled in the coming days (calendar, posts list), one in review.
    now = timezone.now()
    first_post = None
    for days in (1, 2, 3):
        post = post_create(membership=admin_membership, title=f"{LONG_WORD} {days}")
        variant_save(
            post=post,
            membership=admin_membership,
            channel_account=account,
            language="fi",
            text=f"{LONG_WORD} tiedote numero {days}.",
        )
        post_submit_for_review(post=post, membership=admin_membership)
        post_approve(post=post, membership=reviewer)
        post_schedule(post=post, membership=admin_membership, at=now + timedelta(days=days))
        first_post = first_post or post
    waiting = post_create(membership=admin_membership, title=f"{LONG_WORD} luonnos")
    variant_save(
        post=waiting,
        membership=admin_membership,
        channel_account=account,
        language="fi",
        text="Kirjasto.",
    )
    # Inbox: citizens answer one of our posts.
    ours = publish_sandbox(account, "Uimahalli on suljettu tällä viikolla.")
    citizen_writes(
        account,
        f"Milloin {LONG_WORD} alkaa? https://www.example.org/{LONG_WORD.lower()}/tiedotteet",
        handle="aino.virtanen-korhonen-lahtinen",
        name="Aino Virtanen-Korhonen-Lahtinen",
        reply_to=ours,
    )
    inbox_sync_account(
        account=ChannelAccount.objects.select_related("organization").get(pk=account.pk)
    )
    # Analytics figures.
    today = today_local()
    followers(account, local_noon(today - timedelta(days=3)), 1200)
    published_post = tracked(account, at=local_noon(today - timedelta(days=2)), title=LONG_WORD)
    post_snapshot(published_post, local_noon(today - timedelta(days=1)), likes=12)
    rollups_rebuild(organization=org, since=today - timedelta(days=10))
    # Registry: a long login identity.
    entry = make_entry(
        org,
        admin,
        handle="hyvinvointialue_tiedotus",
        display_name=f"{LONG_WORD} viestintä",
        login_identity="viestinta.sosiaalinen-media@pohjois-pohjanmaan-hyvinvointialue.example",
    )
    item = InboxItem.objects.get(author_name="Aino Virtanen-Korhonen-Lahtinen")
    assert first_post is not None
    return admin, {
        "post": f"/publishing/posts/{first_post.pk}/",
        "item": f"/inbox/{item.pk}/",
        "entry": f"/governance/registry/{entry.pk}/",
        "account": f"/accounts/{account.pk}/",
    }


MAIN_PAGES = [
    "/",
    "/publishing/posts/",
    "/publishing/posts/new/",
    "/publishing/calendar/",
    "/publishing/calendar/week/",
    "/publishing/calendar/list/",
    "/publishing/queue/",
    "/inbox/",
    "/analytics/",
    "/governance/audit/",
    "/governance/registry/",
    "/governance/members/",
    "/accounts/",
    "/me/",
]


# What sticks out past the window's right edge: elements, and text that overflows its box.
CULPRITS = """() => {
  const width = document.documentElement.clientWidth, out = [];
  const name = e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '');
  for (const e of document.querySelectorAll('body *')) {
    const parent = e.parentElement.getBoundingClientRect().right;
    if (e.getBoundingClientRect().right > width && parent <= width) out.push(name(e));
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(n);
    if (range.getBoundingClientRect().right > width
        && n.parentElement.getBoundingClientRect().right <= width) {
      out.push(name(n.parentElement) + ': ' + n.textContent.trim().slice(0, 30));
    }
  }
  return out.slice(0, 5);
}"""


def too_wide(page: Any, paths: list[str], width: int) -> dict[str, Any]:
    """Visit each page (checked with axe); those wider than ``width`` with what sticks out."""
    wide = {}
    for path in paths:
        visit(page, path)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            wide[path] = (scroll_width, page.evaluate(CULPRITS))
    return wide


def test_every_main_page_fits_320_pixels_in_english_and_finnish(page, live_server):
    admin, details = busy_municipality()
    page.set_viewport_size(NARROW)
    log_in(page, admin)
    paths = [*MAIN_PAGES, *details.values()]
    assert not too_wide(page, paths, 320)

    page.context.add_cookies([{"name": "django_language", "value": "fi", "url": live_server.url}])
    visit(page, "/")
    assert page.evaluate("document.documentElement.lang") == "fi"
    assert not too_wide(page, paths, 320)

    # A wide table scrolls inside its region, which a keyboard reaches and scrolls.
    visit(page, "/governance/registry/")
    region = page.get_by_role("region", name="Viralliset tilit")
    assert region.evaluate("e => e.scrollWidth > e.clientWidth")
    region.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.activeElement.scrollLeft > 0")


def test_the_calendar_and_tables_fit_a_phone_and_200_percent_zoom(page):
    admin, _details = busy_municipality()
    log_in(page, admin)
    for width in (390, 683):
        page.set_viewport_size({"width": width, "height": 800})
        paths = ["/publishing/calendar/", "/publishing/calendar/week/", "/governance/audit/"]
        paths += ["/governance/registry/", "/governance/members/", "/accounts/"]
        assert not too_wide(page, [*paths, "/publishing/posts/"], width)
