"""YouTube's and TikTok's own choices in the composer and the API: offered from what the
network says (TikTok's creator info), checked when saved and submitted, audited, and
passed to the network as ``PublishRequest.options`` when the post is published."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files import File
from django.utils import timezone

from accounts.connectors.registry import get_connector
from accounts.models import ChannelAccount, NetworkApp
from accounts.tests.helpers import channel_account
from governance.models import AuditEvent
from publishing.models import Post, PostStatus, Variant, VariantMedia
from publishing.network_options import clean_options
from publishing.services.video import media_video_upload
from publishing.tests.fixtures import media_root  # noqa: F401 - a fixture
from publishing.tests.test_views_compose import COMPOSE, compose_data
from publishing.tests.video_files import videos  # noqa: F401 - a fixture
from publishing.validation import variant_request, variants_with_content
from tests.tiktok_server.server import TikTokTestServer
from tests.youtube_server.helpers import connect
from tests.youtube_server.server import YouTubeTestServer

pytestmark = pytest.mark.django_db

POSTS = "/api/v1/posts/"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def tiktok_account(personas, tiktok_server: TikTokTestServer) -> ChannelAccount:
    NetworkApp.objects.create(
        organization=personas.org,
        network="tiktok",
        client_id=tiktok_server.client_key,
        client_secret=tiktok_server.client_secret,
        options={"audited": True},
    )
    access, refresh = tiktok_server.issue_token()
    return channel_account(
        organization=personas.org,
        network="tiktok",
        handle="helsinki",
        remote_id=tiktok_server.creator.open_id,
        server_url=tiktok_server.base_url,
        credentials={"access_token": access, "refresh_token": refresh},
        credentials_expire_at=timezone.now() + timedelta(hours=20),
    )


@pytest.fixture
def youtube_account(personas, youtube_server: YouTubeTestServer) -> ChannelAccount:
    return connect(personas, youtube_server, get_connector("youtube"))


def _select(page: str, name: str) -> str:
    found = re.search(rf'<select name="{re.escape(name)}".*?</select>', page, re.S)
    assert found, name
    return found.group(0)


def _input(page: str, name: str) -> str:
    found = re.search(rf'<input type="checkbox" name="{re.escape(name)}"[^>]*>', page)
    assert found, name
    return found.group(0)


def test_tiktok_privacy_levels_come_from_the_creator_info_and_none_is_chosen(
    client, personas, login, tiktok_account, tiktok_server
):
    tiktok_server.creator.privacy_levels = ["FOLLOWER_OF_CREATOR", "SELF_ONLY"]
    tiktok_server.creator.duet_disabled = True
    login(client, personas.alice)
    page = html.unescape(client.get(f"{COMPOSE}?account={tiktok_account.pk}").content.decode())
    prefix = f"v-{tiktok_account.pk}-fi"
    select = _select(page, f"{prefix}-tt_privacy")
    assert re.findall(r"<option[^>]*>([^<]*)</option>", select) == [
        "Choose…",
        "Followers",
        "Only the creator (private)",
    ]
    assert "selected" not in select.replace('<option value="" selected>', "")
    assert "disabled" in _input(page, f"{prefix}-tt_duet")
    assert "The creator has turned off duets in TikTok's settings." in page
    assert "disabled" not in _input(page, f"{prefix}-tt_comment")
    assert "By posting, you agree to TikTok's Music Usage Confirmation." in page
    # Asked once, then kept for a while.
    client.get(f"{COMPOSE}?account={tiktok_account.pk}")
    assert len(tiktok_server.requests_to("POST", "/v2/post/publish/creator_info/")) == 1


def test_when_tiktok_cannot_be_asked_the_standard_levels_are_offered_with_a_message(
    client, personas, login, tiktok_account, tiktok_server
):
    tiktok_server.fail_next("/v2/post/publish/creator_info/", 500, "internal_error")
    login(client, personas.alice)
    page = html.unescape(client.get(f"{COMPOSE}?account={tiktok_account.pk}").content.decode())
    assert "TikTok did not tell which privacy levels this account may use" in page
    select = _select(page, f"v-{tiktok_account.pk}-fi-tt_privacy")
    assert "Everyone" in select and "Followers" in select and "Friends" in select


def test_submitting_without_the_required_choices_shows_them_beside_the_fields(
    client, personas, login, tiktok_account, youtube_account
):
    login(client, personas.alice)
    data = compose_data(
        {(tiktok_account, "fi"): "Uimahalli aukeaa.", (youtube_account, "fi"): "Uimahalli."},
        action="submit",
    )
    response = client.post(COMPOSE, data)
    page = html.unescape(response.content.decode())
    assert not Post.objects.filter(status=PostStatus.IN_REVIEW).exists()
    for field, message in (
        (f"v-{tiktok_account.pk}-fi-tt_privacy", "Choose who can see the video on TikTok."),
        (f"v-{youtube_account.pk}-fi-yt_title", "Give the video a title."),
        (f"v-{youtube_account.pk}-fi-yt_kids", "Say whether the video is made for kids."),
        (f"v-{youtube_account.pk}-fi-yt_privacy", "Choose who can watch the video on YouTube."),
    ):
        # The message is in the field's own error list (its id: the field's id + _error).
        assert re.search(
            rf'id="id_{re.escape(field)}_error"[^>]*>\s*<li>{re.escape(message)}</li>', page
        ), field
        # …and in the error summary, linked to the field.
        assert f'href="#id_{field}' in page


def test_youtube_title_and_tags_limits_are_refused_when_saved(
    client, personas, login, youtube_account
):
    login(client, personas.alice)
    prefix = f"v-{youtube_account.pk}-fi"
    for extra, message in (
        ({f"{prefix}-yt_title": "x" * 101}, "at most 100 characters (it has 101)"),
        ({f"{prefix}-yt_title": "Uusi <kirjasto>"}, "at most 100 characters and no < or >"),
        ({f"{prefix}-yt_tags": ", ".join(["kirjasto"] * 60)}, "YouTube takes at most 500"),
    ):
        data = compose_data({(youtube_account, "fi"): "Kuvaus"}, **extra)
        page = html.unescape(client.post(COMPOSE, data).content.decode())
        assert message in page
        assert not Variant.objects.exists()
    data = compose_data({(youtube_account, "fi"): "Kuvaus"}, **{f"{prefix}-yt_title": "x" * 100})
    assert client.post(COMPOSE, data).status_code == 302
    assert Variant.objects.get().network_options["title"] == "x" * 100


def _attach_video(personas: Any, variant: Variant, path: Path) -> None:
    asset = media_video_upload(
        membership=personas.membership(personas.alice),
        file=File(path.open("rb"), name=path.name),
        alt_texts={"fi": "Uimahalli"},
    )
    VariantMedia.objects.create(variant=variant, asset=asset)


def test_choices_made_in_the_composer_reach_tiktok_and_youtube(
    client,
    personas,
    login,
    tiktok_account,
    youtube_account,
    tiktok_server,
    youtube_server,
    media_root,  # noqa: F811
    videos,  # noqa: F811
):
    tiktok_server.creator.privacy_levels = ["PUBLIC_TO_EVERYONE", "FOLLOWER_OF_CREATOR"]
    login(client, personas.alice)
    tt = f"v-{tiktok_account.pk}-fi"
    yt = f"v-{youtube_account.pk}-fi"
    data = compose_data(
        {
            (tiktok_account, "fi"): "Uimahalli aukeaa maanantaina.",
            (youtube_account, "fi"): "Uimahalli aukeaa maanantaina klo 6.",
        },
        **{
            f"{tt}-tt_privacy": "FOLLOWER_OF_CREATOR",
            f"{tt}-tt_comment": "on",
            f"{yt}-yt_title": "Uimahalli aukeaa",
            f"{yt}-yt_privacy": "unlisted",
            f"{yt}-yt_category": "27",
            f"{yt}-yt_tags": "uimahalli, liikunta",
            f"{yt}-yt_kids": "no",
        },
    )
    assert client.post(COMPOSE, data).status_code == 302
    post = Post.objects.get()
    saved = {v.channel_account.network: v.network_options for v in post.variants.all()}
    assert saved["tiktok"] == {
        "privacy_level": "FOLLOWER_OF_CREATOR",
        "disable_comment": False,
        "disable_duet": True,
        "disable_stitch": True,
        "brand_organic_toggle": False,
        "brand_content_toggle": False,
    }
    assert saved["youtube"] == {
        "title": "Uimahalli aukeaa",
        "privacy_status": "unlisted",
        "category_id": "27",
        "tags": ["uimahalli", "liikunta"],
        "made_for_kids": False,
    }
    audited = [e.new_values for e in AuditEvent.objects.filter(action="post.edited")]
    assert any(entry.get("network_options") == saved["youtube"] for entry in audited)
    # The page shows the choices again.
    page = client.get(f"/publishing/posts/{post.pk}/edit/").content.decode()
    assert 'value="Uimahalli aukeaa"' in page
    assert '<option value="FOLLOWER_OF_CREATOR" selected>' in page
    # Published with the request the dispatcher builds (validation.variant_request).
    for variant in post.variants.all():
        _attach_video(personas, variant, videos["portrait"])
    for variant in variants_with_content(post):
        connector = get_connector(variant.channel_account.network)
        connector.publish(variant.channel_account, variant_request(variant, 0, idempotency_key="k"))
    [publish] = tiktok_server.published()
    assert publish.post_info["privacy_level"] == "FOLLOWER_OF_CREATOR"
    assert publish.post_info["disable_comment"] is False
    assert publish.post_info["disable_duet"] is True
    [video] = youtube_server.videos.values()
    assert video.snippet["title"] == "Uimahalli aukeaa"
    assert video.snippet["description"] == "Uimahalli aukeaa maanantaina klo 6."
    assert video.snippet["categoryId"] == "27"
    assert video.snippet["tags"] == ["uimahalli", "liikunta"]
    assert video.status["privacyStatus"] == "unlisted"
    assert video.status["selfDeclaredMadeForKids"] is False


def test_the_api_keeps_and_checks_the_choices(client, personas, login, youtube_account):
    login(client, personas.alice)
    options = {"title": "Kirjasto", "privacy_status": "private", "made_for_kids": False}
    body: dict[str, Any] = {
        "title": "Kirjasto",
        "variants": [
            {
                "channel_account": youtube_account.pk,
                "language": "fi",
                "text": "Kuvaus",
                "network_options": options,
            }
        ],
    }
    response = client.post(POSTS, body, content_type="application/json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["variants"][0]["network_options"] == options
    fetched = client.get(f"{POSTS}{created['id']}/").json()
    assert fetched["variants"][0]["network_options"] == options
    assert "Give the video a title." not in fetched["variants"][0]["problems"]
    body["variants"][0]["network_options"] = {"title": "<b>", "privacy_status": "everyone"}
    response = client.patch(f"{POSTS}{created['id']}/", body, content_type="application/json")
    assert response.status_code == 400
    errors = str(response.json()["errors"])
    assert "no < or >" in errors
    assert "private, unlisted or public" in errors
    assert Variant.objects.get().network_options == options
    # Another organization's post is not found.
    login(client, personas.charlie)
    assert client.get(f"{POSTS}{created['id']}/").status_code == 404
    response = client.patch(f"{POSTS}{created['id']}/", body, content_type="application/json")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("network", "raw", "key"),
    [
        ("youtube", {"privacy_status": ["public"]}, "privacy_status"),
        ("youtube", {"made_for_kids": "maybe"}, "made_for_kids"),
        (
            "youtube",
            {"privacy_status": "public", "publish_at": "2030-01-01T10:00:00Z"},
            "publish_at",
        ),
        (
            "youtube",
            {"privacy_status": "private", "publish_at": "2001-01-01T10:00:00Z"},
            "publish_at",
        ),
        ("youtube", {"privacy_status": "private", "publish_at": "2030-01-01T10:00"}, "publish_at"),
        ("youtube", {"privacy_status": "private", "publish_at": "next week"}, "publish_at"),
        ("youtube", {"tags": {"a": 1}}, "tags"),
        ("youtube", {"category_id": 10}, "category_id"),
        ("tiktok", {"privacy_level": {"x": 1}}, "privacy_level"),
        ("tiktok", {"disable_duet": "yes"}, "disable_duet"),
        ("tiktok", {"title": "x"}, "title"),
    ],
)
def test_bad_choices_are_refused_by_key(network, raw, key):
    with pytest.raises(ValidationError) as caught:
        clean_options(network, raw)
    assert key in caught.value.message_dict


def test_the_api_refuses_choices_that_are_not_an_object(client, personas, login, tiktok_account):
    login(client, personas.alice)
    for value in (["SELF_ONLY"], {"privacy_level": ["SELF_ONLY"]}):
        body = {
            "variants": [
                {
                    "channel_account": tiktok_account.pk,
                    "language": "fi",
                    "text": "Uimahalli",
                    "network_options": value,
                }
            ]
        }
        response = client.post(POSTS, body, content_type="application/json")
        assert response.status_code == 400
        assert "network_options" in str(response.json()["errors"])
    assert not Post.objects.exists()


def test_youtube_privacy_is_asked_with_no_answer_chosen_in_advance(
    client, personas, login, youtube_account
):
    login(client, personas.alice)
    page = html.unescape(client.get(f"{COMPOSE}?account={youtube_account.pk}").content.decode())
    select = _select(page, f"v-{youtube_account.pk}-fi-yt_privacy")
    assert '<option value="" selected>Choose…</option>' in select
    for label in ("Public", "Unlisted (anyone with the link)", "Private"):
        assert label in select
    assert "Private until a time I choose, then public" in select
    assert "selected" not in select.replace('<option value="" selected>', "")


@time_machine.travel(datetime(2026, 12, 7, 10, 0, tzinfo=UTC), tick=False)
def test_a_video_can_go_public_at_a_chosen_time_and_the_post_says_so(
    client,
    personas,
    login,
    youtube_account,
    youtube_server,
    media_root,  # noqa: F811
    videos,  # noqa: F811
):
    login(client, personas.alice)
    yt = f"v-{youtube_account.pk}-fi"
    base = {
        f"{yt}-yt_title": "Uimahalli aukeaa",
        f"{yt}-yt_kids": "no",
        f"{yt}-yt_privacy": "scheduled",
    }
    # Scheduled without a time: said beside the time field, nothing saved.
    data = compose_data({(youtube_account, "fi"): "Uimahalli."}, **base)
    page = html.unescape(client.post(COMPOSE, data).content.decode())
    assert "Choose when the video goes public." in page
    assert not Post.objects.exists()
    # A time already passed is refused.
    data = compose_data(
        {(youtube_account, "fi"): "Uimahalli."},
        **base,
        **{f"{yt}-yt_publish_at": "2026-12-01T09:00"},
    )
    page = html.unescape(client.post(COMPOSE, data).content.decode())
    assert "That time has already passed." in page
    assert not Post.objects.exists()
    # Typed in the person's time zone (Helsinki: UTC+2 in December), kept in UTC.
    data = compose_data(
        {(youtube_account, "fi"): "Uimahalli."},
        **base,
        **{f"{yt}-yt_publish_at": "2026-12-14T09:30"},
    )
    assert client.post(COMPOSE, data).status_code == 302
    variant = Variant.objects.get()
    assert variant.network_options["privacy_status"] == "private"
    assert variant.network_options["publish_at"] == "2026-12-14T07:30:00Z"
    edit = html.unescape(client.get(f"/publishing/posts/{variant.post_id}/edit/").content.decode())
    assert '<option value="scheduled" selected>' in edit
    assert 'value="2026-12-14T09:30"' in edit
    detail = html.unescape(client.get(f"/publishing/posts/{variant.post_id}/").content.decode())
    assert "Who can watch: Private until" in detail and "then public" in detail
    # The connector sends it private with publishAt, as YouTube requires.
    _attach_video(personas, variant, videos["portrait"])
    connector = get_connector("youtube")
    connector.publish(youtube_account, variant_request(variant, 0, idempotency_key="k"))
    [video] = youtube_server.videos.values()
    assert video.status["privacyStatus"] == "private"
    assert video.status["publishAt"] == "2026-12-14T07:30:00Z"


def test_a_post_s_page_says_who_can_watch_on_youtube(client, personas, login, youtube_account):
    login(client, personas.alice)
    yt = f"v-{youtube_account.pk}-fi"
    data = compose_data(
        {(youtube_account, "fi"): "Uimahalli."},
        **{f"{yt}-yt_title": "Uimahalli", f"{yt}-yt_privacy": "unlisted"},
    )
    assert client.post(COMPOSE, data).status_code == 302
    post = Post.objects.get()
    page = html.unescape(client.get(f"/publishing/posts/{post.pk}/").content.decode())
    assert "Who can watch: Unlisted (anyone with the link)" in page
    Variant.objects.update(network_options={"title": "Uimahalli"})
    page = html.unescape(client.get(f"/publishing/posts/{post.pk}/").content.decode())
    assert "Who can watch: not chosen yet" in page
