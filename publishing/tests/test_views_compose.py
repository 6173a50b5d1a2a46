"""Compose: a post for several accounts and languages, counted and checked the way each
network counts and checks, with live counts, threads and library images."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError

from accounts.models import ChannelAccount
from governance.models import AuditEvent
from publishing.models import Post, PostStatus, PublishJob, Variant
from publishing.services.approval import post_approve
from publishing.services.posts import (
    post_create,
    post_schedule,
    post_submit_for_review,
    post_update,
    variant_save,
)
from publishing.tests.fixtures import approved, draft, make_image
from tests.factories import ChannelAccountFactory

pytestmark = pytest.mark.django_db

COMPOSE = "/publishing/posts/new/"
CHECK = "/publishing/posts/check/"
LINK = "https://www.example.org/news/2026/library-opening-hours-change"


def compose_data(
    texts: dict[tuple[ChannelAccount, str], str | list[str]], *, action: str = "save", **extra: Any
) -> dict[str, Any]:
    """What the compose form posts for these targets (a list of texts makes a thread)."""
    accounts: list[int] = []
    languages: list[str] = []
    data: dict[str, Any] = {"action": action, "title": "Library hours"}
    for (account, language), text in texts.items():
        if account.pk not in accounts:
            accounts.append(account.pk)
        if language not in languages:
            languages.append(language)
        posts = text if isinstance(text, list) else [text]
        prefix = f"v-{account.pk}-{language}"
        data[f"{prefix}-present"] = "1"
        data[f"{prefix}-parts"] = str(len(posts) - 1)
        data[f"{prefix}-text"] = posts[0]
        for number, part in enumerate(posts[1:], start=1):
            data[f"{prefix}-part_{number}"] = part
    data["accounts"] = accounts
    data["languages"] = languages
    data.update(extra)
    return data


@pytest.fixture
def mastodon_account(personas) -> ChannelAccount:
    return ChannelAccountFactory.create(
        organization=personas.org, network="mastodon", handle="city@mastodon.example"
    )


def test_compose_a_bilingual_post_for_two_accounts(client, personas, login, mastodon_account):
    login(client, personas.alice)
    sandbox = personas.bob_account
    data = compose_data(
        {
            (sandbox, "fi"): "Kirjasto aukeaa klo 9.",
            (sandbox, "sv"): "Biblioteket öppnar kl. 9.",
            (mastodon_account, "fi"): f"Kirjasto aukeaa klo 9. {LINK}",
            (mastodon_account, "sv"): f"Biblioteket öppnar kl. 9. {LINK}",
        }
    )
    response = client.post(COMPOSE, data)
    post = Post.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/publishing/posts/{post.pk}/"
    assert post.status == PostStatus.DRAFT
    assert post.title == "Library hours"
    variants = {(v.channel_account_id, v.language): v.text for v in post.variants.all()}
    assert variants == {
        (sandbox.pk, "fi"): "Kirjasto aukeaa klo 9.",
        (sandbox.pk, "sv"): "Biblioteket öppnar kl. 9.",
        (mastodon_account.pk, "fi"): f"Kirjasto aukeaa klo 9. {LINK}",
        (mastodon_account.pk, "sv"): f"Biblioteket öppnar kl. 9. {LINK}",
    }
    page = client.get(response["Location"]).content.decode()
    assert "Draft saved." in page
    assert 'lang="sv"' in page  # the Swedish preview is marked as Swedish
    assert "Biblioteket öppnar kl. 9." in page


def test_compose_page_offers_the_accounts_and_languages(client, personas, login):
    login(client, personas.alice)
    page = client.get(COMPOSE).content.decode()
    assert "city-news" in page and "city-mayor" in page
    assert 'value="fi"' in page and 'value="sv"' in page
    assert "Show texts for these accounts and languages" in page


def test_choosing_targets_shows_a_text_field_per_account_and_language(client, personas, login):
    login(client, personas.alice)
    data = {
        "action": "refresh",
        "accounts": [personas.bob_account.pk],
        "languages": ["fi", "sv"],
    }
    page = client.post(COMPOSE, data).content.decode()
    assert "Text in Finnish for city-news" in page
    assert "Text in Swedish for city-news" in page
    assert Post.objects.count() == 0


def test_counts_are_shown_the_way_each_network_counts(client, personas, login, mastodon_account):
    login(client, personas.alice)
    text = f"Lue lisää {LINK} 👍🏽"
    sandbox = personas.bob_account
    data = compose_data({(sandbox, "fi"): text, (mastodon_account, "fi"): text})

    # Mastodon counts the address as 23 characters; the Sandbox counts every grapheme.
    mastodon = client.post(CHECK, {**data, "check": f"{mastodon_account.pk}-fi"})
    assert mastodon.status_code == 200
    mastodon_page = mastodon.content.decode()
    assert "35 of 500 characters" in mastodon_page  # "Lue lisää " 10 + 23 + " 👍🏽" 2
    assert "Every web address counts as 23 characters." in mastodon_page
    assert f'id="preview-{mastodon_account.pk}-fi"' in mastodon_page
    assert 'hx-swap-oob="true"' in mastodon_page

    graphemes = 10 + len(LINK) + 2  # the emoji and its skin tone are one grapheme
    sandbox_page = client.post(CHECK, {**data, "check": f"{sandbox.pk}-fi"}).content.decode()
    assert f"{graphemes} of 500 characters" in sandbox_page
    assert "an emoji counts as one" in sandbox_page

    # The full page shows the same counts, one per variant, in a polite live region.
    page = client.post(COMPOSE, {**data, "action": "refresh"}).content.decode()
    assert "35 of 500 characters" in page
    assert f"{graphemes} of 500 characters" in page
    assert f'id="status-{mastodon_account.pk}-fi" aria-live="polite"' in page


def test_live_check_names_what_the_network_would_refuse(client, personas, login):
    login(client, personas.alice)
    data = compose_data({(personas.bob_account, "fi"): "x" * 510})
    page = client.post(CHECK, {**data, "check": f"{personas.bob_account.pk}-fi"}).content.decode()
    assert "510 of 500 characters" in page
    assert "(10 too many)" in page
    assert "The text is 510 characters long; the limit is 500." in page


def test_too_long_text_is_refused_with_the_networks_rule_in_words(client, personas, login):
    login(client, personas.alice)
    data = compose_data({(personas.bob_account, "fi"): "x" * 501}, action="submit")
    response = client.post(COMPOSE, data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "would refuse this" in page
    assert "The text is 501 characters long; the limit is 500." in page
    assert f'aria-describedby="v-{personas.bob_account.pk}-fi-errors"' in page
    assert Post.objects.count() == 0


def test_the_refused_text_box_says_it_is_invalid_and_the_summary_takes_focus(
    client, personas, login
):
    login(client, personas.alice)
    data = compose_data({(personas.bob_account, "fi"): "x" * 501}, action="submit")
    page = client.post(COMPOSE, data).content.decode()
    box = re.search(rf'<textarea[^>]*id="id_v-{personas.bob_account.pk}-fi-text"[^>]*>', page)
    assert box is not None
    assert 'aria-invalid="true"' in box.group(0)
    summary = page[page.index('class="form-errors error-summary"') :]
    assert 'tabindex="-1" data-focus-on-load' in summary[: summary.index(">")]


def test_a_draft_may_be_too_long_for_a_while(client, personas, login):
    login(client, personas.alice)
    response = client.post(COMPOSE, compose_data({(personas.bob_account, "fi"): "x" * 501}))
    assert response.status_code == 302
    post = Post.objects.get()
    page = client.get(f"/publishing/posts/{post.pk}/").content.decode()
    assert "The text is 501 characters long; the limit is 500." in page
    submit = client.post(f"/publishing/posts/{post.pk}/submit/", follow=True)
    assert "The text is 501 characters long" in submit.content.decode()
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT


def test_save_and_submit_sends_the_post_for_review(client, personas, login, team):
    login(client, personas.bob)
    data = compose_data({(personas.bob_account, "fi"): "Kirjasto aukeaa."}, action="submit")
    response = client.post(COMPOSE, data, follow=True)
    post = Post.objects.get()
    assert post.status == PostStatus.IN_REVIEW
    assert post.created_by == personas.bob
    assert "Saved and sent for review." in response.content.decode()


def test_bob_is_offered_only_the_account_he_may_use(client, personas, login):
    login(client, personas.bob)
    page = client.get(COMPOSE).content.decode()
    assert "city-news" in page
    assert "city-mayor" not in page
    # His only account is chosen for him, in the organization's languages.
    assert "Text in Finnish for city-news" in page
    assert "Text in Swedish for city-news" in page
    assert "Text in English for city-news" not in page


def test_crafted_post_for_an_account_bob_may_not_use_is_refused(client, personas, login):
    login(client, personas.bob)
    data = compose_data(
        {
            (personas.bob_account, "fi"): "Oma tili.",
            (personas.other_account, "fi"): "Pormestarin tili.",
        }
    )
    response = client.post(COMPOSE, data)
    assert response.status_code == 400
    assert "You cannot write posts for one of the chosen accounts." in response.content.decode()
    assert Post.objects.count() == 0
    assert not Variant.objects.filter(channel_account=personas.other_account).exists()


def test_live_check_of_an_account_bob_may_not_use_is_404(client, personas, login):
    login(client, personas.bob)
    data = compose_data({(personas.other_account, "fi"): "Hei"})
    response = client.post(CHECK, {**data, "check": f"{personas.other_account.pk}-fi"})
    assert response.status_code == 404


def test_an_auditor_cannot_compose(client, personas, login):
    login(client, personas.carol)
    assert client.get(COMPOSE).status_code == 403


def test_a_thread_grows_and_shrinks(client, personas, login):
    login(client, personas.alice)
    key = f"{personas.bob_account.pk}-fi"
    data = compose_data({(personas.bob_account, "fi"): ["First.", "Second."]})
    page = client.post(COMPOSE, {**data, "action": f"add_part:{key}"}).content.decode()
    assert "Post 3 of the thread in Finnish for city-news" in page
    assert f'id="id_v-{key}-part_2"' in page and "autofocus" in page

    data = compose_data({(personas.bob_account, "fi"): ["First.", "Second.", "Third."]})
    page = client.post(COMPOSE, {**data, "action": f"remove_part:{key}:1"}).content.decode()
    assert "Third." in page
    assert "Second." not in page

    client.post(COMPOSE, data)
    variant = Variant.objects.get()
    assert [part.text for part in variant.parts.all()] == ["Second.", "Third."]


def test_library_images_attach_to_a_variant(client, personas, login, team, media_root):
    image = make_image(team.alice, alt={"fi": "Kirjaston ovi"})
    login(client, personas.alice)
    data = compose_data({(personas.bob_account, "fi"): "Kuva."})
    data[f"v-{personas.bob_account.pk}-fi-media_0"] = [str(image.pk)]
    client.post(COMPOSE, data)
    variant = Variant.objects.get()
    assert [slot.asset_id for slot in variant.media.all()] == [image.pk]
    page = client.get(f"/publishing/posts/{variant.post_id}/").content.decode()
    assert f'src="/publishing/media/{image.pk}/file/" alt="Kirjaston ovi"' in page


def test_another_organizations_image_cannot_be_attached(client, personas, login, team, media_root):
    theirs = make_image(team.charlie)
    login(client, personas.alice)
    data = compose_data({(personas.bob_account, "fi"): "Kuva."})
    data[f"v-{personas.bob_account.pk}-fi-media_0"] = [str(theirs.pk)]
    response = client.post(COMPOSE, data)
    assert response.status_code == 400
    assert "That image is not in your organization" in response.content.decode()
    assert Post.objects.count() == 0


def test_a_new_target_starts_from_the_same_languages_text(client, personas, login):
    login(client, personas.alice)
    data = compose_data({(personas.bob_account, "fi"): "Sama teksti."})
    data["accounts"] = [personas.bob_account.pk, personas.other_account.pk]
    data["action"] = "refresh"
    page = client.post(COMPOSE, data).content.decode()
    assert page.count("Sama teksti.</textarea>") == 2


def test_edit_page_warns_that_an_approved_post_goes_back_to_review(client, personas, login, team):
    post = approved(team)
    login(client, personas.alice)
    page = client.get(f"/publishing/posts/{post.pk}/edit/").content.decode()
    assert "sends it back to review" in page
    assert "Save and send back to review" in page


def test_editing_an_approved_post_sends_it_back_to_review(client, personas, login, team):
    post = approved(team)
    login(client, personas.alice)
    data = compose_data({(team.account, "fi"): "Kirjasto aukeaa klo 10."})
    response = client.post(f"/publishing/posts/{post.pk}/edit/", data, follow=True)
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    assert "it went back to review" in response.content.decode()
    assert AuditEvent.objects.filter(action="post.returned_to_review").count() == 1


def test_saving_an_unchanged_approved_post_keeps_its_approval(client, personas, login, team):
    post = approved(team)
    login(client, personas.alice)
    data = compose_data({(team.account, "fi"): "Library opens at 9."}, title="New name")
    client.post(f"/publishing/posts/{post.pk}/edit/", data)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    assert post.title == "New name"


def test_editing_a_scheduled_post_takes_it_off_the_schedule(client, personas, login, team):
    post = approved(team)
    post_schedule(post=post, membership=team.eddie, at=post.created_at)
    login(client, personas.alice)
    data = compose_data({(team.account, "fi"): "Muutettu."})
    client.post(f"/publishing/posts/{post.pk}/edit/", data)
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    assert not post.jobs.filter(status="pending").exists()


def test_unchecking_a_language_removes_that_variant(client, personas, login, team):
    post = draft(team.alice, team.account, "Hei", language="fi")
    login(client, personas.alice)
    data = compose_data({(team.account, "sv"): "Hej"})
    client.post(f"/publishing/posts/{post.pk}/edit/", data)
    assert [v.language for v in post.variants.all()] == ["sv"]


def test_bob_editing_leaves_targets_he_cannot_see_alone(client, personas, login, team):
    post = draft(team.alice, team.account, "Hei")
    draft_other = post.variants.create(
        channel_account=team.other_account, language="fi", text="Pormestari"
    )
    login(client, personas.bob)
    page = client.get(f"/publishing/posts/{post.pk}/edit/").content.decode()
    assert "also goes to accounts you cannot write for" in page
    client.post(
        f"/publishing/posts/{post.pk}/edit/", compose_data({(team.account, "fi"): "Hei taas"})
    )
    assert Variant.objects.filter(pk=draft_other.pk).exists()
    assert post.variants.get(channel_account=team.account).text == "Hei taas"


def test_a_cancelled_post_cannot_be_edited(client, personas, login, team):
    post = draft(team.alice, team.account)
    post.status = PostStatus.CANCELLED
    post.save(update_fields=["status"])
    login(client, personas.alice)
    response = client.get(f"/publishing/posts/{post.pk}/edit/", follow=True)
    assert "cannot be edited" in response.content.decode()


def test_outsider_cannot_open_the_edit_page(client, personas, login, team):
    post = draft(team.alice, team.account)
    login(client, personas.charlie)
    assert client.get(f"/publishing/posts/{post.pk}/edit/").status_code == 404


@time_machine.travel(datetime(2026, 3, 1, 10, 0, tzinfo=UTC), tick=False)
def test_a_planned_time_is_stored_in_utc_and_audited(client, personas, login, team):
    login(client, team.eddie.user)
    data = compose_data({(team.account, "fi"): "Kirjasto aukeaa."}, planned_at="2026-03-10T09:30")
    response = client.post(COMPOSE, data)
    post = Post.objects.get()
    assert response.status_code == 302
    # 09:30 in Helsinki (UTC+2 in winter) is 07:30 UTC; a draft gets no publish jobs.
    assert post.scheduled_at == datetime(2026, 3, 10, 7, 30, tzinfo=UTC)
    assert post.status == PostStatus.DRAFT
    assert not PublishJob.objects.exists()
    created = AuditEvent.objects.get(action="post.created")
    assert created.new_values["scheduled_at"] == "2026-03-10T07:30:00+00:00"
    page = client.get(f"/publishing/posts/{post.pk}/edit/").content.decode()
    assert 'value="2026-03-10T09:30"' in page


@time_machine.travel(datetime(2026, 3, 1, 10, 0, tzinfo=UTC), tick=False)
def test_changing_the_planned_time_is_audited_with_old_and_new(client, personas, login, team):
    post = draft(team.eddie, team.account, "Kirjasto aukeaa.")
    login(client, team.eddie.user)
    data = compose_data(
        {(team.account, "fi"): "Kirjasto aukeaa."}, title=post.title, planned_at="2026-03-12T14:00"
    )
    client.post(f"/publishing/posts/{post.pk}/edit/", data)
    post.refresh_from_db()
    assert post.scheduled_at == datetime(2026, 3, 12, 12, 0, tzinfo=UTC)
    updated = AuditEvent.objects.get(action="post.updated")
    assert updated.old_values["scheduled_at"] is None
    assert updated.new_values["scheduled_at"] == "2026-03-12T12:00:00+00:00"


@time_machine.travel(datetime(2026, 3, 1, 10, 0, tzinfo=UTC), tick=False)
def test_a_planned_time_in_the_past_is_refused(client, personas, login, team):
    login(client, team.eddie.user)
    data = compose_data({(team.account, "fi"): "Myöhässä."}, planned_at="2026-02-27T09:00")
    response = client.post(COMPOSE, data)
    assert response.status_code == 400
    assert "That time has already passed. Choose a time from now on." in response.content.decode()
    assert not Post.objects.exists()


def test_a_planned_time_prefills_publish_at_once_approved(client, personas, login, team):
    with time_machine.travel(datetime(2026, 3, 1, 10, 0, tzinfo=UTC), tick=False):
        post = post_create(
            membership=team.eddie, planned_at=datetime(2026, 3, 10, 7, 30, tzinfo=UTC)
        )
        variant_save(
            post=post,
            membership=team.eddie,
            channel_account=team.account,
            language="fi",
            text="Kirjasto aukeaa.",
        )
        post_submit_for_review(post=post, membership=team.eddie)
        post_approve(post=post, membership=team.rita)
        login(client, team.eddie.user)
        page = client.get(f"/publishing/posts/{post.pk}/").content.decode()
    assert 'name="at" value="2026-03-10T09:30"' in page
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    assert post.scheduled_at == datetime(2026, 3, 10, 7, 30, tzinfo=UTC)


def test_a_scheduled_posts_compose_page_has_no_planned_time(client, personas, login, team):
    post = approved(team)
    post_schedule(post=post, membership=team.eddie, at=post.created_at)
    login(client, personas.alice)
    page = client.get(f"/publishing/posts/{post.pk}/edit/").content.decode()
    assert "Planned publication time" not in page
    with pytest.raises(ValidationError):
        post_update(post=post, membership=team.eddie, planned_at=None)


def test_a_new_post_starts_in_the_organizations_languages(client, personas, login):
    login(client, personas.alice)
    page = client.get(COMPOSE).content.decode()
    # A Finnish organization writes in Finnish and Swedish, whatever the interface says.
    assert re.search(r'value="fi"[^>]*checked', page)
    assert re.search(r'value="sv"[^>]*checked', page)
    assert not re.search(r'value="en"[^>]*checked', page)


def test_an_admin_chooses_the_languages_new_posts_start_with(client, personas, login):
    login(client, personas.alice)
    rules = client.get("/publishing/rules/").content.decode()
    assert "Languages a new post starts with" in rules
    client.post(
        "/publishing/rules/",
        {"require_alt_text": "on", "late_cutoff_minutes": "30", "post_languages": ["sv", "en"]},
    )
    login(client, personas.bob)
    page = client.get(COMPOSE).content.decode()
    assert "Text in Swedish for city-news" in page
    assert "Text in English for city-news" in page
    assert "Text in Finnish for city-news" not in page
    assert page.index("Text in English") < page.index("Text in Swedish")  # the site's order
