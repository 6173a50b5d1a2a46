"""Compose: a video from the library on the versions whose network takes one, shown
with its poster and length; the captions rule applies when the post goes to review."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import ChannelAccount
from publishing.models import (
    Post,
    PostStatus,
    Variant,
    VideoCopyJob,
    VideoCopyKind,
    VideoCopyStatus,
)
from publishing.services.posts import post_submit_for_review
from publishing.services.video import media_caption_set, media_video_upload
from publishing.tests.fixtures import make_image
from publishing.tests.test_views_compose import COMPOSE, compose_data
from publishing.tests.video_files import make_video, videos  # noqa: F401 - a fixture
from publishing.validation import variant_request, variants_with_content
from tests.factories import ChannelAccountFactory

pytestmark = pytest.mark.django_db

SRT = "1\n00:00:00,500 --> 00:00:01,500\nTervetuloa kirjastoon.\n"


def _uploaded(path: Path) -> File:
    return File(path.open("rb"), name=path.name)


@pytest.fixture
def youtube_account(personas) -> ChannelAccount:
    return ChannelAccountFactory.create(
        organization=personas.org, network="youtube", handle="Kaupunginkirjasto"
    )


def test_the_video_picker_shows_poster_length_and_captions_where_videos_go(
    client,
    personas,
    team,
    login,
    media_root,
    youtube_account,
    videos,  # noqa: F811
):
    video = media_video_upload(membership=team.alice, file=_uploaded(videos["landscape"]))
    media_caption_set(
        asset=video,
        membership=team.alice,
        language="sv",
        file=SimpleUploadedFile("sv.srt", SRT.encode()),
    )
    image = make_image(team.alice)
    login(client, personas.alice)
    data = compose_data(
        {(youtube_account, "fi"): "Uusi kirjasto", (personas.bob_account, "fi"): "Uusi kirjasto"},
        action="refresh",
    )
    page = client.post(COMPOSE, data).content.decode()
    youtube = f"v-{youtube_account.pk}-fi"
    sandbox = f"v-{personas.bob_account.pk}-fi"
    assert f'name="{youtube}-video" value="{video.pk}"' in page
    assert f'src="/publishing/media/{video.pk}/poster/"' in page
    assert "Length 0:03" in page
    assert "Captions: sv" in page
    # The sandbox takes no video: no video field there; the image list has no video.
    assert f'name="{sandbox}-video"' not in page
    assert f'data-library-pick="{image.pk}"' in page
    assert f'data-library-pick="{video.pk}"' not in page


def test_a_chosen_video_is_saved_and_needs_captions_before_review(
    client,
    personas,
    team,
    login,
    media_root,
    youtube_account,
    videos,  # noqa: F811
):
    video = media_video_upload(membership=team.alice, file=_uploaded(videos["landscape"]))
    login(client, personas.alice)
    data = compose_data({(youtube_account, "fi"): "Uusi kirjasto avataan"})
    data[f"v-{youtube_account.pk}-fi-video"] = str(video.pk)
    # YouTube's own required choices (publishing/network_options.py).
    data[f"v-{youtube_account.pk}-fi-yt_title"] = "Uusi kirjasto"
    data[f"v-{youtube_account.pk}-fi-yt_kids"] = "no"
    data[f"v-{youtube_account.pk}-fi-yt_privacy"] = "unlisted"
    response = client.post(COMPOSE, data)
    assert response.status_code == 302
    variant = Variant.objects.get()
    assert [slot.asset_id for slot in variant.media.all()] == [video.pk]
    # The edit page shows the video chosen.
    post = Post.objects.get()
    page = client.get(f"/publishing/posts/{post.pk}/edit/").content.decode()
    assert f'value="{video.pk}" id="id_v-{youtube_account.pk}-fi-video_1" checked' in page
    # The connector gets the file and the network's rules pass.
    request = variant_request(variants_with_content(post)[0], 0)
    assert request.media[0].is_video and request.media[0].duration_ms == 3000
    with pytest.raises(ValidationError, match=r"landscape\.mp4 has no captions in Finnish"):
        post_submit_for_review(post=post, membership=team.alice)
    media_caption_set(
        asset=video,
        membership=team.alice,
        language="fi",
        file=SimpleUploadedFile("fi.srt", SRT.encode()),
    )
    post_submit_for_review(post=post, membership=team.alice)
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW


def test_a_network_without_video_says_so_when_one_is_crafted_in(
    client,
    personas,
    team,
    login,
    media_root,
    videos,  # noqa: F811
):
    mastodon = ChannelAccountFactory.create(
        organization=personas.org, network="x", handle="kaupunki"
    )
    video = media_video_upload(membership=team.alice, file=_uploaded(videos["landscape"]))
    login(client, personas.alice)
    data = compose_data({(mastodon, "fi"): "Uusi kirjasto"})
    # Not offered, so a crafted value is simply not there to save.
    data[f"v-{mastodon.pk}-fi-video"] = str(video.pk)
    data[f"v-{mastodon.pk}-fi-media_0"] = [str(video.pk)]
    response = client.post(COMPOSE, data)
    assert response.status_code == 400
    assert Post.objects.count() == 0


def test_another_organizations_video_cannot_be_chosen(
    client,
    personas,
    team,
    login,
    media_root,
    youtube_account,
    videos,  # noqa: F811
):
    theirs = media_video_upload(membership=team.charlie, file=_uploaded(videos["landscape"]))
    login(client, personas.alice)
    data = compose_data({(youtube_account, "fi"): "Uusi kirjasto"})
    data[f"v-{youtube_account.pk}-fi-video"] = str(theirs.pk)
    response = client.post(COMPOSE, data)
    assert response.status_code == 400
    assert "That video is not in your organization" in response.content.decode()
    assert Post.objects.count() == 0


def test_the_api_lists_videos_with_length_poster_and_captions(
    client,
    personas,
    team,
    login,
    media_root,
    videos,  # noqa: F811
):
    video = media_video_upload(membership=team.alice, file=_uploaded(videos["landscape"]))
    media_caption_set(
        asset=video,
        membership=team.alice,
        language="fi",
        file=SimpleUploadedFile("fi.srt", SRT.encode()),
    )
    login(client, personas.alice)
    body = client.get("/api/v1/media/").json()
    (row,) = body["results"]
    assert row["kind"] == "video"
    assert row["duration_ms"] == 3000
    assert row["caption_languages"] == ["fi"]
    assert row["poster_url"] == f"/publishing/media/{video.pk}/poster/"


def test_the_api_puts_a_video_on_a_variant_and_says_what_the_network_refuses(
    client,
    personas,
    team,
    login,
    media_root,
    youtube_account,
    videos,  # noqa: F811
):
    video = media_video_upload(membership=team.alice, file=_uploaded(videos["landscape"]))
    login(client, personas.alice)
    body = client.post(
        "/api/v1/posts/",
        {
            "title": "Video",
            "variants": [
                {
                    "channel_account": youtube_account.pk,
                    "language": "fi",
                    "text": "Uusi kirjasto",
                    "media": [{"asset": video.pk}],
                    "network_options": {
                        "title": "Uusi kirjasto",
                        "made_for_kids": False,
                        "privacy_status": "public",
                    },
                },
                {
                    "channel_account": personas.bob_account.pk,
                    "language": "fi",
                    "text": "Uusi kirjasto",
                    "media": [{"asset": video.pk}],
                },
            ],
        },
        content_type="application/json",
    ).json()
    by_account = {v["channel_account"]: v for v in body["variants"]}
    assert [m["asset"] for m in by_account[youtube_account.pk]["media"]] == [video.pk]
    youtube_problems = by_account[youtube_account.pk]["problems"]
    assert youtube_problems == ["The video landscape.mp4 has no captions in Finnish."]
    # The Sandbox takes no video: the API says so in words.
    assert (
        "This network does not take videos here."
        in (by_account[personas.bob_account.pk]["problems"])
    )
    theirs = media_video_upload(membership=team.charlie, file=_uploaded(videos["landscape"]))
    response = client.post(
        "/api/v1/posts/",
        {
            "title": "Video",
            "variants": [
                {
                    "channel_account": youtube_account.pk,
                    "language": "fi",
                    "text": "x",
                    "media": [{"asset": theirs.pk}],
                }
            ],
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "is not in your organization's media library" in response.content.decode()


def test_each_video_in_the_picker_says_whether_it_fits_that_versions_network(
    client, personas, team, login, media_root, tmp_path
):
    x_account = ChannelAccountFactory.create(organization=personas.org, network="x", handle="CityX")
    linkedin = ChannelAccountFactory.create(
        organization=personas.org, network="linkedin", handle="city-of-example"
    )
    short = media_video_upload(
        membership=team.alice, file=_uploaded(make_video(tmp_path / "lyhyt.mp4", seconds=2))
    )
    login(client, personas.alice)
    data = compose_data(
        {(x_account, "fi"): "Uusi kirjasto", (linkedin, "fi"): "Uusi kirjasto"}, action="refresh"
    )
    page = client.post(COMPOSE, data).content.decode()

    x_picker = page[page.index(f'id="id_v-{x_account.pk}-fi-video_1"') :]
    x_picker = x_picker[: x_picker.index("</label>")]
    assert "Fits X as it is." in x_picker
    linkedin_picker = page[page.index(f'id="id_v-{linkedin.pk}-fi-video_1"') :]
    linkedin_picker = linkedin_picker[: linkedin_picker.index("</label>")]
    assert "Does not fit LinkedIn:" in linkedin_picker
    assert "LinkedIn needs at least 3 seconds of video: make it longer." in linkedin_picker
    assert short.duration_ms is not None and short.duration_ms < 3000


def test_a_video_that_does_not_fit_says_where_to_make_a_copy_and_offers_a_finished_one(
    client,
    personas,
    team,
    login,
    media_root,
    tmp_path,
    videos,  # noqa: F811
):
    linkedin = ChannelAccountFactory.create(
        organization=personas.org, network="linkedin", handle="city-of-example"
    )
    short = media_video_upload(
        membership=team.alice, file=_uploaded(make_video(tmp_path / "lyhyt.mp4", seconds=2))
    )
    login(client, personas.alice)
    data = compose_data({(linkedin, "fi"): "Uusi kirjasto"}, action="refresh")

    def option(page: str, position: int) -> str:
        start = page.index(f'id="id_v-{linkedin.pk}-fi-video_{position}"')
        return page[start : page.index("</div>", start)]

    without = option(client.post(COMPOSE, data).content.decode(), 1)
    assert "Does not fit LinkedIn:" in without
    assert (
        f'<a href="/publishing/media/{short.pk}/#copies">'
        "Make a compatible copy of lyhyt.mp4 in the media library</a>"
    ) in without
    assert "Use its compatible copy" not in without
    # The copy the library page made (the worker's job, done), three seconds long: it fits.
    copy = media_video_upload(membership=team.alice, file=_uploaded(videos["landscape"]))
    VideoCopyJob.objects.create(
        organization=personas.org,
        source=short,
        kind=VideoCopyKind.TRANSCODE,
        status=VideoCopyStatus.DONE,
        progress_percent=100,
        result=copy,
    )
    page = client.post(COMPOSE, data).content.decode()
    original = option(page, 2)  # the newest first: the copy is the first video
    assert "lyhyt.mp4" in original and "Does not fit LinkedIn:" in original
    assert (
        f'<a href="#id_v-{linkedin.pk}-fi-video_1">'
        "Use its compatible copy landscape.mp4, which fits LinkedIn.</a>"
    ) in original
    assert f'/publishing/media/{short.pk}/#copies">Make a compatible copy' in original
    copy_option = option(page, 1)
    assert "Fits LinkedIn as it is." in copy_option
    assert "Make a compatible copy" not in copy_option
