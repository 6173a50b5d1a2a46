"""Video on Meta's networks: Threads (VIDEO containers), Instagram Reels (REELS
containers) and Facebook Page videos (Resumable Upload API, then ``/{page}/videos``),
each against its local test server."""

from __future__ import annotations

import pytest

from accounts.connectors.base import (
    CaptionTrack,
    MediaItem,
    PublishRequest,
    Rejected,
    TransientError,
)
from accounts.connectors.registry import get_connector
from accounts.connectors.threads import SCOPES as THREADS_SCOPES
from accounts.tests.helpers import channel_account

# The start of an MP4 file (an ``ftyp`` box), then filler: what the servers check.
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 40


def video_item(
    *,
    public_url: str = "",
    path: str = "",
    content: bytes = MP4,
    alt: str = "",
    duration_ms: int = 30_000,
    width: int = 1080,
    height: int = 1920,
    captions: tuple[CaptionTrack, ...] = (),
) -> MediaItem:
    return MediaItem(
        content=b"",
        mime_type="video/mp4",
        alt_text=alt,
        filename="tiedote.mp4",
        public_url=public_url,
        kind="video",
        path=path,
        size_bytes=len(content),
        duration_ms=duration_ms,
        width=width,
        height=height,
        captions=captions,
    )


# --- Threads --------------------------------------------------------------------------


@pytest.fixture
def threads_account(db, threads_server):
    from datetime import timedelta

    from django.utils import timezone

    return channel_account(
        network="threads",
        handle="@cityofexample",
        remote_id=threads_server.user.id,
        server_url=threads_server.base_url,
        credentials={
            "access_token": threads_server.issue_token(age=timedelta(days=2)),
            "issued_at": (timezone.now() - timedelta(days=2)).isoformat(),
        },
        scopes=list(THREADS_SCOPES),
    )


def test_threads_publishes_a_video_container_once_it_has_processed(threads_account, threads_server):
    threads_server.video_processing_polls = 3
    item = video_item(public_url=threads_server.host_file(MP4, "video/mp4"), alt="Pormestari puhuu")
    result = get_connector("threads").publish(
        threads_account,
        PublishRequest(text="Katso tiedote", media=[item], idempotency_key="v1"),
    )
    [post] = threads_server.posts_of(threads_server.user)
    assert result.remote_id == post.id
    assert post.media_type == "VIDEO"
    assert post.video_bytes == MP4  # Threads downloaded it from our public address
    assert post.alt_text == "Pormestari puhuu"
    assert post.text == "Katso tiedote"
    [create] = threads_server.requests_to("POST", f"/v1.0/{threads_server.user.id}/threads")
    assert create.form["media_type"] == "VIDEO" and create.form["video_url"] == item.public_url
    # It waited (recorded, not slept) while Threads processed the video.
    assert threads_server.client_waits == [5.0, 5.0]


def test_threads_explains_a_video_it_could_not_process(threads_account, threads_server):
    threads_server.video_error = "FAILED_PROCESSING_VIDEO"
    item = video_item(public_url=threads_server.host_file(MP4, "video/mp4"))
    with pytest.raises(Rejected) as caught:
        get_connector("threads").publish(
            threads_account, PublishRequest(text="x", media=[item], idempotency_key="bad")
        )
    assert caught.value.message == "The network refused this: Threads could not process the video."
    assert not threads_server.posts_of(threads_server.user)


def test_threads_says_so_when_the_video_cannot_be_downloaded(threads_account, threads_server):
    item = video_item(public_url=threads_server.base_url + "/files/missing")
    with pytest.raises(Rejected, match="could not download the video"):
        get_connector("threads").publish(threads_account, PublishRequest(text="x", media=[item]))


