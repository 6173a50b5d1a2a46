"""An editor picks a captioned library video for the city's YouTube channel in the
composer, in a real browser: the picker shows the poster and the length, the page
passes axe, and the post goes to review with the video on it."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import File
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.models import Role
from publishing.models import Post, PostStatus
from publishing.services.video import media_caption_set, media_video_upload
from publishing.tests.video_files import make_video
from tests.browser.conftest import settle, visit
from tests.browser.test_publishing_compose import log_in
from tests.factories import (
    ChannelAccountFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SRT = "1\n00:00:00,500 --> 00:00:01,500\nTervetuloa kirjastoon.\n"


def test_an_editor_picks_a_captioned_video_for_youtube(
    page: Any, live_server: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    org = OrganizationFactory.create(name="City of Example", slug="example")
    eeva = UserFactory.create(email="eeva@example.org", full_name="Eeva Editor")
    editor = MembershipFactory.create(organization=org, user=eeva, role=Role.EDITOR)
    account = ChannelAccountFactory.create(
        organization=org, network="youtube", handle="CityLibrary", display_name="City Library"
    )
    path = make_video(tmp_path / "kirjasto.mp4", seconds=3)
    with path.open("rb") as handle:
        video = media_video_upload(membership=editor, file=File(handle, name="kirjasto.mp4"))
    for language in ("fi", "sv"):
        media_caption_set(
            asset=video,
            membership=editor,
            language=language,
            file=SimpleUploadedFile(f"{language}.srt", SRT.encode()),
        )

    log_in(page, eeva)
    visit(page, "/publishing/posts/new/")
    page.get_by_label("Internal title").fill("Library video")
    for language, name, text in (
        ("fi", "Finnish", "Uusi kirjasto avataan"),
        ("sv", "Swedish", "Nya biblioteket öppnar"),
    ):
        variant = page.locator(f"#variant-{account.pk}-{language}")
        variant.get_by_label(f"Text in {name} for CityLibrary").fill(text)
        variant.locator("summary", has_text="Video (none chosen)").click()
        poster = variant.locator(f"img[src='/publishing/media/{video.pk}/poster/']")
        assert poster.is_visible()
        option = variant.get_by_label("kirjasto.mp4")
        assert (
            "Length 0:03"
            in variant.locator(f"label[for='{option.get_attribute('id')}']").inner_text()
        )
        option.check()
        # YouTube's own required choices: a title, whether it is made for kids, and who
        # can watch it.
        variant.get_by_label(f"Video title ({name}, CityLibrary)").fill("Uusi kirjasto")
        variant.get_by_label("No, it is not").check()
        variant.get_by_label(f"Who can watch it on YouTube ({name}, CityLibrary)").select_option(
            label="Public"
        )
    page.axe.check()  # the page with the pickers open

    page.get_by_role("button", name="Save and submit for review").click()
    settle(page)
    assert page.get_by_text("Saved and sent for review.").is_visible()
    post = Post.objects.get()
    assert post.status == PostStatus.IN_REVIEW
    assert {
        (variant.language, tuple(slot.asset_id for slot in variant.media.all()))
        for variant in post.variants.all()
    } == {("fi", (video.pk,)), ("sv", (video.pk,))}


def test_the_composer_offers_a_video_for_x_and_linkedin_with_each_networks_verdict(
    page: Any, live_server: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    org = OrganizationFactory.create(name="City of Example", slug="example")
    eeva = UserFactory.create(email="eeva@example.org", full_name="Eeva Editor")
    editor = MembershipFactory.create(organization=org, user=eeva, role=Role.EDITOR)
    x_account = ChannelAccountFactory.create(
        organization=org, network="x", handle="KaupunkiX", display_name="Kaupunki"
    )
    linkedin = ChannelAccountFactory.create(
        organization=org, network="linkedin", handle="esimerkin-kaupunki", display_name="Kaupunki"
    )
    clips = {
        name: make_video(tmp_path / name, seconds=seconds, size=size)
        for name, seconds, size in (("kirjasto.mp4", 4, "640x360"), ("lyhyt.mp4", 2, "320x240"))
    }
    library = {}
    for name, path in clips.items():
        with path.open("rb") as handle:
            library[name] = media_video_upload(membership=editor, file=File(handle, name=name))
        media_caption_set(
            asset=library[name],
            membership=editor,
            language="fi",
            file=SimpleUploadedFile("fi.srt", SRT.encode()),
        )

    log_in(page, eeva)
    visit(page, "/publishing/posts/new/")
    page.get_by_label("Internal title").fill("Kirjaston video")
    page.get_by_label("Swedish", exact=True).uncheck()
    page.get_by_label("KaupunkiX · X").check()
    page.get_by_label("Text in Finnish for KaupunkiX").wait_for()
    page.get_by_label("esimerkin-kaupunki · LinkedIn").check()
    page.get_by_label("Text in Finnish for esimerkin-kaupunki").wait_for()

    verdicts = {
        ("X", "kirjasto.mp4"): "Fits X as it is.",
        ("X", "lyhyt.mp4"): "Fits X as it is.",
        ("LinkedIn", "kirjasto.mp4"): "Fits LinkedIn as it is.",
        ("LinkedIn", "lyhyt.mp4"): (
            "Does not fit LinkedIn: LinkedIn needs at least 3 seconds of video: make it longer."
        ),
    }
    for account, network in ((x_account, "X"), (linkedin, "LinkedIn")):
        # Each account's texts are a tab of their own.
        page.get_by_role("tab", name=f"{account.handle} ({network})").click()
        variant = page.locator(f"#variant-{account.pk}-fi")
        variant.get_by_label(f"Text in Finnish for {account.handle}").fill(
            "Uusi kirjasto avataan maanantaina."
        )
        variant.locator("summary", has_text="Video (none chosen)").click()
        for name in clips:
            option = variant.get_by_label(name)
            label = variant.locator(f"label[for='{option.get_attribute('id')}']")
            assert verdicts[(network, name)] in " ".join(label.inner_text().split())
        # What to do about the one that does not fit: the library page's copies section.
        advice = variant.get_by_role("link", name="Make a compatible copy of lyhyt.mp4")
        if network == "LinkedIn":
            assert advice.get_attribute("href") == (
                f"/publishing/media/{library['lyhyt.mp4'].pk}/#copies"
            )
        else:
            assert advice.count() == 0
        variant.get_by_label("kirjasto.mp4").check()
        page.axe.check()  # the page with the picker open and its verdicts

    page.get_by_role("button", name="Save and submit for review").click()
    settle(page)
    assert page.get_by_text("Saved and sent for review.").is_visible()
    post = Post.objects.get()
    assert post.status == PostStatus.IN_REVIEW
    chosen = library["kirjasto.mp4"].pk
    assert {
        (variant.channel_account_id, tuple(slot.asset_id for slot in variant.media.all()))
        for variant in post.variants.all()
    } == {(x_account.pk, (chosen,)), (linkedin.pk, (chosen,))}
