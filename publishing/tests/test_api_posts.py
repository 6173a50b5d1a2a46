"""Posts through the API: the same access layer and services as the pages, JSON errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.services.tokens import api_token_create
from publishing.models import MediaAsset, Post, PostStatus
from publishing.services.media import media_alt_text_set
from publishing.tests.fixtures import approved, draft, make_image, png_bytes, scheduled

pytestmark = pytest.mark.django_db

POSTS = "/api/v1/posts/"


def variant(account, language="fi", text="Kirjasto aukeaa klo 9.", **extra):
    return {"channel_account": account.pk, "language": language, "text": text, **extra}


def create(client, *variants, **extra):
    return client.post(
        POSTS,
        {"title": "Library", "variants": list(variants), **extra},
        content_type="application/json",
    )


def test_create_a_bilingual_post(client, personas, login):
    login(client, personas.alice)
    response = create(
        client,
        variant(personas.bob_account, "fi", "Kirjasto aukeaa."),
        variant(personas.bob_account, "sv", "Biblioteket öppnar.", thread=["Välkommen!"]),
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "draft"
    by_language = {v["language"]: v for v in body["variants"]}
    assert by_language["sv"]["thread"] == ["Välkommen!"]
    assert by_language["fi"]["counts"] == [{"length": 16, "limit": 500}]
    assert by_language["fi"]["problems"] == []
    assert Post.objects.get().variants.count() == 2


def test_too_long_text_shows_as_a_problem_and_submit_is_refused(client, personas, login):
    login(client, personas.alice)
    body = create(client, variant(personas.bob_account, text="x" * 501)).json()
    assert body["variants"][0]["problems"] == ["The text is 501 characters long; the limit is 500."]
    response = client.post(f"{POSTS}{body['id']}/submit/")
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "invalid"
    assert error["errors"]["non_field_errors"] == [
        "city-news (fi): The text is 501 characters long; the limit is 500."
    ]


def test_bob_cannot_target_an_account_he_may_not_use(client, personas, login):
    login(client, personas.bob)
    response = create(client, variant(personas.other_account))
    assert response.status_code == 400
    assert "You cannot write posts for account" in str(response.json()["errors"])
    assert Post.objects.count() == 0


def test_another_organizations_post_is_404(client, personas, login, team):
    post = draft(team.alice, team.account)
    login(client, personas.charlie)
    assert client.get(f"{POSTS}{post.pk}/").status_code == 404
    assert client.post(f"{POSTS}{post.pk}/approve/").status_code == 404
    response = client.patch(f"{POSTS}{post.pk}/", {"title": "x"}, content_type="application/json")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_an_auditor_gets_403_for_writing(client, personas, login, team):
    post = draft(team.alice, team.account)
    login(client, personas.carol)
    assert client.get(f"{POSTS}{post.pk}/").status_code == 200
    response = client.post(f"{POSTS}{post.pk}/cancel/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_edit_changes_text_and_removes_a_missing_variant(client, personas, login, team):
    post = draft(team.alice, team.account, "Hei", language="fi")
    login(client, personas.alice)
    response = client.patch(
        f"{POSTS}{post.pk}/",
        {"title": "Renamed", "variants": [variant(team.account, "sv", "Hej")]},
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Renamed"
    assert [(v["language"], v["text"]) for v in body["variants"]] == [("sv", "Hej")]


def test_edit_after_approval_goes_back_to_review(client, personas, login, team):
    post = approved(team)
    login(client, personas.alice)
    body = client.patch(
        f"{POSTS}{post.pk}/",
        {"variants": [variant(team.account, "fi", "Muutettu teksti.")]},
        content_type="application/json",
    ).json()
    assert body["status"] == "in_review"
    assert body["approval"]["stages"][0]["waiting_for"]


def test_review_flow_submit_approve_schedule(client, personas, login, team):
    login(client, team.eddie.user)
    body = create(client, variant(team.account)).json()
    pk = body["id"]
    assert client.post(f"{POSTS}{pk}/submit/").json()["status"] == "in_review"

    login(client, team.rita.user)
    approved_body = client.post(
        f"{POSTS}{pk}/approve/", {"comment": "OK"}, content_type="application/json"
    ).json()
    assert approved_body["status"] == "approved"

    login(client, team.eddie.user)
    response = client.post(
        f"{POSTS}{pk}/schedule/",
        {"at": "2099-05-01T09:00:00+03:00"},
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "scheduled"
    at = datetime.fromisoformat(body["scheduled_at"])
    assert at == datetime(2099, 5, 1, 6, 0, tzinfo=UTC)
    assert [(j["status"], j["handle"]) for j in body["jobs"]] == [("pending", "city-news")]


def test_self_approval_is_403_with_the_reason(client, personas, login, team):
    post = draft(team.alice, team.account)
    login(client, personas.alice)
    client.post(f"{POSTS}{post.pk}/submit/")
    response = client.post(f"{POSTS}{post.pk}/approve/")
    assert response.status_code == 403
    assert response.json()["detail"] == "You cannot approve your own post."


def test_request_changes_needs_a_comment(client, login, team):
    post = draft(team.eddie, team.account)
    login(client, team.eddie.user)
    client.post(f"{POSTS}{post.pk}/submit/")
    login(client, team.rita.user)
    response = client.post(f"{POSTS}{post.pk}/request-changes/")
    assert response.status_code == 400
    assert response.json()["errors"] == {"comment": ["Say what should change."]}
    response = client.post(
        f"{POSTS}{post.pk}/request-changes/",
        {"comment": "Add the address."},
        content_type="application/json",
    )
    assert response.json()["status"] == "changes_requested"


def test_schedule_needs_an_approved_post_and_a_time_zone(client, personas, login, team):
    post = draft(team.alice, team.account)
    login(client, personas.alice)
    response = client.post(
        f"{POSTS}{post.pk}/schedule/",
        {"at": "2099-05-01T09:00:00Z"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "cannot be scheduled" in str(response.json()["errors"])


def test_alt_text_rule_refuses_sending_for_review(client, personas, login, team, media_root):
    image = make_image(team.eddie)
    login(client, team.eddie.user)
    body = create(client, variant(team.account, media=[{"asset": image.pk}])).json()
    response = client.post(f"{POSTS}{body['id']}/submit/")
    assert response.status_code == 400
    assert response.json()["errors"]["non_field_errors"] == [
        "city-news (fi): Image 1 (photo.png) has no alt text in Finnish."
    ]
    assert Post.objects.get(pk=body["id"]).status == PostStatus.DRAFT


def test_alt_text_rule_refuses_scheduling(client, personas, login, team, media_root):
    image = make_image(team.eddie, alt={"fi": "Ovi"})
    login(client, team.eddie.user)
    body = create(client, variant(team.account, media=[{"asset": image.pk}])).json()
    client.post(f"{POSTS}{body['id']}/submit/")
    media_alt_text_set(asset=image, membership=team.eddie, language="fi", text="")
    login(client, team.rita.user)
    client.post(f"{POSTS}{body['id']}/approve/")
    login(client, team.eddie.user)
    response = client.post(
        f"{POSTS}{body['id']}/schedule/",
        {"at": "2099-05-01T09:00:00Z"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["non_field_errors"] == [
        "city-news (fi): Image 1 (photo.png) has no alt text in Finnish."
    ]


def test_cancel(client, personas, login, team):
    post = scheduled(team)
    login(client, personas.alice)
    response = client.post(
        f"{POSTS}{post.pk}/cancel/", {"reason": "Moved"}, content_type="application/json"
    )
    assert response.json()["status"] == "cancelled"


@time_machine.travel(datetime(2026, 3, 2, 8, 0, tzinfo=UTC), tick=False)
def test_list_by_date_range(client, personas, login, team):
    inside = scheduled(team, at=datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    scheduled(team, at=datetime(2026, 4, 10, 9, 0, tzinfo=UTC))
    draft(team.alice, team.account)
    login(client, personas.alice)
    body = client.get(
        POSTS, {"start": "2026-03-01T00:00:00Z", "end": "2026-04-01T00:00:00Z"}
    ).json()
    assert [p["id"] for p in body["results"]] == [inside.pk]
    assert body["results"][0]["targets"] == [
        {"channel_account": team.account.pk, "handle": "city-news", "language": "fi"}
    ]
    assert client.get(POSTS).json()["count"] == 3
    bad = client.get(POSTS, {"start": "2026-03-01T00:00:00Z"})
    assert bad.status_code == 400


def test_list_hides_posts_bob_cannot_see(client, personas, login, team):
    draft(team.alice, team.other_account)
    mine = draft(team.bob, team.account)
    login(client, personas.bob)
    assert [p["id"] for p in client.get(POSTS).json()["results"]] == [mine.pk]


def test_a_token_creates_posts(client, personas):
    _, raw = api_token_create(user=personas.bob, organization=personas.org, name="script")
    response = client.post(
        POSTS,
        {"variants": [variant(personas.bob_account)]},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 201


def test_upload_and_list_media(client, personas, login, media_root):
    login(client, personas.bob)
    upload = SimpleUploadedFile("door.png", png_bytes(), content_type="image/png")
    response = client.post("/api/v1/media/", {"file": upload, "alt_fi": "Ovi"})
    assert response.status_code == 201
    assert response.json()["alt_texts"] == {"fi": "Ovi"}
    listed = client.get("/api/v1/media/").json()
    assert [a["id"] for a in listed["results"]] == [MediaAsset.objects.get().pk]


def test_upload_of_a_bad_file_is_a_400_on_the_file(client, personas, login, media_root):
    login(client, personas.bob)
    upload = SimpleUploadedFile("x.png", b"nope", content_type="image/png")
    response = client.post("/api/v1/media/", {"file": upload})
    assert response.status_code == 400
    assert "not an image we can read" in response.json()["errors"]["file"][0]


def test_list_takes_the_same_queries_for_few_or_many_posts(client, personas, login, team):
    login(client, personas.alice)
    for _ in range(2):
        draft(team.alice, team.account)
    client.get(POSTS)  # the session's first request fills per-session and per-org caches
    with CaptureQueriesContext(connection) as few:
        client.get(POSTS)
    for _ in range(8):
        draft(team.alice, team.account)
    with CaptureQueriesContext(connection) as many:
        client.get(POSTS)
    assert len(many.captured_queries) == len(few.captured_queries)
