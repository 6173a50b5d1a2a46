"""The YouTube connector against the local YouTube Data API server: connecting a
channel (PKCE, offline access), a resumable upload that survives a lost chunk answer,
the thumbnail and captions, the quota running out (rate limited until Pacific
midnight), a lost final answer reconciled from the uploads playlist, and every request
checked against the YouTube Data API discovery document."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from accounts import http
from accounts.connectors.base import (
    CaptionTrack,
    MediaItem,
    PublishRequest,
    RateLimited,
    Rejected,
    RemoteRef,
    UnknownOutcome,
)
from accounts.connectors.registry import get_connector
from accounts.connectors.youtube import (
    CHUNK_UNIT,
    next_pacific_midnight,
    quota_usage,
)
from accounts.models import ChannelAccount, NetworkApp
from tests.youtube_server.helpers import assert_requests_are_documented, connect

VTT_FI = "WEBVTT\n\n00:00.000 --> 00:02.000\nTervetuloa kirjastoon\n"
VTT_SV = "WEBVTT\n\n00:00.000 --> 00:02.000\nVälkommen till biblioteket\n"
POSTER = b"\xff\xd8\xff\xe0" + b"jpeg" * 100


@pytest.fixture
def connector():
    from django.core.cache import cache

    cache.clear()
    return get_connector("youtube")


def video_file(tmp_path: Path, size: int) -> MediaItem:
    path = tmp_path / "kirjasto.mp4"
    path.write_bytes(bytes(i % 251 for i in range(size)))
    return MediaItem(
        content=b"",
        mime_type="video/mp4",
        kind="video",
        path=str(path),
        size_bytes=size,
        duration_ms=12_000,
        captions=(
            CaptionTrack(language="fi", vtt=VTT_FI, name="Suomi"),
            CaptionTrack(language="sv", vtt=VTT_SV, name="Svenska"),
        ),
        poster=POSTER,
    )


def request_for(
    video: MediaItem, text: str = "Uusi kirjasto avataan maanantaina."
) -> PublishRequest:
    return PublishRequest(
        text=text,
        media=[video],
        options={
            "title": "Kirjasto avautuu",
            "privacy_status": "unlisted",
            "category_id": "29",
            "tags": ["kirjasto", "Helsinki"],
            "made_for_kids": False,
            "default_language": "fi",
        },
    )


def test_a_channel_connects_with_offline_access_and_pkce(personas, youtube_server, connector):
    account = connect(personas, youtube_server, connector)
    assert account.network == "youtube"
    assert account.remote_id == youtube_server.channel_id
    assert account.handle == "@examplecity"
    assert account.display_name == "Example City"
    assert account.credentials["refresh_token"] in youtube_server.refresh_tokens
    [token_call] = youtube_server.requests_to("POST", "/token")
    assert b"code_verifier=" in token_call.body
    # The refresh token is stored encrypted, never as plain text in the row.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT credentials FROM accounts_channelaccount WHERE id = %s", [account.pk]
        )
        raw = str(cursor.fetchone()[0])
    assert account.credentials["refresh_token"] not in raw
    assert connector.fetch_account_metrics(account).followers == 4200
    assert assert_requests_are_documented(youtube_server) >= 2


def test_an_expired_sign_in_is_renewed_with_the_refresh_token(personas, youtube_server, connector):
    account = connect(personas, youtube_server, connector)
    account.credentials_expire_at = datetime.now(tz=UTC) - timedelta(minutes=1)
    account.save(update_fields=["credentials_expire_at"])
    old = account.credentials["access_token"]
    connector.check_health(account)
    account.refresh_from_db()
    assert account.credentials["access_token"] != old
    # Google keeps the refresh token: the stored one stays.
    assert account.credentials["refresh_token"] in youtube_server.refresh_tokens


def test_an_upload_resumes_after_a_lost_chunk_then_sets_thumbnail_and_captions(
    personas, youtube_server, connector, tmp_path, monkeypatch
):
    account = connect(personas, youtube_server, connector)
    monkeypatch.setattr(type(connector), "chunk_bytes", CHUNK_UNIT)
    size = CHUNK_UNIT * 2 + 1000
    video = video_file(tmp_path, size)
    real = http.http_request
    lost: list[str] = []

    def lose_second_chunk_answer(method, url, **kwargs):
        response = real(method, url, **kwargs)
        range_ = (kwargs.get("headers") or {}).get("Content-Range", "")
        if method == "PUT" and range_.startswith(f"bytes {CHUNK_UNIT}-") and not lost:
            lost.append(range_)
            raise http.ConnectionLost("connection reset", url=url)
        return response

    monkeypatch.setattr(http, "http_request", lose_second_chunk_answer)
    result = connector.publish(account, request_for(video))

    [uploaded] = youtube_server.videos.values()
    assert result.remote_id == uploaded.id
    assert result.url == f"https://www.youtube.com/watch?v={uploaded.id}"
    assert uploaded.content == Path(video.path).read_bytes()
    assert uploaded.snippet["title"] == "Kirjasto avautuu"
    assert uploaded.snippet["tags"] == ["kirjasto", "Helsinki"]
    assert uploaded.status == {"privacyStatus": "unlisted", "selfDeclaredMadeForKids": False}
    ranges = [
        r.headers["Content-Range"]
        for r in youtube_server.requests_to("PUT", "/upload/youtube/v3/videos")
    ]
    assert ranges == [
        f"bytes 0-{CHUNK_UNIT - 1}/{size}",
        f"bytes {CHUNK_UNIT}-{2 * CHUNK_UNIT - 1}/{size}",
        f"bytes */{size}",  # where does it stand? 308 Range: bytes=0-(2 chunks)
        f"bytes {2 * CHUNK_UNIT}-{size - 1}/{size}",
    ]
    assert uploaded.thumbnail == POSTER
    assert [(c["language"], c["name"], c["vtt"]) for c in uploaded.captions] == [
        ("fi", "Suomi", VTT_FI),
        ("sv", "Svenska", VTT_SV),
    ]
    # Units: channels.list 1 (connect) + thumbnail 50 + 2 captions 800; one upload.
    usage = quota_usage(personas.org.pk)
    assert (usage.units, usage.uploads) == (851, 1)
    assert youtube_server.units_used == 851
    assert assert_requests_are_documented(youtube_server) >= 8


def test_a_lost_final_answer_is_reconciled_from_the_uploads_playlist(
    personas, youtube_server, connector, tmp_path, monkeypatch
):
    account = connect(personas, youtube_server, connector)
    video = video_file(tmp_path, 5000)
    request = request_for(video, text="Äänestyspaikat ovat auki klo 9-20.")
    real = http.http_request

    def lose_every_put_answer(method, url, **kwargs):
        response = real(method, url, **kwargs)
        if method == "PUT":
            raise http.ConnectionLost("connection reset", url=url)
        return response

    monkeypatch.setattr(http, "http_request", lose_every_put_answer)
    started = datetime.now(tz=UTC)
    with pytest.raises(UnknownOutcome):
        connector.publish(account, request)
    monkeypatch.setattr(http, "http_request", real)
    [uploaded] = youtube_server.videos.values()

    recent = connector.lookup_recent(account, since=started - timedelta(minutes=2))
    assert recent.complete
    [found] = [p for p in recent if p.text == connector.comparable_text(request.text)]
    assert found.ref.remote_id == uploaded.id
    assert found.ref.url == f"https://www.youtube.com/watch?v={uploaded.id}"
    # Found, so nothing is uploaded twice.
    assert len(youtube_server.requests_to("POST", "/upload/youtube/v3/videos")) == 1
    assert assert_requests_are_documented(youtube_server) >= 4


def test_a_spent_quota_is_rate_limited_until_pacific_midnight(
    personas, youtube_server, connector, tmp_path
):
    account = connect(personas, youtube_server, connector)
    youtube_server.units_used = youtube_server.daily_units
    with pytest.raises(RateLimited) as caught:
        connector.lookup_recent(account)
    error = caught.value
    assert error.status_code == 403 and "quotaExceeded" in error.detail
    wait = (next_pacific_midnight() - datetime.now(tz=UTC)).total_seconds()
    assert error.retry_after is not None and abs(error.retry_after - wait) < 5
    assert "quota" in error.message
    reset = next_pacific_midnight().astimezone(
        __import__("zoneinfo").ZoneInfo("America/Los_Angeles")
    )
    assert (reset.hour, reset.minute) == (0, 0)


def test_a_refused_title_is_rejected_in_words(personas, youtube_server, connector, tmp_path):
    account = connect(personas, youtube_server, connector)
    video = video_file(tmp_path, 1000)
    bad = PublishRequest(text="x", media=[video], options={"title": "a <b> title"})
    assert "A YouTube title has at most 100 characters and no < or >." in connector.validate(bad)
    with pytest.raises(Rejected):
        connector.publish(account, bad)
    assert not youtube_server.requests_to("POST", "/upload/youtube/v3/videos")
    scheduled = PublishRequest(
        text="x",
        media=[video],
        options={"title": "t", "publish_at": "2030-01-01T10:00:00Z", "privacy_status": "public"},
    )
    assert "A video scheduled to go public is uploaded as private." in connector.validate(scheduled)
    # Who can watch is never defaulted: without a choice the video is not sent at all.
    unchosen = replace(scheduled, options={"title": "t", "made_for_kids": False})
    assert connector.validate(unchosen) == ["Choose who can watch the video on YouTube."]
    with pytest.raises(Rejected, match=r"Choose who can watch the video on YouTube\."):
        connector.publish(account, unchosen)
    assert not youtube_server.requests_to("POST", "/upload/youtube/v3/videos")
    private_until = replace(
        scheduled,
        options={"title": "t", "publish_at": "2030-01-01T10:00:00Z", "privacy_status": "private"},
    )
    assert connector.validate(private_until) == []


def test_quota_counts_per_organization(personas, youtube_server, connector):
    account = connect(personas, youtube_server, connector)
    connector.check_health(account)
    assert quota_usage(personas.org.pk).units == 2
    assert quota_usage(personas.other_org.pk).units == 0
    assert urlsplit(youtube_server.base_url).hostname == "127.0.0.1"


def test_the_connect_pages_and_the_account_page_show_the_days_quota(
    client, personas, login, youtube_server, settings
):
    settings.SITE_URL = "http://testserver"
    youtube_server.redirect_uris.append("http://testserver/accounts/youtube/callback/")
    login(client, personas.alice)
    page = client.get("/accounts/connect/youtube/").content.decode()
    assert "none is set up yet" in page
    NetworkApp.objects.create(
        organization=personas.org,
        network="google",
        client_id=youtube_server.client_id,
        client_secret=youtube_server.client_secret,
    )
    assert "Continue to Google" in client.get("/accounts/connect/youtube/").content.decode()
    sent = client.post("/accounts/connect/youtube/").content.decode()
    url = sent.split('id="authorize-link" href="')[1].split('"')[0].replace("&amp;", "&")
    assert url.startswith(youtube_server.authorize_url)
    answer = youtube_server.approve(url)
    back = client.get("/accounts/youtube/callback/", answer)
    account = ChannelAccount.objects.get(organization=personas.org, network="youtube")
    assert back.status_code == 302 and back["Location"] == f"/accounts/{account.pk}/"
    page = client.get(back["Location"]).content.decode()
    assert "@examplecity" in page
    assert "1 of 10,000 units used today; resets at" in page
    assert "0 of 100 video uploads used today." in page
    # Another organization's admin never sees it.
    login(client, personas.charlie)
    assert client.get(f"/accounts/{account.pk}/").status_code == 404


def test_a_cancelled_or_forged_callback_connects_nothing(client, personas, login, youtube_server):
    login(client, personas.alice)
    cancelled = client.get("/accounts/youtube/callback/", {"error": "access_denied"})
    assert cancelled.status_code == 400
    assert "cancelled at Google" in cancelled.content.decode()
    forged = client.get("/accounts/youtube/callback/", {"code": "4/x", "state": "nope"})
    assert forged.status_code == 400
    assert not ChannelAccount.objects.filter(network="youtube").exists()


def test_video_statistics_and_subscribers_are_read(personas, youtube_server, connector, tmp_path):
    account = connect(personas, youtube_server, connector)
    result = connector.publish(account, request_for(video_file(tmp_path, 3000)))
    video = youtube_server.videos[result.remote_id]
    video.views, video.likes, video.comments = 840, 31, 4
    youtube_server.subscribers = 4321
    gone = RemoteRef(remote_id="vidDELETED")
    metrics = connector.fetch_post_metrics(account, [result.ref, gone])
    assert [(m.remote_id, m.impressions, m.likes, m.replies, m.deleted) for m in metrics] == [
        (result.remote_id, 840, 31, 4, False),
        ("vidDELETED", None, None, None, True),
    ]
    assert connector.fetch_account_metrics(account).followers == 4321
    assert assert_requests_are_documented(youtube_server) >= 5
