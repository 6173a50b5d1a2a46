"""A manager's dashboard on one screen at 1366x900: the key figures with their change on
the previous period, the charts side by side in a grid, the top posts with their image
and language, the networks, and "figures as of" in the reader's own time zone. A post
published minutes ago, with likes, already counts. Checked with axe, tables open too."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from analytics.models import TrackedPost
from governance.models import Membership
from govsocial.demo_content import demo_image
from publishing.services.media import media_asset_upload
from tests.browser.conftest import visit
from tests.browser.test_analytics import log_in
from tests.browser.test_today_and_dashboard import city

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDE = {"width": 1366, "height": 900}
ALT = "The harbour at dusk: the ferry at the pier."


def box(page: Any, selector: str) -> dict[str, float]:
    """Where an element is in the document (the page scrolled to the top)."""
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not shown"
    return dict(found)


def test_the_dashboard_fits_one_screen_at_1366x900(page):
    manny, _mayor = city()
    manny.time_zone = "America/New_York"
    manny.save(update_fields=["time_zone"])
    membership = Membership.objects.get(user=manny)
    image = media_asset_upload(
        membership=membership,
        file=ContentFile(demo_image(), name="harbour.png"),
        alt_texts={"fi": ALT},
    )
    fresh = TrackedPost.objects.select_related("job__variant").get(post__title="Road closed")
    fresh.job.variant.media.create(asset=image)

    page.set_viewport_size(WIDE)
    log_in(page, manny)
    visit(page, "/analytics/")
    assert page.evaluate("window.scrollY") == 0
    height = WIDE["height"]

    # No sideways scrolling; the page uses the window's width.
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )

    # Key figures: a fresh post with likes counts (five posts, not "0 posts published").
    figures = box(page, ".key-figures")
    assert figures["y"] + figures["height"] <= height
    posts = page.locator(".key-figure", has=page.get_by_text("Posts published", exact=True))
    assert posts.locator(".key-figure-value").inner_text() == "5"
    assert "+400 % on the previous 30 days" in posts.inner_text()
    engagement = page.locator(".key-figure", has=page.get_by_text("Engagement", exact=True))
    assert "on the previous 30 days" in engagement.inner_text()

    # The charts stand in a grid: two side by side, two rows on the first screen.
    charts = page.locator(".dash-charts .analytics-chart svg")
    assert charts.count() == 6
    boxes = [charts.nth(n).bounding_box() for n in range(4)]
    assert boxes[0]["y"] == boxes[1]["y"] and boxes[1]["x"] > boxes[0]["x"] + boxes[0]["width"]
    assert boxes[2]["y"] > boxes[0]["y"] + boxes[0]["height"]
    for chart in boxes:
        assert chart["y"] + chart["height"] <= height, "a chart of the first rows is cut off"
        assert chart["width"] >= 350, "the charts are too small to read"
    # Each chart keeps its figures as a table (closed until asked for).
    assert page.locator(".dash-charts details.chart-figures").count() == 6

    # Top posts beside the charts: with the image's thumbnail and the post's language.
    top_heading = box(page, "#top-posts-heading")
    assert top_heading["x"] > boxes[1]["x"] + boxes[1]["width"]
    assert top_heading["y"] < boxes[0]["y"] + boxes[0]["height"]
    listed = page.locator(".top-post")
    assert listed.count() == 5
    for n in range(3):
        shown = listed.nth(n).bounding_box()
        assert shown is not None and shown["y"] + shown["height"] <= height
    top = page.locator(".top-post", has_text="Road closed")
    assert "Finnish" in top.inner_text()
    assert "5 reactions" in top.inner_text()
    thumbnail = top.get_by_role("img", name=ALT)
    thumbnail.wait_for()
    assert page.evaluate(
        "(img) => img.complete && img.naturalWidth > 0", thumbnail.element_handle()
    ), "the thumbnail did not load"
    # The per-network breakdown is there, below the top posts.
    assert page.get_by_role("heading", name="By network").is_visible()
    assert box(page, "#networks-heading")["y"] > top_heading["y"]

    # "Figures as of HH:MM" in the reader's own time zone (New York, not Helsinki).
    as_of = page.locator(".dash-as-of")
    assert as_of.bounding_box()["y"] < height
    shown = as_of.inner_text()
    zone = zoneinfo.ZoneInfo("America/New_York")
    now = timezone.now().astimezone(zone)
    times = {(now - timedelta(minutes=n)).strftime("%H:%M") for n in range(3)}
    assert any(f"Figures as of {time} (E" in shown for time in times), shown

    # The tables open in place and stay accessible.
    page.locator(".analytics-chart").nth(1).locator("summary").click()
    table = page.locator(".analytics-chart").nth(1).locator("table")
    assert table.is_visible()
    assert "Likes" in table.inner_text()
    page.axe.check()
