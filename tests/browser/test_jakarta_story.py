"""Issue 16's story, end to end in a real browser with the interface in Indonesian: a
comms person in Jakarta sees Indonesia's national holidays on the calendar by their
Indonesian names, writes a post in Indonesian and English with the campaign's hashtag
set and is warned about a banned word, imports next month's 60 posts from a spreadsheet
after fixing the two rows the preview flagged, makes a post repeat weekly, and reads the
clicks on the campaign's short links in analytics. Every page is checked with axe.

The expected texts come from the Indonesian catalogue (``t``), and a few are written out
as they read, so a page left in English fails."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from governance.models import Membership, Role
from publishing.models import (
    Campaign,
    HashtagSet,
    JobStatus,
    LinkSettings,
    Post,
    PostSeries,
    PostStatus,
    PublishJob,
    ShortLink,
    WordRule,
)
from publishing.services.recurrence import series_summary
from publishing.tests.fixtures import draft
from tests.browser.conftest import settle, visit
from tests.factories import (
    DEFAULT_PASSWORD,
    ChannelAccountFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

JAKARTA = ZoneInfo("Asia/Jakarta")


def t(message: str, **values: Any) -> str:
    """``message`` as the Indonesian interface shows it."""
    with translation.override("id"):
        text = str(translation.gettext(message))
    assert text != message, f"No Indonesian for {message!r}"
    return text % values if values else text


def next_month() -> date:
    today = timezone.now().astimezone(JAKARTA).date()
    return (today.replace(day=1) + timedelta(days=32)).replace(day=1)


def first_holiday_from(month: date) -> tuple[date, str]:
    """The first Indonesian national holiday in ``month`` or after, named in Indonesian."""
    found = holidays.country_holidays(
        "ID", years=[month.year, month.year + 1], language="id"
    ).items()
    day, name = min((day, name) for day, name in found if day >= month)
    return day, name


def jakarta(org_name: str = "Pemerintah Provinsi DKI Jakarta") -> tuple[Any, Any, Membership, Any]:
    org = OrganizationFactory.create(
        name=org_name, slug="jakarta", require_2fa=False, default_language="id"
    )
    org.time_zone = "Asia/Jakarta"
    org.country = "ID"
    org.save(update_fields=["time_zone", "country"])
    sari = UserFactory.create(
        email="sari@jakarta.example", full_name="Sari Wulandari", preferred_language="id"
    )
    sari.time_zone = "Asia/Jakarta"
    sari.save(update_fields=["time_zone"])
    membership: Membership = MembershipFactory.create(organization=org, user=sari, role=Role.ADMIN)
    account = ChannelAccountFactory.create(
        organization=org, network="sandbox", handle="jakarta-info", display_name="Info Jakarta"
    )
    return org, sari, membership, account


def log_in_indonesian(page: Any, user: Any) -> None:
    """Bahasa Indonesia chosen on the login page, then the whole login in Indonesian."""
    visit(page, "/auth/login/")
    page.get_by_label("Language").select_option("id")
    page.get_by_role("button", name="Change").click()
    settle(page)
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.get_by_role("heading", level=1).inner_text() == "Masuk"
    page.get_by_label("Alamat surel").fill(user.email)
    page.get_by_label("Kata sandi").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Masuk", exact=True).click()
    settle(page)


def sheet_rows(month: date, *, broken: bool) -> list[str]:
    """A month of 60 posts, one row each; ``broken`` spoils rows 17 and 42 the way
    people do (an account that is not ours, a time nobody can read)."""
    rows = ["unggahan;akun;bahasa;teks;waktu"]  # the columns named in Indonesian
    for n in range(60):
        day = month + timedelta(days=n // 2)
        at = f"{day.isoformat()} {'09:00' if n % 2 == 0 else '15:00'}"
        account = "jakarta-info"
        if broken and n == 16:
            account = "jakarta-infoo"
        if broken and n == 41:
            at = "minggu depan"
        rows.append(f"{n + 1};{account};id;Info kota nomor {n + 1}.;{at}")
    return rows


def write_sheet(path: Path, rows: list[str]) -> Path:
    path.write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode("utf-8"))
    return path


def test_a_comms_person_in_jakarta_works_through_the_story_in_indonesian(
    page: Any, tmp_path: Path
) -> None:
    org, sari, membership, account = jakarta()
    campaign = Campaign.objects.create(organization=org, name="Jakarta Bersih")
    HashtagSet.objects.create(
        organization=org,
        name="Jakarta Bersih",
        campaign=campaign,
        hashtags="#JakartaBersih #KotaKita",
    )
    WordRule.objects.create(
        organization=org, language="id", phrase="pelanggan", severity="banned", alternative="warga"
    )
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in_indonesian(page, sari)

    # 1. The calendar shows Indonesia's national holidays by their Indonesian names.
    month = next_month()
    holiday, holiday_name = first_holiday_from(month)
    visit(page, f"/publishing/calendar/?date={holiday.isoformat()}")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Kalender")
    cell = page.locator(f'td[data-calendar-drop="{holiday.isoformat()}"]')
    assert f"{t('Public holiday')}: {holiday_name}" in " ".join(cell.inner_text().split())

    # 2. A post in Indonesian and English; the campaign's hashtags in one click; the
    #    banned word is flagged with what to write instead.
    visit(page, f"/publishing/posts/new/?account={account.pk}")
    assert page.get_by_role("button", name="Simpan draf").is_visible()
    english_box = page.get_by_role("checkbox", name=re.compile("Inggris"))
    if not english_box.is_checked():
        english_box.check()
    indonesian = page.get_by_label(
        t("Text in %(language)s for %(account)s", language="Indonesia", account="jakarta-info")
    )
    english = page.get_by_label(
        t("Text in %(language)s for %(account)s", language="Inggris", account="jakarta-info")
    )
    english.fill("The city cleans the riverbanks on Saturday.")
    indonesian.fill("Halo pelanggan, kota membersihkan bantaran sungai hari Sabtu.")
    guidelines = page.get_by_role("region", name=t("Writing guidelines"))
    guidelines.get_by_role("button", name=t("Add %(name)s", name="Jakarta Bersih")).click()
    expect(indonesian).to_have_value(
        "Halo pelanggan, kota membersihkan bantaran sungai hari Sabtu. #JakartaBersih #KotaKita"
    )
    expect(
        page.get_by_text(
            t(
                "“%(found)s” is not used in our posts: write “%(alternative)s”.",
                found="pelanggan",
                alternative="warga",
            )
        ).first
    ).to_be_visible()
    page.axe.check()

    # 3. A weekly recurring post, set in the composer's Repeat section.
    first = (timezone.now().astimezone(JAKARTA) + timedelta(days=2)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    with translation.override("id"):
        weekday = str(translation.gettext(first.strftime("%A")))
    page.get_by_label(t("Internal title")).fill("Kerja bakti mingguan")
    page.get_by_label(t("Planned publication time")).fill(first.strftime("%Y-%m-%dT%H:%M"))
    indonesian.fill("Kerja bakti setiap pekan. #JakartaBersih")
    english.fill("Community clean-up every week.")
    page.locator("summary", has_text=t("Repeat")).click()
    page.get_by_label(t("Repeat"), exact=True).select_option(label=t("Weekly"))
    page.get_by_label(weekday, exact=True).check()
    page.get_by_label(t("After a number of times")).check()
    page.get_by_label(t("Number of times"), exact=True).fill("4")
    page.get_by_role("button", name="Tampilkan tanggal berikutnya").click()
    settle(page)
    dates = page.locator("#compose-repeat-preview").get_by_role("listitem")
    assert dates.count() == 4
    page.get_by_role("button", name="Simpan draf").click()
    settle(page)
    series = PostSeries.objects.get(organization=org)
    head = Post.objects.get(pk=series.head_id)
    assert set(head.variants.values_list("language", flat=True)) == {"id", "en"}
    with translation.override("id"):
        summary = series_summary(series)
    assert summary.startswith("Setiap") and weekday in summary and "Asia/Jakarta" in summary
    assert page.get_by_text(summary).first.is_visible()

    # 4. Next month's 60 posts from a spreadsheet: the preview flags exactly the two
    #    bad rows; the fixed file imports all 60 as drafts.
    before = set(Post.objects.filter(organization=org).values_list("pk", flat=True))
    visit(page, "/publishing/import/")
    assert page.get_by_role("heading", level=1).inner_text() == ("Impor unggahan dari lembar kerja")
    sheet = write_sheet(tmp_path / "januari.csv", sheet_rows(month, broken=True))
    page.get_by_label("Lembar kerja").set_input_files(str(sheet))
    page.get_by_role("button", name="Periksa berkas").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Impor januari.csv"
    assert "60 baris: 58 siap, 2 bermasalah." in " ".join(
        page.locator("#import-summary").inner_text().split()
    )
    problems = page.locator("#import-problems tbody").get_by_role("row")
    assert problems.count() == 2
    assert "Tidak ada akun “jakarta-infoo”" in problems.nth(0).inner_text()
    assert "“minggu depan” bukan tanggal dan waktu" in problems.nth(1).inner_text()

    # The two rows fixed in the spreadsheet, the file uploaded again: nothing to flag.
    visit(page, "/publishing/import/")
    fixed = write_sheet(tmp_path / "januari.csv", sheet_rows(month, broken=False))
    page.get_by_label("Lembar kerja").set_input_files(str(fixed))
    page.get_by_role("button", name="Periksa berkas").click()
    settle(page)
    assert "60 baris: 60 siap, 0 bermasalah." in " ".join(
        page.locator("#import-summary").inner_text().split()
    )
    assert set(Post.objects.filter(organization=org).values_list("pk", flat=True)) == before
    page.get_by_role("button", name="Impor unggahan").click()
    settle(page)
    assert "60 unggahan dibuat sebagai draf." in " ".join(
        page.locator("#import-result").inner_text().split()
    )
    made = Post.objects.filter(organization=org).exclude(pk__in=before)
    assert made.count() == 60
    assert set(made.values_list("status", flat=True)) == {PostStatus.DRAFT}
    planned = [p.scheduled_at for p in made]
    assert all(at is not None and at.astimezone(JAKARTA).date() >= month for at in planned)
    page.get_by_role("link", name="Lihat unggahan").click()
    settle(page)
    assert page.get_by_text("Info kota nomor 60.").first.is_visible()

    # 5. A click on the campaign's short link shows in analytics.
    LinkSettings.objects.update_or_create(
        organization=org, defaults={"tag_utm": True, "shorten": True}
    )
    post = draft(
        membership, account, "Daftar: https://jakarta.example/bersih", language="id", title="Bersih"
    )
    post.campaign = campaign
    post.save(update_fields=["campaign"])
    now = timezone.now()
    job = PublishJob.objects.create(
        organization=org,
        post=post,
        variant=post.variants.get(),
        channel_account=account,
        due_at=now,
        next_attempt_at=now,
        status=JobStatus.PUBLISHED,
    )
    ShortLink.objects.create(
        organization=org,
        post=post,
        job=job,
        network=account.network,
        code="bersih01",
        original_url="https://jakarta.example/bersih",
        target_url="https://jakarta.example/bersih?utm_campaign=jakarta-bersih",
    )
    # A resident's browser follows the link (a crawler's preview would not count).
    resident = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0"}
    response = page.request.get("/l/bersih01", max_redirects=0, headers=resident)
    assert response.status == 302
    assert response.headers["location"].startswith("https://jakarta.example/bersih")
    # The click waits in Redis until beat's next flush (every 5 s): run it as beat would.
    from publishing.services.links import short_link_clicks_flush

    short_link_clicks_flush()
    visit(page, "/analytics/")
    section = page.get_by_role("region", name="Klik pada tautan")
    assert "1 klik pada tautan pendek unggahan dalam rentang ini." in " ".join(
        section.inner_text().split()
    )
