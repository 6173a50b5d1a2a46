"""Bulk import of posts from a spreadsheet: what the preview says of each row, what is
made, and that bad files (wrong encoding, semicolons, Excel dates, formulas, too many
rows, junk) get a clear answer and never a half-made import or a 500."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook

from governance.models import AuditEvent
from publishing.models import ImportBatch, ImportStatus, Post, PostStatus, Variant
from publishing.services.bulk_import import (
    MAX_ROWS,
    ImportReport,
    import_batch_run,
    import_read,
    import_start,
    problems_csv,
)
from publishing.tests.fixtures import make_image

pytestmark = pytest.mark.django_db

HELSINKI = ZoneInfo("Europe/Helsinki")


def future(days: int = 10, hour: int = 9) -> datetime:
    return (timezone.now().astimezone(HELSINKI) + timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


def csv_bytes(rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    lines = [
        delimiter.join(f'"{cell}"' if delimiter in cell or '"' in cell else cell for cell in row)
        for row in rows
    ]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def upload(client, content: bytes, name: str = "posts.csv"):
    return client.post(
        "/publishing/import/", {"file": SimpleUploadedFile(name, content, "text/csv")}
    )


def test_a_finnish_and_swedish_post_from_a_semicolon_csv_with_a_bom(client, team, login):
    org = team.alice.organization
    org.time_zone = "Europe/Helsinki"
    org.save()
    at = future()
    fi_date = at.strftime("%d.%m.%Y %H.%M")
    content = b"\xef\xbb\xbf" + csv_bytes(
        [
            ["post", "account", "language", "text", "time", "campaign"],
            ["1", "@city-news", "fi", "Kirjasto on auki jouluna.", fi_date, "Joulu"],
            ["1", "city-news", "sv", "Biblioteket är öppet på juldagen.", fi_date, "Joulu"],
        ],
        delimiter=";",
    )
    login(client, team.alice.user)
    answer = upload(client, content)
    assert answer.status_code == 302
    preview = client.get(answer["Location"]).content.decode()
    assert "2 rows" in preview and "2 ready" in preview and "0 with problems" in preview
    assert "Biblioteket är öppet på juldagen." in preview
    batch = ImportBatch.objects.get()
    done = client.post(
        f"/publishing/import/{batch.pk}/start/",
        {"submit_for_review": "0", "only_valid_rows": "0"},
        follow=True,
    ).content.decode()
    assert "1 post was made" in done
    post = Post.objects.get(organization=org)
    assert post.status == PostStatus.DRAFT
    assert post.scheduled_at == at
    assert post.campaign is not None and post.campaign.name == "Joulu"
    assert sorted(post.variants.values_list("language", "text")) == [
        ("fi", "Kirjasto on auki jouluna."),
        ("sv", "Biblioteket är öppet på juldagen."),
    ]
    assert AuditEvent.objects.filter(action="import.created").count() == 1


def test_the_preview_names_every_problem_and_all_or_nothing_makes_nothing(
    client, team, login, media_root
):
    image = make_image(team.alice)  # no alt text yet
    rules = (
        team.alice.organization.publishing_settings
        if hasattr(team.alice.organization, "publishing_settings")
        else None
    )
    at = future().strftime("%Y-%m-%d %H:%M")
    content = csv_bytes(
        [
            ["account", "language", "text", "time", "image"],
            ["city-news", "fi", "Hyvä rivi.", at, ""],
            ["nobody", "fi", "Tuntematon tili.", at, ""],
            ["city-news", "fi", "x" * 501, at, ""],
            ["city-news", "fi", "Menneisyydessä.", "2020-01-01 09:00", ""],
            ["city-news", "fi", "Outo päivä.", "ensi tiistaina", ""],
            ["city-news", "fi", "Vain päivä.", "20.12.2030", ""],
            ["city-news", "de", "Deutsch.", at, ""],
            ["city-news", "fi", "Kuva ilman kuvausta.", at, image.original_name],
            ["city-news", "fi", "Kuvaa ei ole.", at, "missing.png"],
        ]
    )
    del rules
    login(client, team.alice.user)
    page = client.get(upload(client, content)["Location"]).content.decode()
    assert "9 rows" in page and "1 ready" in page and "8 with problems" in page
    for expected in (
        "No account “nobody” that you may post to.",
        "is in the past",
        "“ensi tiistaina” is not a date and time we can read.",
        "“20.12.2030” has a date but no time of day.",
        "“de” is not a language we publish in",
        "has no alt text in this language",
        "No image “missing.png” in the media library.",
    ):
        assert expected in page.replace("&#x27;", "'").replace("&quot;", '"'), expected
    # The text too long for the network is named as the network counts it.
    batch = ImportBatch.objects.get()
    report = ImportReport.from_json(batch.report)
    assert report.rows[2].problems and "500" in " ".join(report.rows[2].problems)

    # All or nothing: nothing is made, and the page says why.
    answer = client.post(
        f"/publishing/import/{batch.pk}/start/",
        {"submit_for_review": "0", "only_valid_rows": "0"},
        follow=True,
    ).content.decode()
    assert "8 rows have problems" in answer
    assert not Post.objects.exists()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.CHECKED

    # Only the rows without problems: the good one is made, eight skipped.
    answer = client.post(
        f"/publishing/import/{batch.pk}/start/",
        {"submit_for_review": "1", "only_valid_rows": "1"},
        follow=True,
    ).content.decode()
    assert "1 post was made" in answer and "8 rows with problems were skipped" in answer
    post = Post.objects.get()
    assert post.status == PostStatus.IN_REVIEW
    # A second click does not import it twice.
    client.post(
        f"/publishing/import/{batch.pk}/start/", {"submit_for_review": "1", "only_valid_rows": "1"}
    )
    assert Post.objects.count() == 1


def test_alt_text_from_the_sheet_describes_the_library_image(client, team, login, media_root):
    image = make_image(team.alice)
    at = future().strftime("%Y-%m-%d %H:%M")
    content = csv_bytes(
        [
            ["account", "language", "text", "time", "image", "alt_text"],
            ["city-news", "fi", "Kuva mukana.", at, "photo.png", "Punainen neliö."],
        ]
    )
    login(client, team.alice.user)
    batch_page = upload(client, content)["Location"]
    assert "1 ready" in client.get(batch_page).content.decode()
    batch = ImportBatch.objects.get()
    client.post(
        f"/publishing/import/{batch.pk}/start/", {"submit_for_review": "0", "only_valid_rows": "0"}
    )
    image.refresh_from_db()
    assert image.alt_text_for("fi") == "Punainen neliö."
    variant = Variant.objects.get()
    assert [slot.asset_id for slot in variant.media.all()] == [image.pk]


def test_windows_1252_is_read_and_said(team):
    at = future().strftime("%Y-%m-%d %H:%M")
    content = csv_bytes(
        [
            ["account", "language", "text", "time"],
            ["city-news", "sv", "Välkommen till öppet hus.", at],
        ],
        encoding="cp1252",
    )
    report = import_read(membership=team.alice, file_name="posts.csv", content=content)
    assert report.rows[0].text == "Välkommen till öppet hus."
    assert "Windows-1252" in report.file_notes[0]


def test_a_formula_is_only_text_and_the_problems_file_neutralises_it(team):
    at = future().strftime("%Y-%m-%d %H:%M")
    content = csv_bytes(
        [
            ["account", "language", "text", "time"],
            ['=HYPERLINK("http://evil.example","x")', "fi", "@SUM(1+1)", at],
        ]
    )
    report = import_read(membership=team.alice, file_name="posts.csv", content=content)
    assert report.rows[0].account.startswith("=HYPERLINK")
    exported = problems_csv(report)
    assert "'=HYPERLINK" in exported and "'@SUM(1+1)" in exported
    assert "\n=" not in exported and ",=" not in exported


def test_an_excel_sheet_with_real_dates(team):
    at = future(days=12, hour=14).replace(tzinfo=None)
    book = Workbook()
    sheet = book.active
    sheet.append(["Account", "Language", "Text", "Time", "Campaign"])
    sheet.append(["city-news", "fi", "Valtuusto kokoontuu.", at, "Valtuusto"])
    sheet.append(["city-news", "sv", "=1+1", at, None])
    buffer = io.BytesIO()
    book.save(buffer)
    report = import_read(membership=team.alice, file_name="plan.xlsx", content=buffer.getvalue())
    assert report.rows[0].problems == []
    assert report.rows[0].when() == at.replace(tzinfo=ZoneInfo(team.alice.organization.time_zone))
    assert report.rows[0].new_campaign is True
    # A formula is never run by us: with no value saved by Excel, the cell is empty.
    assert report.rows[1].text == ""
    assert report.rows[1].problems == ["No text."]


def test_a_time_skipped_by_the_clocks_going_forward_is_a_problem(team):
    org = team.alice.organization
    org.time_zone = "Europe/Helsinki"
    org.save()
    content = csv_bytes(
        [
            ["account", "language", "text", "time"],
            ["city-news", "fi", "Kesäaika.", "2030-03-31 03:30"],
        ]
    )
    report = import_read(membership=team.alice, file_name="posts.csv", content=content)
    assert "does not exist in Europe/Helsinki" in report.rows[0].problems[0]


def test_rows_of_one_post_need_one_time_and_distinct_languages(team):
    a, b = future().strftime("%Y-%m-%d %H:%M"), future(days=11).strftime("%Y-%m-%d %H:%M")
    content = csv_bytes(
        [
            ["post", "account", "language", "text", "time"],
            ["x", "city-news", "fi", "Yksi.", a],
            ["x", "city-news", "sv", "Två.", b],
            ["y", "city-news", "fi", "Kolme.", a],
            ["y", "city-news", "fi", "Neljä.", a],
        ]
    )
    report = import_read(membership=team.alice, file_name="posts.csv", content=content)
    assert "different times" in report.rows[0].problems[0]
    assert report.rows[2].problems == []
    assert "already has a fi text" in report.rows[3].problems[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The submitted file is empty."),
        (b"\x00\x01\x02binary\x00", "binary data"),
        (b"account,text\ncity-news,hello\n", "missing: language, time"),
        (b"PK\x03\x04 not really a zip", "not a readable Excel workbook"),
    ],
)
def test_bad_files_get_a_clear_error_and_no_batch(client, team, login, content, message):
    login(client, team.alice.user)
    answer = upload(client, content)
    assert answer.status_code == 400
    assert message in answer.content.decode()
    assert not ImportBatch.objects.exists()


def test_more_than_the_row_limit_is_refused(team):
    at = future().strftime("%Y-%m-%d %H:%M")
    rows = [["account", "language", "text", "time"]] + [
        ["city-news", "fi", f"Rivi {n}.", at] for n in range(MAX_ROWS + 1)
    ]
    with pytest.raises(Exception, match="more than 10000 rows"):
        import_read(membership=team.alice, file_name="big.csv", content=csv_bytes(rows))


def test_a_large_file_goes_to_a_worker_and_the_page_shows_progress(client, team, login):
    at = future().strftime("%Y-%m-%d %H:%M")
    rows = [["account", "language", "text", "time"]] + [
        ["city-news", "fi", f"Tiedote {n}.", at] for n in range(150)
    ]
    login(client, team.alice.user)
    upload(client, csv_bytes(rows))
    batch = ImportBatch.objects.get()
    client.post(
        f"/publishing/import/{batch.pk}/start/", {"submit_for_review": "0", "only_valid_rows": "0"}
    )
    batch.refresh_from_db()
    assert batch.status == ImportStatus.IMPORTING
    page = client.get(f"/publishing/import/{batch.pk}/").content.decode()
    assert '<progress id="import-progress-bar"' in page
    # The worker's task (run here): every post made in one go.
    import_batch_run(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == ImportStatus.IMPORTED and batch.imported_posts == 150
    assert Post.objects.count() == 150
    assert client.get(f"/publishing/import/{batch.pk}/progress/")["HX-Redirect"].endswith(
        f"/publishing/import/{batch.pk}/"
    )


def test_a_failed_import_leaves_nothing_and_says_why(team):
    at = future().strftime("%Y-%m-%d %H:%M")
    content = csv_bytes([["account", "language", "text", "time"], ["city-news", "fi", "Yksi.", at]])
    report = import_read(membership=team.alice, file_name="posts.csv", content=content)
    from publishing.services.bulk_import import import_batch_save

    batch = import_batch_save(membership=team.alice, report=report)
    # The account is removed between the check and the import.
    team.account.delete()
    import_start(membership=team.alice, batch=batch, submit=False, only_valid=False, inline=True)
    batch.refresh_from_db()
    assert batch.status == ImportStatus.FAILED
    assert "no longer post to city-news" in batch.failure
    assert not Post.objects.exists()


def test_another_organizations_import_is_a_404_and_a_reviewer_cannot_import(client, team, login):
    at = future().strftime("%Y-%m-%d %H:%M")
    content = csv_bytes([["account", "language", "text", "time"], ["agency", "fi", "Yksi.", at]])
    report = import_read(membership=team.charlie, file_name="theirs.csv", content=content)
    from publishing.services.bulk_import import import_batch_save

    theirs = import_batch_save(membership=team.charlie, report=report)
    login(client, team.alice.user)
    for path in ("", "start/", "progress/", "problems.csv"):
        method = client.post if path == "start/" else client.get
        assert method(f"/publishing/import/{theirs.pk}/{path}").status_code == 404
    login(client, team.rita.user)
    assert client.get("/publishing/import/").status_code == 403


def test_the_template_has_the_columns_and_an_example(client, team, login):
    login(client, team.alice.user)
    body = client.get("/publishing/import/template.csv").content.decode("utf-8-sig")
    assert body.splitlines()[0] == "post,account,language,text,time,image,alt_text,campaign"
    assert "Biblioteket" in body
    report = import_read(
        membership=team.alice, file_name="template.csv", content=body.encode("utf-8")
    )
    assert [row.problems for row in report.rows] == [[], []]


def test_posts_made_in_bulk_are_audited_like_one_by_one_and_the_chain_holds(team, monkeypatch):
    """The import makes its posts a chunk at a time with one audit append per chunk: each
    post still has its "post.created" and one "post.edited" per variant (its version up
    by one each), in order, and the organization's audit chain verifies."""
    from governance.services.audit import audit_verify_chain
    from publishing.services import bulk_import
    from publishing.services.bulk_import import import_batch_save

    monkeypatch.setattr(bulk_import, "CREATE_CHUNK", 2)  # three chunks for five posts
    at = future()
    rows = [["post", "account", "language", "text", "time", "campaign"]]
    for n in range(5):
        when = (at + timedelta(hours=n)).strftime("%Y-%m-%d %H:%M")
        rows.append([str(n), "city-news", "fi", f"Tiedote {n}.", when, "Syksy"])
        rows.append([str(n), "city-news", "sv", f"Meddelande {n}.", when, "Syksy"])
    report = import_read(membership=team.alice, file_name="posts.csv", content=csv_bytes(rows))
    batch = import_batch_save(membership=team.alice, report=report)
    import_start(membership=team.alice, batch=batch, submit=False, only_valid=False, inline=True)

    posts = list(Post.objects.order_by("pk"))
    assert [post.title for post in posts] == [f"Tiedote {n}." for n in range(5)]
    assert {post.version for post in posts} == {3}
    assert {post.campaign.name for post in posts if post.campaign} == {"Syksy"}
    assert [sorted(post.variants.values_list("language", "text")) for post in posts[:1]] == [
        [("fi", "Tiedote 0."), ("sv", "Meddelande 0.")]
    ]
    first = posts[0]
    entries = list(
        AuditEvent.objects.filter(target_type="publishing.post", target_id=str(first.pk))
        .order_by("seq")
        .values_list("action", "new_values")
    )
    variants = {v.language: v.pk for v in first.variants.all()}
    assert first.scheduled_at is not None
    assert entries == [
        (
            "post.created",
            {
                "title": "Tiedote 0.",
                "status": "draft",
                "scheduled_at": first.scheduled_at.isoformat(),
            },
        ),
        (
            "post.edited",
            {
                "version": 2,
                "variant": variants["fi"],
                "channel_account": team.account.pk,
                "language": "fi",
                "thread_length": 1,
                "images": 0,
            },
        ),
        (
            "post.edited",
            {
                "version": 3,
                "variant": variants["sv"],
                "channel_account": team.account.pk,
                "language": "sv",
                "thread_length": 1,
                "images": 0,
            },
        ),
    ]
    assert AuditEvent.objects.filter(action="post.created").count() == 5
    assert audit_verify_chain().ok


@pytest.mark.parametrize(
    "header",
    [
        ["unggahan", "akun", "bahasa", "teks", "waktu"],  # Indonesian
        ["Gönderi", "Hesap", "Dil", "Metin", "Zaman"],  # Turkish
    ],
)
def test_the_columns_may_be_named_in_indonesian_or_turkish(team, header):
    at = future().strftime("%Y-%m-%d %H:%M")
    content = csv_bytes([header, ["1", "city-news", "fi", "Kirjasto aukeaa.", at]])
    report = import_read(membership=team.alice, file_name="posts.csv", content=content)
    row = report.rows[0]
    assert (row.post_key, row.account, row.language, row.text) == (
        "1",
        "city-news",
        "fi",
        "Kirjasto aukeaa.",
    )
    assert not row.problems
    assert row.at is not None
