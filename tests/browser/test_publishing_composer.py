"""The composer on a laptop screen (1366 by 900): an editor of a Finnish city writes a
Finnish and Swedish post for two accounts, switching accounts in place, uploads an image
with the file button, describes it in both languages right there, sees each network's
preview, and sends it for review. A missing Swedish description is caught when the post
is submitted, not first at scheduling: the error summary takes the focus and its link
puts the focus in the field to fix."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from governance.models import Role
from publishing.models import MediaAsset, Post, PostStatus
from tests.browser.conftest import settle, visit
from tests.browser.test_publishing_compose import log_in
from tests.factories import (
    ChannelAccountFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FI_TEXT = "Kirjasto aukeaa maanantaina klo 9. #kirjasto https://example.org/kirjasto"
SV_TEXT = "Biblioteket öppnar på måndag kl. 9. #bibliotek"


def jpeg(tmp_path: Any) -> Any:
    target = tmp_path / "library-door.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 800), "teal").save(buffer, format="JPEG")
    target.write_bytes(buffer.getvalue())
    return target


def focused_id(page: Any) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.id"))


def test_a_bilingual_post_for_two_accounts_with_an_uploaded_image(
    page, live_server, tmp_path, settings
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    org = OrganizationFactory.create(name="City of Example", slug="example", default_language="fi")
    eeva = UserFactory.create(email="eeva@example.org", full_name="Eeva Editor")
    MembershipFactory.create(organization=org, user=eeva, role=Role.EDITOR)
    practice = ChannelAccountFactory.create(
        organization=org, network="sandbox", handle="city-practice", display_name="City Practice"
    )
    mastodon = ChannelAccountFactory.create(
        organization=org, network="mastodon", handle="city@mastodon.example", display_name="City"
    )
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, eeva)
    visit(page, "/publishing/posts/new/")

    # A Finnish organization starts in Finnish and Swedish, not in English.
    assert page.get_by_label("Finnish", exact=True).is_checked()
    assert page.get_by_label("Swedish", exact=True).is_checked()
    assert not page.get_by_label("English", exact=True).is_checked()

    # Accounts switch in place: no page load, and a text already typed stays.
    loads = len(page.axe.loaded)
    page.get_by_label("city-practice · Sandbox").check()
    page.get_by_label("Text in Finnish for city-practice").fill(FI_TEXT)
    page.get_by_label("city@mastodon.example · Mastodon").check()
    page.get_by_label("Text in Swedish for city@mastodon.example").wait_for()
    assert len(page.axe.loaded) == loads
    assert page.get_by_label("Text in Finnish for city-practice").input_value() == FI_TEXT
    # The new account starts from the text already written in the same language, and its
    # texts show; each account's texts are a tab.
    assert page.get_by_label("Text in Finnish for city@mastodon.example").input_value() == FI_TEXT
    mastodon_tab = page.get_by_role("tab", name="city@mastodon.example (Mastodon)")
    assert mastodon_tab.get_attribute("aria-selected") == "true"
    page.get_by_label("Text in Swedish for city@mastodon.example").fill(SV_TEXT)
    mastodon_tab.focus()
    page.keyboard.press("ArrowRight")  # the keyboard moves between the tabs
    practice_tab = page.get_by_role("tab", name="city-practice (Sandbox")
    assert practice_tab.get_attribute("aria-selected") == "true"
    assert not page.get_by_label("Text in Swedish for city@mastodon.example").is_visible()
    page.get_by_label("Text in Swedish for city-practice").fill(SV_TEXT)
    page.get_by_label("Internal title").fill("Opening hours")

    # The image goes up with the file button (the keyboard's way), announced as it goes.
    page.get_by_label("Add images from your computer").set_input_files(str(jpeg(tmp_path)))
    status = page.locator("#compose-upload-status")
    status.get_by_text("library-door.jpg is attached.").wait_for()
    assert status.get_attribute("aria-live") == "polite"
    assert MediaAsset.objects.filter(organization=org).count() == 1
    page.get_by_label("Alt text in Finnish").fill("Kirjaston pääovi aamulla")

    # Each account's preview looks like its network: name, initials, marked #tags, the image.
    fi_preview = page.locator(f"#preview-{mastodon.pk}-fi")
    fi_preview.locator("img[alt='Kirjaston pääovi aamulla']").wait_for()
    assert fi_preview.locator(".preview-avatar").inner_text() == "C"
    assert fi_preview.locator(".preview-tag").inner_text() == "#kirjasto"
    sv_preview = page.locator(f"#preview-{practice.pk}-sv")
    assert "#bibliotek" in sv_preview.locator(".preview-tag").inner_text()
    page.locator(f"#status-{mastodon.pk}-fi").get_by_text("of 500 characters").wait_for()
    page.axe.check()  # the page as htmx and the upload left it

    # Submitting without the Swedish description: the summary says so and links to it.
    page.get_by_role("button", name="Save and submit for review").click()
    settle(page)
    summary = page.locator(".error-summary")
    assert focused_id(page) == "" and page.evaluate(
        "document.activeElement.classList.contains('error-summary')"
    )
    link = summary.get_by_role("link", name="library-door.jpg (Swedish)")
    assert "has no alt text in Swedish" in link.inner_text()
    link.click()
    swedish_alt = page.get_by_label("Alt text in Swedish")
    alt_id = swedish_alt.get_attribute("id")
    assert focused_id(page) == alt_id
    assert swedish_alt.get_attribute("aria-invalid") == "true"
    assert swedish_alt.get_attribute("aria-describedby") == f"{alt_id}-error"
    assert Post.objects.count() == 0
    # Nothing typed was lost.
    assert page.get_by_label("Text in Swedish for city-practice").input_value() == SV_TEXT
    assert page.get_by_label("Alt text in Finnish").input_value() == "Kirjaston pääovi aamulla"

    swedish_alt.fill("Bibliotekets huvuddörr på morgonen")
    sv_image = f"#preview-{practice.pk}-sv img[alt='Bibliotekets huvuddörr på morgonen']"
    page.locator(sv_image).wait_for()
    # Editor and preview share one screen.
    submit = page.get_by_role("button", name="Save and submit for review").bounding_box()
    preview = page.locator("#compose-side").bounding_box()
    assert preview["x"] > submit["x"] + 400  # the preview column is beside the editor
    page.axe.check()
    page.get_by_role("button", name="Save and submit for review").click()
    settle(page)
    assert page.get_by_text("Saved and sent for review.").is_visible()
    post = Post.objects.get()
    assert post.status == PostStatus.IN_REVIEW
    variants = list(post.variants.all())
    assert {(v.channel_account_id, v.language) for v in variants} == {
        (practice.pk, "fi"), (practice.pk, "sv"), (mastodon.pk, "fi"), (mastodon.pk, "sv"),
    }  # fmt: skip
    assert all(v.media.count() == 1 for v in variants)
    image = MediaAsset.objects.get()
    assert image.alt_text_for("sv") == "Bibliotekets huvuddörr på morgonen"
    assert image.alt_text_for("fi") == "Kirjaston pääovi aamulla"


DROP = """([name, type, base64]) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], name, {type}));
    const zone = document.querySelector("[data-drop-zone]");
    const init = {dataTransfer: data, bubbles: true, cancelable: true};
    zone.dispatchEvent(new DragEvent("dragover", init));
    zone.dispatchEvent(new DragEvent("drop", init));
}"""


def test_images_dropped_on_the_composer_and_a_language_switched_off_and_on(
    page, live_server, tmp_path, settings
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    org = OrganizationFactory.create(name="City of Example", slug="example", default_language="fi")
    eeva = UserFactory.create(email="eeva@example.org", full_name="Eeva Editor")
    MembershipFactory.create(organization=org, user=eeva, role=Role.EDITOR)
    ChannelAccountFactory.create(organization=org, network="sandbox", handle="city-practice")
    ChannelAccountFactory.create(organization=org, network="sandbox", handle="city-news")
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, eeva)
    visit(page, "/publishing/posts/new/")
    page.get_by_label("city-practice · Sandbox").check()
    page.get_by_label("Text in Swedish for city-practice").fill(SV_TEXT)

    # A dropped file that is not an image is refused beside the file button, and said.
    page.evaluate(DROP, ["minutes.pdf", "image/png", base64.b64encode(b"%PDF-1.4").decode()])
    errors = page.locator("#compose-images-errors")
    errors.get_by_text("minutes.pdf: This file is not an image we can read.").wait_for()
    assert (
        "minutes.pdf could not be uploaded." in page.locator("#compose-upload-status").inner_text()
    )
    assert (
        page.get_by_label("Add images from your computer").get_attribute("aria-invalid") == "true"
    )
    # A dropped image is attached, with an alt text field per language of the post.
    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), "orange").save(buffer, format="PNG")
    page.evaluate(DROP, ["sun.png", "image/png", base64.b64encode(buffer.getvalue()).decode()])
    page.locator("#compose-upload-status").get_by_text("sun.png is attached.").wait_for()
    page.get_by_label("Alt text in Swedish").fill("En orange sol")
    page.axe.check()

    # Swedish off and on again: its text and its alt text come back.
    page.get_by_label("Swedish", exact=True).uncheck()
    page.get_by_label("Text in Swedish for city-practice").wait_for(state="detached")
    assert page.get_by_label("Alt text in Swedish").count() == 0
    page.get_by_label("Swedish", exact=True).check()
    # (restored once htmx has settled the swap, hence the retrying expectations)
    expect(page.get_by_label("Text in Swedish for city-practice")).to_have_value(SV_TEXT)
    expect(page.get_by_label("Alt text in Swedish")).to_have_value("En orange sol")
    # An account off and on again keeps its own text, not a copy of the other account's.
    page.get_by_label("city-news · Sandbox").check()
    news_swedish = page.get_by_label("Text in Swedish for city-news")
    assert news_swedish.input_value() == SV_TEXT  # started from the same language's text
    news_swedish.fill("Egen text för nyheterna.")
    page.get_by_label("city-news · Sandbox").uncheck()
    news_swedish.wait_for(state="detached")
    page.get_by_label("city-news · Sandbox").check()
    expect(news_swedish).to_have_value("Egen text för nyheterna.")
    page.get_by_label("city-news · Sandbox").uncheck()
    news_swedish.wait_for(state="detached")

    # Removing the image says so and gives the focus back to the file button.
    page.get_by_role("button", name="Remove sun.png").click()
    page.locator("#compose-upload-status").get_by_text("sun.png is no longer attached.").wait_for()
    assert focused_id(page) == "compose-upload"
    assert page.locator("#compose-images-list li").count() == 0
    page.axe.check()