def test_a_video_still_processing_is_looked_at_again_never_prepared_twice(
    threads_account, threads_server
):
    connector = get_connector("threads")
    request = PublishRequest(
        text="Pitkä video",
        media=[video_item(public_url=threads_server.host_file(MP4, "video/mp4"))],
        idempotency_key="slow",
    )
    threads_server.video_processing_polls = 100
    with pytest.raises(TransientError) as caught:
        connector.publish(threads_account, request)
    assert "still processing the video" in caught.value.message
    assert not threads_server.posts_of(threads_server.user)
    [container] = threads_server.containers.values()
    container.polls_left = 1  # Threads finishes processing meanwhile

    result = connector.publish(threads_account, request)

    [post] = threads_server.posts_of(threads_server.user)
    assert result.remote_id == post.id
    assert len(threads_server.requests_to("POST", f"/v1.0/{threads_server.user.id}/threads")) == 1


def test_threads_refuses_a_video_over_five_minutes_before_any_call(threads_server):
    problems = get_connector("threads").validate(
        PublishRequest(text="x", media=[video_item(duration_ms=301_000)])
    )
    assert problems == ["Video 1 is longer than 5 minutes; this network takes no more."]


# --- Instagram Reels ------------------------------------------------------------------


@pytest.fixture
def page(graph_server):
    return graph_server.create_page("City of Example", with_instagram="cityofexample")


@pytest.fixture
def ig_account(db, graph_server, page):
    from django.core.cache import cache

    cache.clear()
    return channel_account(
        network="instagram",
        handle="@cityofexample",
        remote_id=page.ig_id,
        server_url=graph_server.base_url,
        credentials={"access_token": page.token, "page_id": page.id},
    )


def test_instagram_publishes_a_video_as_a_reel_once_processed(ig_account, graph_server):
    item = video_item(public_url=graph_server.host_image(MP4, "video/mp4"))
    result = get_connector("instagram").publish(
        ig_account,
        PublishRequest(text="Kesän tapahtumat #kaupunki", media=[item], idempotency_key="r1"),
    )
    [media] = graph_server.posts_of(ig_account.remote_id)
    assert result.remote_id == media.id
    assert media.media_type == "VIDEO"
    assert media.message == "Kesän tapahtumat #kaupunki"
    [create] = graph_server.requests_to("POST", f"/{ig_account.remote_id}/media")
    assert create.params["media_type"] == "REELS"
    assert create.params["video_url"] == item.public_url
    assert create.params["share_to_feed"] == "true"
    [container] = graph_server.containers.values()
    assert container.fetched_bytes == len(MP4)  # Instagram fetched it from our address
    # Processing was waited for (recorded, not slept) before media_publish.
    assert graph_server.client_waits == [5.0, 10.0]


def test_instagram_explains_a_reel_it_could_not_process(ig_account, graph_server):
    graph_server.video_error = "Media upload has failed with error code 2207026"
    item = video_item(public_url=graph_server.host_image(MP4, "video/mp4"))
    with pytest.raises(Rejected) as caught:
        get_connector("instagram").publish(
            ig_account, PublishRequest(text="x", media=[item], idempotency_key="bad")
        )
    assert "does not take this video format" in caught.value.message
    assert not graph_server.posts_of(ig_account.remote_id)


def test_a_reel_still_processing_is_looked_at_again_never_prepared_twice(ig_account, graph_server):
    connector = get_connector("instagram")
    request = PublishRequest(
        text="Pitkä Reel",
        media=[video_item(public_url=graph_server.host_image(MP4, "video/mp4"))],
        idempotency_key="slow-reel",
    )
    graph_server.video_polls = 100
    with pytest.raises(TransientError) as caught:
        connector.publish(ig_account, request)
    assert "still processing the Reel" in caught.value.message
    assert not graph_server.posts_of(ig_account.remote_id)
    [container] = graph_server.containers.values()
    container.polls_left = 0  # processing ends meanwhile

    result = connector.publish(ig_account, request)

    [media] = graph_server.posts_of(ig_account.remote_id)
    assert result.remote_id == media.id
    assert len(graph_server.requests_to("POST", f"/{ig_account.remote_id}/media")) == 1


def test_instagram_checks_a_reels_length_size_and_type_before_any_call(ig_account):
    connector = get_connector("instagram")
    assert connector.validate(PublishRequest(text="x", media=[video_item()])) == []
    problems = connector.validate(
        PublishRequest(text="x", media=[video_item(duration_ms=2_000)]), account=ig_account
    )
    assert problems == ["Video 1 is shorter than 3 seconds; a Reel needs at least 3."]
    long = connector.validate(PublishRequest(text="x", media=[video_item(duration_ms=901_000)]))
    assert long == ["Video 1 is longer than 15 minutes; this network takes no more."]


