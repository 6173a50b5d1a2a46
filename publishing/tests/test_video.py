"""Videos in the media library: streamed to storage, probed with ffprobe, a poster frame
taken, and a verdict per network on whether the video fits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.models import AuditEvent
from publishing.models import MediaAsset, MediaCaption, MediaKind, PostStatus, PublishingSettings
from publishing.services.media import media_asset_delete
from publishing.services.org_settings import publishing_settings_update
from publishing.services.posts import MediaSlot, post_create, post_submit_for_review, variant_save
from publishing.services.video import (
    check_captions,
    media_caption_set,
    media_video_upload,
    probe_video,
)
from publishing.tests.fixtures import make_image
from publishing.tests.video_files import videos  # noqa: F401 - a fixture
from publishing.validation import variant_problems, variant_request, variants_with_content
from publishing.video_fit import VIDEO_LIMITS, video_fit, video_fits

pytestmark = pytest.mark.django_db

LIBRARY = "/publishing/media/"


def _uploaded(path: Path) -> File:
    """The file on disk (the views hand over Django's temporary upload files)."""
    return File(path.open("rb"), name=path.name)


def test_ffprobe_reads_duration_size_codecs_and_frame_rate(videos):  # noqa: F811
    probe = probe_video(videos["landscape"])
    assert probe.mime_type == "video/mp4"
    assert (probe.width, probe.height) == (320, 240)
    assert 2900 <= probe.duration_ms <= 3100
    assert (probe.video_codec, probe.audio_codec) == ("h264", "aac")
    assert probe.frame_rate == 25
    assert probe.bitrate and probe.bitrate > 0
    portrait = probe_video(videos["portrait"])
    assert (portrait.width, portrait.height, portrait.audio_codec) == (1080, 1920, "")


def test_a_video_is_stored_with_its_probe_poster_and_audit(team, media_root, videos):  # noqa: F811
    asset = media_video_upload(
        membership=team.eddie,
        file=_uploaded(videos["landscape"]),
        alt_texts={"fi": "Kirjaston avajaiset"},
    )
    asset.refresh_from_db()
    assert asset.kind == MediaKind.VIDEO and asset.is_video
    assert asset.mime_type == "video/mp4"
    assert asset.size_bytes == videos["landscape"].stat().st_size
    assert (asset.width, asset.height, asset.aspect_label) == (320, 240, "4:3")
    assert asset.duration_label == "0:03"
    assert (asset.video_codec, asset.audio_codec, asset.frame_rate) == ("h264", "aac", 25)
    assert Path(asset.file.path).read_bytes() == videos["landscape"].read_bytes()
    poster = Path(asset.poster.path).read_bytes()
    assert poster[:3] == b"\xff\xd8\xff"  # a JPEG
    assert asset.alt_text_for("fi") == "Kirjaston avajaiset"
    event = AuditEvent.objects.get(action="media.uploaded")
    assert event.new_values["kind"] == "video"
    assert event.new_values["duration_ms"] == asset.duration_ms


def test_a_file_that_is_not_a_video_is_refused_and_nothing_is_kept(team, media_root):
    garbage = SimpleUploadedFile("clip.mp4", b"\x00\x00\x00\x18ftypmp42" + b"junk" * 500)
    with pytest.raises(ValidationError, match="not a video we can read"):
        media_video_upload(membership=team.eddie, file=garbage)
    assert not MediaAsset.objects.exists()
    stored = [p for p in Path(media_root).rglob("*") if p.is_file()]
    assert stored == []


def test_an_image_is_not_a_video(team, media_root):
    from publishing.tests.fixtures import png_bytes

    with pytest.raises(ValidationError, match="not a video we can read"):
        media_video_upload(membership=team.eddie, file=SimpleUploadedFile("still.mp4", png_bytes()))


def test_a_video_over_the_size_limit_is_refused_before_probing(
    team,
    media_root,
    settings,
    videos,  # noqa: F811
):
    settings.VIDEO_MAX_UPLOAD_BYTES = 1024
    with pytest.raises(ValidationError, match="videos can be at most 0 MB"):
        media_video_upload(membership=team.eddie, file=_uploaded(videos["landscape"]))
    assert not MediaAsset.objects.exists()


def test_removing_a_video_removes_its_file_and_poster(
    team,
    media_root,
    videos,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    asset = media_video_upload(membership=team.eddie, file=_uploaded(videos["landscape"]))
    paths = [Path(asset.file.path), Path(asset.poster.path)]
    with django_capture_on_commit_callbacks(execute=True):
        media_asset_delete(asset=asset, membership=team.eddie)
    assert not any(path.exists() for path in paths)


@dataclass
class Facts:
    size_bytes: int = 10 * 1024 * 1024
    duration_ms: int | None = 60_000
    width: int = 1920
    height: int = 1080
    video_codec: str = "h264"
    audio_codec: str = "aac"


def _fit(network: str, facts: Facts):
    return video_fit(next(limit for limit in VIDEO_LIMITS if limit.network == network), facts)


def test_a_one_minute_landscape_video_fits_bluesky_and_youtube_but_reels_need_9_16():
    fits = {fit.network: fit for fit in video_fits(Facts())}
    assert set(fits) == {
        "bluesky",
        "mastodon",
        "facebook",
        "instagram",
        "threads",
        "x",
        "linkedin",
        "youtube",
        "tiktok",
    }
    assert fits["bluesky"].fits and fits["youtube"].fits and fits["x"].fits
    assert not fits["instagram"].fits
    assert fits["instagram"].changes == ("Instagram Reels needs a 9:16 crop.",)


def test_length_size_shape_and_codec_limits_say_what_to_change():
    long = _fit("bluesky", Facts(duration_ms=181_000))
    assert long.changes == ("Bluesky takes videos up to 3 minutes: shorten it.",)
    assert _fit("bluesky", Facts(duration_ms=180_000)).fits
    assert _fit("x", Facts(duration_ms=141_000)).changes == (
        "X takes videos up to 140 seconds: shorten it.",
    )
    assert _fit("mastodon", Facts(size_bytes=100 * 1024 * 1024)).changes == (
        "Mastodon takes files up to 99 MB: compress it or shorten it.",
    )
    assert _fit("linkedin", Facts(duration_ms=2_000)).changes == (
        "LinkedIn needs at least 3 seconds of video: make it longer.",
    )
    assert _fit("bluesky", Facts(width=4000, height=1000)).changes == (
        "Bluesky takes aspect ratios from 1:3 to 3:1: crop it.",
    )
    assert _fit("instagram", Facts(width=1080, height=1920)).fits
    assert _fit("x", Facts(video_codec="vp9", audio_codec="opus")).changes == (
        "X does not take vp9 video: convert it to H.264 MP4.",
        "X does not take opus sound: convert the sound to AAC.",
    )


def test_the_fit_table_says_what_the_meta_connectors_refuse():
    """The library's fit table and the connectors' own limits agree for the networks
    whose video was added later (Facebook, Instagram Reels, Threads), so a video the
    table passes is not refused at publishing time."""
    from accounts.connectors.registry import get_connector

    for network in ("facebook", "instagram", "threads"):
        connector = get_connector(network)
        limits = next(limit for limit in VIDEO_LIMITS if limit.network == network)
        assert connector.capabilities.videos, network
        assert limits.max_bytes == connector.limits.max_video_bytes, network
        assert limits.max_ms == connector.limits.max_video_seconds * 1000, network
    reel = _fit("instagram", Facts(duration_ms=2_000, width=1080, height=1920))
    assert reel.changes == ("Instagram Reels needs at least 3 seconds of video: make it longer.",)
    assert _fit("threads", Facts(duration_ms=301_000)).changes == (
        "Threads takes videos up to 5 minutes: shorten it.",
    )
    assert _fit("facebook", Facts(duration_ms=241 * 60_000)).changes == (
        "Facebook takes videos up to 240 minutes: shorten it.",
    )


# --- the library pages ------------------------------------------------------------------


def _post_video(client, path: Path, **extra):
    with path.open("rb") as handle:
        return client.post(LIBRARY, {"upload": "video", "video-file": handle, **extra})


def test_upload_a_video_in_the_library_and_see_where_it_fits(
    client,
    personas,
    login,
    media_root,
    videos,  # noqa: F811
):
    login(client, personas.bob)
    response = _post_video(client, videos["landscape"], **{"video-alt_fi": "Avajaiset"})
    asset = MediaAsset.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/publishing/media/{asset.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "landscape.mp4 is in the library." in page
    assert "<dt>Duration</dt><dd>0:03</dd>" in page
    assert "<dt>Resolution</dt><dd>320 \u00d7 240</dd>" in page
    assert "<dt>Aspect ratio</dt><dd>4:3</dd>" in page
    assert "h264, sound aac" in page
    assert "Instagram Reels needs a 9:16 crop." in page
    assert '<tr data-network="bluesky">' in page
    bluesky_row = page.split('<tr data-network="bluesky">')[1].split("</tr>")[0]
    assert "Yes" in bluesky_row
    assert f'poster="/publishing/media/{asset.pk}/poster/"' in page
    poster = client.get(f"/publishing/media/{asset.pk}/poster/")
    assert poster["Content-Type"] == "image/jpeg"
    library = client.get(LIBRARY).content.decode()
    assert "Video, 0:03, 320 \u00d7 240" in library


def test_a_portrait_video_fits_reels(client, personas, login, media_root, videos):  # noqa: F811
    login(client, personas.bob)
    response = _post_video(client, videos["portrait"])
    page = client.get(response["Location"]).content.decode()
    reels = page.split('<tr data-network="instagram">')[1].split("</tr>")[0]
    assert "Yes" in reels and "crop" not in reels
    assert "<dt>Aspect ratio</dt><dd>9:16</dd>" in page
    assert "no sound" in page


def test_a_file_that_is_not_a_video_gets_a_clear_error_next_to_the_field(
    client, personas, login, media_root
):
    login(client, personas.bob)
    upload = SimpleUploadedFile("clip.mp4", b"not a film", content_type="video/mp4")
    response = client.post(LIBRARY, {"upload": "video", "video-file": upload})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_video-file_error"><li>This file is not a video we can read.' in page
    assert not MediaAsset.objects.exists()


def test_another_organizations_video_and_poster_are_not_found(
    client,
    personas,
    team,
    login,
    media_root,
    videos,  # noqa: F811
):
    asset = media_video_upload(membership=team.eddie, file=_uploaded(videos["landscape"]))
    login(client, personas.charlie)
    for suffix in ("", "poster/", "file/"):
        assert client.get(f"/publishing/media/{asset.pk}/{suffix}").status_code == 404


def test_the_composer_image_picker_does_not_offer_videos(
    client,
    personas,
    team,
    login,
    media_root,
    videos,  # noqa: F811
):
    image = make_image(team.eddie)
    video = media_video_upload(membership=team.eddie, file=_uploaded(videos["landscape"]))
    login(client, personas.bob)
    page = client.get("/publishing/posts/new/").content.decode()
    assert f"/publishing/media/{image.pk}/file/" in page
    assert f"/publishing/media/{video.pk}/file/" not in page


# --- captions ---------------------------------------------------------------------------

SRT = (
    "1\n00:00:00,500 --> 00:00:01,500\nTervetuloa kirjastoon.\n\n"
    "2\n00:00:01,600 --> 00:00:02,900\nOvet aukeavat yhdeksältä.\n"
)


def test_srt_captions_are_kept_as_webvtt_with_their_transcript():
    checked = check_captions(SRT.encode(), duration_ms=3000)
    assert checked.vtt.startswith("WEBVTT\n\n00:00:00.500 --> 00:00:01.500\nTervetuloa")
    assert checked.transcript == "Tervetuloa kirjastoon.\nOvet aukeavat yhdeksältä."
    assert checked.cue_count == 2
    vtt = "WEBVTT\n\n00:00.000 --> 00:02.000\nHej och välkommen.\n"
    assert check_captions(vtt.encode(), duration_ms=3000).transcript == "Hej och välkommen."


def test_captions_outside_the_video_or_garbage_are_refused():
    with pytest.raises(ValidationError, match=r"runs to 00:00:02.900, past the end"):
        check_captions(SRT.encode(), duration_ms=2500)
    with pytest.raises(ValidationError, match="not an SRT or WebVTT caption file"):
        check_captions(b"this is just some text\nwith lines", duration_ms=3000)
    with pytest.raises(ValidationError, match="not UTF-8"):
        check_captions(b"\xff\xfe\x00garbage", duration_ms=3000)
    backwards = "1\n00:00:02,000 --> 00:00:01,000\nTakaperin\n"
    with pytest.raises(ValidationError, match="ends before it starts"):
        check_captions(backwards.encode(), duration_ms=3000)


def test_upload_captions_on_the_video_page(
    client,
    personas,
    login,
    team,
    media_root,
    videos,  # noqa: F811
):
    asset = media_video_upload(membership=team.eddie, file=_uploaded(videos["landscape"]))
    login(client, personas.bob)
    url = f"/publishing/media/{asset.pk}/captions/"
    late = SimpleUploadedFile("late.srt", b"1\n00:00:01,000 --> 00:00:09,000\nLiian pitk\xc3\xa4\n")
    response = client.post(url, {"captions-language": "fi", "captions-file": late})
    assert response.status_code == 400
    assert "past the end of the video (00:00:03.0" in response.content.decode()
    upload = SimpleUploadedFile("fi.srt", SRT.encode())
    response = client.post(url, {"captions-language": "fi", "captions-file": upload})
    assert response.status_code == 302
    page = client.get(f"/publishing/media/{asset.pk}/").content.decode()
    assert "Captions in Finnish saved." in page
    assert "<dt>Finnish</dt><dd>2 captions</dd>" in page
    assert "Ovet aukeavat yhdeksältä." in page  # the transcript
    caption = MediaCaption.objects.get(asset=asset, language="fi")
    assert caption.vtt.startswith("WEBVTT")
    assert AuditEvent.objects.filter(action="media.captions_set").count() == 1
    login(client, personas.charlie)
    upload = SimpleUploadedFile("fi.srt", SRT.encode())
    response = client.post(url, {"captions-language": "fi", "captions-file": upload})
    assert response.status_code == 404


# --- the captions rule ------------------------------------------------------------------


def _video_post(team, asset, language="fi"):
    post = post_create(membership=team.eddie, title="Video")
    variant_save(
        post=post, membership=team.eddie, channel_account=team.account, language=language,
        text="Uusi kirjasto", media=[MediaSlot(asset)],
    )  # fmt: skip
    return post


def _caption_problems(post):
    variant = variants_with_content(post)[0]
    return [p for p in variant_problems(variant, require_alt_text=True) if "captions" in p]


def test_a_video_without_captions_in_the_posts_language_cannot_go_to_review(
    team,
    media_root,
    videos,  # noqa: F811
):
    asset = media_video_upload(
        membership=team.eddie, file=_uploaded(videos["landscape"]), alt_texts={"fi": "Avajaiset"}
    )
    media_caption_set(
        asset=asset,
        membership=team.eddie,
        language="sv",
        file=SimpleUploadedFile("sv.srt", SRT.encode()),
    )
    post = _video_post(team, asset)
    assert _caption_problems(post) == ["The video landscape.mp4 has no captions in Finnish."]
    with pytest.raises(ValidationError, match=r"landscape\.mp4 has no captions in Finnish"):
        post_submit_for_review(post=post, membership=team.eddie)
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT
    media_caption_set(
        asset=asset,
        membership=team.eddie,
        language="fi",
        file=SimpleUploadedFile("fi.srt", SRT.encode()),
    )
    assert _caption_problems(post) == []


def test_the_captions_rule_can_be_turned_off(team, media_root, videos):  # noqa: F811
    assert PublishingSettings(organization=team.alice.organization).require_captions
    publishing_settings_update(membership=team.alice, require_captions=False)
    asset = media_video_upload(
        membership=team.eddie, file=_uploaded(videos["landscape"]), alt_texts={"fi": "Avajaiset"}
    )
    post = _video_post(team, asset)
    assert _caption_problems(post) == []


def test_a_video_reaches_connectors_with_its_path_captions_and_poster(
    team,
    media_root,
    videos,  # noqa: F811
):
    asset = media_video_upload(membership=team.eddie, file=_uploaded(videos["landscape"]))
    for language in ("fi", "sv"):
        media_caption_set(
            asset=asset,
            membership=team.eddie,
            language=language,
            file=SimpleUploadedFile(f"{language}.srt", SRT.encode()),
        )
    post = _video_post(team, asset, language="sv")
    variant = variants_with_content(post)[0]
    item = variant_request(variant, 0).media[0]
    assert item.is_video and item.content == b""
    assert Path(item.path).read_bytes() == videos["landscape"].read_bytes()
    # Every language's captions, the post's own first (for networks that take one file).
    assert [track.language for track in item.captions] == ["sv", "fi"]
    assert [track.name for track in item.captions] == ["sv.vtt", "fi.vtt"]
    assert item.captions[0].vtt.startswith("WEBVTT")
    assert item.poster[:3] == b"\xff\xd8\xff"
    assert (item.width, item.height, item.size_bytes) == (320, 240, asset.size_bytes)


def test_the_progress_bar_upload_is_told_where_the_video_went(
    client,
    personas,
    login,
    media_root,
    videos,  # noqa: F811
):
    login(client, personas.bob)
    with videos["landscape"].open("rb") as handle:
        response = client.post(
            LIBRARY,
            {"upload": "video", "video-file": handle},
            headers={"X-Requested-With": "XMLHttpRequest"},
        )
    asset = MediaAsset.objects.get()
    assert response.json() == {"location": f"/publishing/media/{asset.pk}/"}
    assert (
        "landscape.mp4 is in the library."
        in client.get(f"/publishing/media/{asset.pk}/").content.decode()
    )


def test_an_admin_turns_the_captions_rule_off_on_the_rules_page(client, personas, login):
    from publishing.validation import publishing_rules

    login(client, personas.alice)
    page = client.get("/publishing/rules/").content.decode()
    tag = re.search(r'<input[^>]*name="require_captions"[^>]*>', page)
    assert tag is not None and "checked" in tag.group(0)  # on by default
    assert "Every video needs captions in the post&#x27;s language" in page
    client.post(
        "/publishing/rules/",
        {"late_cutoff_minutes": "30", "require_alt_text": "on", "require_captions": "on"},
    )
    assert publishing_rules(personas.org.pk).require_captions is True
    client.post("/publishing/rules/", {"late_cutoff_minutes": "30", "require_alt_text": "on"})
    rules = publishing_rules(personas.org.pk)
    assert rules.require_captions is False and rules.require_alt_text is True
    event = AuditEvent.objects.filter(action="publishing_settings.updated").latest("seq")
    assert event.old_values["require_captions"] is True
    assert event.new_values["require_captions"] is False
