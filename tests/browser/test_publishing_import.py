"""A comms person imports next month's posts from a spreadsheet in a real browser: the
preview flags the rows that are wrong, they import the rest as drafts and find them
among the posts. Every page is checked with axe."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_otp.oath import totp

from governance.models import Role
from publishing.models import Post, PostStatus
from tests.browser.conftest import settle, visit
from tests.factories import (
    DEFAULT_PASSWORD,
    ChannelAccountFactory,
    MembershipFactory,
    OrganizationFactory,
    TOTPDeviceFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_import_a_month_of_posts_after_the_preview_flags_two_rows(page, tmp_path):
    org = OrganizationFactory.create(name="City of Example", slug="example")
    org.time_zone = "Europe/Helsinki"
    org.save()
    ChannelAccountFactory.create(organization=org, handle="city-news", display_name="City News")
    alice = UserFactory.create(email="alice@example.org", full_name="Alice Admin")
    MembershipFactory.create(organization=org, user=alice, role=Role.ADMIN)
    device = TOTPDeviceFactory.create(user=alice)

    visit(page, "/auth/login/")
    page.get_by_label("E-mail address").fill(alice.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    settle(page)
    page.get_by_label("Code from your authenticator app").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()
    settle(page)

    start = timezone.now().astimezone(ZoneInfo("Europe/Helsinki")) + timedelta(days=3)
    rows = ["post;account;language;text;time"]
    for n in range(6):
        at = (start + timedelta(days=n)).strftime("%d.%m.%Y 9.00")
        rows.append(f"{n};city-news;fi;Tiedote {n}.;{at}")
        rows.append(f"{n};city-news;sv;Meddelande {n}.;{at}")
    rows.append("7;nobody;fi;Väärä tili.;" + start.strftime("%d.%m.%Y 9.00"))
    rows.append("8;city-news;fi;Väärä aika.;ensi viikolla")
    sheet = tmp_path / "joulukuu.csv"
    sheet.write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode("utf-8"))

    visit(page, "/publishing/posts/")
    page.get_by_role("navigation", name="Publishing").get_by_role("link", name="Import").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Import posts from a spreadsheet"
    assert page.get_by_role("link", name="Download the template").is_visible()
    page.get_by_label("Spreadsheet").set_input_files(str(sheet))
    page.get_by_role("button", name="Check the file").click()
    settle(page)

    assert page.get_by_role("heading", level=1).inner_text() == "Import of joulukuu.csv"
    assert "14 rows: 12 ready, 2 with problems" in " ".join(
        page.locator("#import-summary").inner_text().split()
    )
    problems = page.locator("#import-problems tbody")
    assert "No account “nobody” that you may post to." in problems.inner_text()
    assert "“ensi viikolla” is not a date and time we can read." in problems.inner_text()

    # All or nothing refuses, and says why; nothing is made.
    page.get_by_role("button", name="Import the posts").click()
    settle(page)
    assert "2 rows have problems" in page.locator(".messages").inner_text()
    assert not Post.objects.exists()

    # Only the rows without problems, as drafts.
    page.get_by_label("import the posts whose rows are all right, skip the rest").check()
    page.get_by_role("button", name="Import the posts").click()
    settle(page)
    result = page.locator("#import-result").inner_text()
    assert "6 posts were made as drafts" in result
    assert "2 rows with problems were skipped" in result
    assert Post.objects.filter(organization=org, status=PostStatus.DRAFT).count() == 6

    page.get_by_role("link", name="See the posts").click()
    settle(page)
    assert page.get_by_text("Tiedote 0.").first.is_visible()