# --- Facebook Page videos ---------------------------------------------------------------


@pytest.fixture
def fb_account(db, graph_server, page):
    from accounts.models import NetworkApp

    account = channel_account(
        network="facebook",
        handle=page.name,
        remote_id=page.id,
        server_url=graph_server.base_url,
        credentials={"access_token": page.token, "user_token": graph_server.user_token()},
    )
    NetworkApp.objects.create(
        organization=account.organization,
        network="meta",
        client_id=graph_server.app_id,
        client_secret=graph_server.app_secret,
    )
    return account


@pytest.fixture
def video_file(tmp_path):
    path = tmp_path / "tiedote.mp4"
    path.write_bytes(MP4)
    return path


VTT = """WEBVTT

NOTE made by hand

intro
00:00.000 --> 00:02.500 align:start
Hyvää huomenta.

00:02.500 --> 01:00:04.000
Tervetuloa kaupungintalolle.
"""


def test_facebook_uploads_a_video_resumably_posts_it_and_adds_its_captions(
    fb_account, graph_server, video_file
):
    item = video_item(
        path=str(video_file),
        width=1280,
        height=720,
        captions=(CaptionTrack(language="fi", vtt=VTT, name="fi.vtt"),),
    )
    result = get_connector("facebook").publish(
        fb_account,
        PublishRequest(text="Kaupunginjohtajan tervehdys", media=[item], idempotency_key="f1"),
    )
    [video] = graph_server.videos.values()
    assert video.content == MP4  # every byte arrived through the upload session
    assert video.description == "Kaupunginjohtajan tervehdys"
    [post] = graph_server.posts_of(fb_account.remote_id)
    assert post.message == "Kaupunginjohtajan tervehdys"
    assert result.remote_id == post.id
    assert result.extra["video_id"] == video.id
    # The session was opened for the app with the person's token, the bytes sent with
    # "Authorization: OAuth" and a file offset, the video made on the Page.
    [start] = graph_server.requests_to("POST", f"/{graph_server.app_id}/uploads")
    assert start.params["file_length"] == str(len(MP4)) and start.params["file_type"] == "video/mp4"
    [sent] = [r for r in graph_server.requests if r.path.startswith("/upload:")]
    assert sent.headers["File-Offset"] == "0" and sent.headers["Authorization"].startswith("OAuth ")
    [made] = graph_server.requests_to("POST", f"/{fb_account.remote_id}/videos")
    assert made.params["fbuploader_video_file_chunk"].startswith("2:")
    # Captions went as SubRip in Facebook's locale, the first made the default.
    assert video.default_locale == "fi_FI"
    assert video.captions["fi_FI"] == (
        "1\n00:00:00,000 --> 00:00:02,500\nHyvää huomenta.\n\n"
        "2\n00:00:02,500 --> 01:00:04,000\nTervetuloa kaupungintalolle.\n"
    )
    assert result.extra["captions"] == "fi_FI"
    # It waited for processing (recorded, not slept).
    assert graph_server.client_waits == [2.0, 5.0]


def test_an_interrupted_upload_resumes_from_where_meta_says_it_stopped(
    fb_account, graph_server, video_file
):
    connector = get_connector("facebook")
    request = PublishRequest(
        text="Katkennut", media=[video_item(path=str(video_file))], idempotency_key="cut"
    )
    graph_server.cut_upload_after = 1000
    with pytest.raises(TransientError):
        connector.publish(fb_account, request)
    assert not graph_server.videos

    connector.publish(fb_account, request)

    [video] = graph_server.videos.values()
    assert video.content == MP4
    assert len(graph_server.uploads) == 1  # the same session, not a second one
    uploads = [r for r in graph_server.requests if r.path.startswith("/upload:")]
    assert [(r.method, r.headers.get("File-Offset")) for r in uploads] == [
        ("POST", "0"),
        ("GET", None),
        ("POST", "1000"),
    ]


def test_a_video_still_processing_is_looked_at_again_never_posted_twice(
    fb_account, graph_server, video_file
):
    connector = get_connector("facebook")
    request = PublishRequest(
        text="Pitkä video", media=[video_item(path=str(video_file))], idempotency_key="slow-fb"
    )
    graph_server.video_polls = 100
    with pytest.raises(TransientError) as caught:
        connector.publish(fb_account, request)
    assert "still processing the video" in caught.value.message
    [video] = graph_server.videos.values()
    video.polls_left = 0  # Facebook finishes meanwhile

    result = connector.publish(fb_account, request)

    assert len(graph_server.videos) == 1
    assert len(graph_server.requests_to("POST", f"/{fb_account.remote_id}/videos")) == 1
    assert len(graph_server.uploads) == 1
    [post] = graph_server.posts_of(fb_account.remote_id)
    assert result.remote_id == post.id


def test_a_video_facebook_could_not_process_is_refused_with_its_reason(
    fb_account, graph_server, video_file
):
    graph_server.video_error = "The video file you selected is in a format we don't support."
    with pytest.raises(Rejected) as caught:
        get_connector("facebook").publish(
            fb_account,
            PublishRequest(text="x", media=[video_item(path=str(video_file))], idempotency_key="e"),
        )
    assert caught.value.message == (
        "The network refused this: Facebook could not process the video (The video file you "
        "selected is in a format we don't support.)"
    )
    assert not graph_server.posts_of(fb_account.remote_id)


def test_a_lost_answer_to_the_video_post_is_an_unknown_outcome_and_never_posted_twice(
    fb_account, graph_server, video_file
):
    from accounts.connectors.base import UnknownOutcome
    from accounts.connectors.facebook import FacebookConnector

    impatient = FacebookConnector()
    impatient.timeout = (2.0, 0.5)
    request = PublishRequest(
        text="Vastaus katosi", media=[video_item(path=str(video_file))], idempotency_key="lost"
    )
    graph_server.hang(
        method="POST", path_prefix=f"/{fb_account.remote_id}/videos", after_processing=True
    )
    with pytest.raises(UnknownOutcome):
        impatient.publish(fb_account, request)
    graph_server.release()
    [video] = graph_server.videos.values()
    video.polls_left = 0
    graph_server._video_obj(video)  # Facebook processes it; the post shows on the Page

    result = impatient.publish(fb_account, request)

    [post] = graph_server.posts_of(fb_account.remote_id)
    assert result.remote_id == post.id
    assert len(graph_server.videos) == 1
    assert len(graph_server.requests_to("POST", f"/{fb_account.remote_id}/videos")) == 1


def test_the_fields_and_parameters_we_use_exist_in_metas_sdk():
    from facebook_business.adobjects.advideo import AdVideo
    from facebook_business.adobjects.iguser import IGUser
    from facebook_business.adobjects.page import Page

    from accounts.connectors import facebook

    def accepted(request) -> set[str]:
        return set(request._param_checker._type_check_info)

    assert {"description", "fbuploader_video_file_chunk"} <= accepted(
        Page("1").create_video(params={}, pending=True)
    )
    assert {"captions_file", "default_locale"} <= accepted(
        AdVideo("1").create_cap_t_i_on(params={}, pending=True)
    )
    assert {"media_type", "video_url", "share_to_feed", "caption"} <= accepted(
        IGUser("1").create_media(params={}, pending=True)
    )
    video_fields = {getattr(AdVideo.Field, n) for n in dir(AdVideo.Field) if not n.startswith("_")}
    assert set(facebook.API.fields["video"].split(",")) <= video_fields


def test_caption_locales_and_subrip_conversion():
    from accounts.connectors.facebook import caption_locale, vtt_to_srt

    assert [caption_locale(x) for x in ("fi", "sv", "en-GB", "tr", "xx")] == [
        "fi_FI",
        "sv_SE",
        "en_GB",
        "tr_TR",
        "xx_XX",
    ]
    assert vtt_to_srt("WEBVTT\n\n1\n00:01.000 --> 00:02.000\nHei\n") == (
        "1\n00:00:01,000 --> 00:00:02,000\nHei\n"
    )
