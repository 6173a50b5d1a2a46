"""Posts in any language: the organization's list of BCP 47 tags, names in the reader's
language, right-to-left text, and approval of each language version on its own."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from governance.models import AuditEvent, Role
from publishing.languages import (
    language_direction,
    language_label,
    normalise_language_tag,
    organization_language_codes,
    search_languages,
)
from publishing.models import ApprovalDecision, Post, PostStatus
from publishing.services.approval import StageInput, approval_policy_save, post_approve
from publishing.services.org_settings import post_language_add, reviewer_languages_set
from publishing.services.posts import post_submit_for_review, variant_save
from publishing.tests.fixtures import Team, draft
from publishing.tests.test_views_compose import compose_data
from publishing.validation import publishing_rules
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

LANGUAGES = "/publishing/languages/"
COMPOSE = "/publishing/posts/new/"


# --- tags and names ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "tag"),
    [
        ("FI", "fi"),
        ("se", "se"),
        ("ar", "ar"),
        ("UK", "uk"),
        ("sr-latn", "sr-Latn"),
        ("sv_FI", "sv-FI"),
        ("iw", "he"),
        (" tr ", "tr"),
        ("id", "id"),
    ],
)
def test_tags_are_normalised(typed, tag):
    assert normalise_language_tag(typed) == tag


@pytest.mark.parametrize("typed", ["", "xx-yy", "zz", "bogus!!", "finnish", "a" * 50])
def test_a_bad_tag_is_refused_with_a_clear_error(typed):
    with pytest.raises(ValidationError) as error:
        normalise_language_tag(typed)
    assert error.value.messages[0]


def test_names_in_the_readers_language_with_the_native_name():
    assert language_label("ar", "en") == "Arabic — العربية"
    assert language_label("ar", "fi") == "Arabia — العربية"
    assert language_label("ar", "sv") == "Arabiska — العربية"
    assert language_label("se", "en") == "Northern Sami — Davvisámegiella"
    assert language_label("se", "fi") == "Pohjoissaame — Davvisámegiella"
    # The interface's own languages go by their name, as before.
    assert language_label("fi", "fi") == "suomi"
    assert language_label("sv", "en") == "Swedish"
    assert language_label("uk", "sv") == "Ukrainska — Українська"


def test_writing_direction():
    assert language_direction("ar") == "rtl"
    assert language_direction("he") == "rtl"
    assert language_direction("fi") == "ltr"
    assert language_direction("se") == "ltr"


def test_search_by_name_in_any_of_the_names():
    assert "se" in search_languages("sami", "en")
    assert "ar" in search_languages("arabia", "fi")
    assert "uk" in search_languages("українська", "en")
    assert search_languages("a", "en") == []


# --- the organization's list ---------------------------------------------------------------


def test_admin_adds_a_language_by_tag(client, personas, login, team):
    login(client, personas.alice)
    response = client.post(LANGUAGES, {"action": "add", "language": "AR"}, follow=True)
    page = response.content.decode()
    assert "Arabic — العربية was added." in page
    assert publishing_rules(personas.org.pk).languages == ["en", "fi", "sv", "ar"]
    assert re.search(r'data-language="ar">\s*<td>Arabic — العربية</td>', page)
    assert "Right to left" in page
    event = AuditEvent.objects.get(action="publishing_settings.language_added")
    assert event.new_values == {"languages": ["en", "fi", "sv", "ar"]}


def test_names_on_the_page_follow_the_interface_language(client, personas, login, team):
    post_language_add(membership=team.alice, tag="se")
    login(client, personas.alice)
    page = client.get(LANGUAGES, HTTP_ACCEPT_LANGUAGE="fi").content.decode()
    with translation.override("fi"):
        assert language_label("se") in page
    assert "Pohjoissaame — Davvisámegiella" in page
    page = client.get(LANGUAGES, HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "Nordsamiska — Davvisámegiella" in page


def test_a_bad_tag_is_a_400_with_the_reason_not_a_500(client, personas, login):
    login(client, personas.alice)
    response = client.post(LANGUAGES, {"action": "add", "language": "xx-yy!!"})
    assert response.status_code == 400
    assert "is not a language tag (BCP 47)" in response.content.decode()
    assert publishing_rules(personas.org.pk).languages == []


def test_a_name_offers_the_languages_it_matches(client, personas, login):
    login(client, personas.alice)
    response = client.post(LANGUAGES, {"action": "add", "language": "Sami"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Add Northern Sami — Davvisámegiella (se)" in page
    assert "Add Inari Sami — Anarâškielâ (smn)" in page
    response = client.post(LANGUAGES, {"action": "add", "language": "se"}, follow=True)
    assert publishing_rules(personas.org.pk).languages[-1] == "se"


def test_a_language_already_on_the_list_is_refused(client, personas, login):
    login(client, personas.alice)
    response = client.post(LANGUAGES, {"action": "add", "language": "FI"})
    assert response.status_code == 400
    assert "fi is already one of the languages of posts." in response.content.decode()


def test_removing_a_language(client, personas, login, team):
    post_language_add(membership=team.alice, tag="ar")
    login(client, personas.alice)
    client.post(LANGUAGES, {"action": "remove", "tag": "en"})
    assert publishing_rules(personas.org.pk).languages == ["fi", "sv", "ar"]
    assert AuditEvent.objects.filter(action="publishing_settings.language_removed").exists()


def test_only_admins_change_the_languages(client, personas, login, team):
    login(client, personas.bob)
    assert client.get(LANGUAGES).status_code == 403
    assert client.post(LANGUAGES, {"action": "add", "language": "ar"}).status_code == 403
    with pytest.raises(PermissionDenied):
        post_language_add(membership=team.bob, tag="ar")


def test_another_organizations_list_is_its_own(client, personas, login, team):
    post_language_add(membership=team.alice, tag="ar")
    login(client, personas.charlie)
    page = client.get(LANGUAGES).content.decode()
    assert "العربية" not in page
    assert publishing_rules(personas.other_org.pk).languages == []


def test_a_reviewer_of_another_organization_cannot_be_limited(client, personas, login, team):
    login(client, personas.alice)
    response = client.post(
        LANGUAGES, {"action": "reviewer", "reviewer": team.charlie.pk, "languages": ["sv"]}
    )
    assert response.status_code == 400
    with pytest.raises(PermissionDenied):
        reviewer_languages_set(membership=team.alice, reviewer=team.charlie, languages=["sv"])


# --- the composer ---------------------------------------------------------------------------


def test_the_composer_offers_the_organizations_languages(client, personas, login, team):
    post_language_add(membership=team.alice, tag="ar")
    login(client, personas.bob)
    page = client.get(COMPOSE).content.decode()
    assert re.search(r'name="languages" value="ar"[^>]*>\s*Arabic — العربية', page)


def test_arabic_is_written_and_previewed_right_to_left(client, personas, login, team):
    post_language_add(membership=team.alice, tag="ar")
    login(client, personas.bob)
    data = compose_data(
        {
            (personas.bob_account, "fi"): "Kirjasto aukeaa.",
            (personas.bob_account, "ar"): "تفتح المكتبة",
        }
    )
    response = client.post(COMPOSE, data, follow=True)
    post = Post.objects.get()
    assert sorted(post.variants.values_list("language", flat=True)) == ["ar", "fi"]
    page = client.get(f"/publishing/posts/{post.pk}/edit/").content.decode()
    textarea = re.search(r'<textarea[^>]*name="v-\d+-ar-text"[^>]*>', page)
    assert textarea and 'dir="rtl"' in textarea[0] and 'lang="ar"' in textarea[0]
    finnish = re.search(r'<textarea[^>]*name="v-\d+-fi-text"[^>]*>', page)
    assert finnish and 'dir="ltr"' in finnish[0] and 'lang="fi"' in finnish[0]
    detail = client.get(f"/publishing/posts/{post.pk}/").content.decode()
    assert '<div class="preview-post" lang="ar" dir="rtl">' in detail
    assert '<div class="preview-post" lang="fi" dir="ltr">' in detail
    assert response.status_code == 200


def test_characters_of_any_script_are_counted(client, personas, login, team):
    post_language_add(membership=team.alice, tag="ar")
    post = draft(team.eddie, team.account, "تفتح المكتبة", language="ar")
    variant = post.variants.get()
    assert variant.language == "ar"
    login(client, personas.alice)
    page = client.get(f"/publishing/posts/{post.pk}/edit/").content.decode()
    # "تفتح المكتبة" is 12 characters, counted as such (not in bytes).
    assert re.search(r"\b12 of \d+ characters", page)


# --- approval of each language version -----------------------------------------------------


@pytest.fixture
def sven(personas):
    return MembershipFactory(
        organization=personas.org,
        user=UserFactory(email="sven@example.org", full_name="Sven Translator"),
        role=Role.REVIEWER,
    )


def _bilingual_in_review(team: Team, *, per_language: bool = True) -> Post:
    approval_policy_save(
        membership=team.alice,
        name="Translations",
        per_language=per_language,
        stages=[StageInput(name="Language check", role=Role.REVIEWER)],
    )
    post = draft(team.eddie, team.account, "Kirjasto aukeaa.", language="fi")
    variant_save(
        post=post,
        membership=team.eddie,
        channel_account=team.account,
        language="sv",
        text="Biblioteket öppnar.",
    )
    post_submit_for_review(post=post, membership=team.eddie)
    post.refresh_from_db()
    return post


def test_each_language_version_is_approved_on_its_own(team, sven):
    reviewer_languages_set(membership=team.alice, reviewer=sven, languages=["sv"])
    limit = AuditEvent.objects.get(action="publishing_settings.reviewer_languages_changed")
    assert (limit.old_values, limit.new_values) == ({"languages": []}, {"languages": ["sv"]})
    post = _bilingual_in_review(team)
    post_approve(post=post, membership=sven, language="sv")
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    with pytest.raises(PermissionDenied, match="Finnish version"):
        post_approve(post=post, membership=sven, language="fi")
    post_approve(post=post, membership=team.rita, language="fi")
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    assert sorted(ApprovalDecision.objects.values_list("language", "reviewer__email")) == [
        ("fi", "rita@example.org"),
        ("sv", "sven@example.org"),
    ]
    events = AuditEvent.objects.filter(action="post.language_approved").order_by("pk")
    assert [e.new_values["languages"] for e in events] == [["sv"], ["fi"]]


def test_a_reviewer_limited_to_swedish_approves_only_swedish(team, sven):
    reviewer_languages_set(membership=team.alice, reviewer=sven, languages=["sv"])
    post = _bilingual_in_review(team)
    # Approving without naming a language approves what they may: Swedish.
    post_approve(post=post, membership=sven)
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    assert list(ApprovalDecision.objects.values_list("language", flat=True)) == ["sv"]
    with pytest.raises(PermissionDenied):
        post_approve(post=post, membership=sven)


def test_a_limited_reviewer_does_not_approve_a_whole_post_in_other_languages(team, sven):
    reviewer_languages_set(membership=team.alice, reviewer=sven, languages=["sv"])
    post = _bilingual_in_review(team, per_language=False)
    with pytest.raises(PermissionDenied):
        post_approve(post=post, membership=sven)


def test_without_the_option_one_approval_approves_every_language(team):
    post = _bilingual_in_review(team, per_language=False)
    post_approve(post=post, membership=team.rita)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED


def test_a_language_the_post_lacks_is_a_clear_error(team):
    post = _bilingual_in_review(team)
    with pytest.raises(ValidationError, match="no Arabic version"):
        post_approve(post=post, membership=team.rita, language="ar")


def test_review_page_shows_per_language_buttons_and_state(client, login, team, sven):
    reviewer_languages_set(membership=team.alice, reviewer=sven, languages=["sv"])
    post = _bilingual_in_review(team)
    login(client, sven.user)
    page = client.get(f"/publishing/posts/{post.pk}/").content.decode()
    assert 'value="approve:sv">Approve Swedish</button>' in page
    assert 'value="approve:fi"' not in page
    review = f"/publishing/posts/{post.pk}/review/"
    response = client.post(review, {"decision": "approve:fi", "comment": ""})
    assert response.status_code == 403
    assert "You cannot approve the Finnish version of this post now." in response.content.decode()
    response = client.post(review, {"decision": "approve:sv", "comment": "Bra."}, follow=True)
    page = response.content.decode()
    assert "You approved the Swedish version." in page
    assert re.search(r'data-language="sv">.*?Approved by Sven Translator', page, re.S)
    assert re.search(r'data-language="fi">.*?Waiting for review', page, re.S)
    login(client, team.rita.user)
    page = client.get(f"/publishing/posts/{post.pk}/").content.decode()
    assert 'value="approve:fi">Approve Finnish</button>' in page
    client.post(review, {"decision": "approve:fi", "comment": ""})
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED


def test_a_bad_language_in_the_review_form_is_a_400(client, login, team):
    post = _bilingual_in_review(team)
    login(client, team.rita.user)
    review = f"/publishing/posts/{post.pk}/review/"
    assert client.post(review, {"decision": "approve:!!", "comment": ""}).status_code == 400
    assert client.post(review, {"decision": "request_changes:sv"}).status_code == 400


def test_another_organizations_post_is_a_404(client, login, personas, team):
    post = _bilingual_in_review(team)
    login(client, personas.charlie)
    review = f"/publishing/posts/{post.pk}/review/"
    assert client.post(review, {"decision": "approve:sv", "comment": ""}).status_code == 404


def test_policy_form_sets_the_option(client, login, personas, team):
    login(client, personas.alice)
    data = {
        "name": "Translations",
        "channel_account": "",
        "per_language": "on",
        "stages-TOTAL_FORMS": "1",
        "stages-INITIAL_FORMS": "0",
        "stages-0-name": "Language check",
        "stages-0-role": Role.REVIEWER,
        "action": "save",
    }
    page = client.post("/publishing/approval-policies/new/", data, follow=True).content.decode()
    assert "Each language version is approved separately." in page


def test_api_approves_one_language(client, login, team, sven):
    reviewer_languages_set(membership=team.alice, reviewer=sven, languages=["sv"])
    post = _bilingual_in_review(team)
    login(client, sven.user)
    url = f"/api/v1/posts/{post.pk}/approve/"

    def approve(language: str):
        return client.post(url, {"language": language}, content_type="application/json")

    response = approve("FI")
    assert response.status_code == 403
    assert "Finnish version" in response.json()["detail"]
    assert approve("xx-yy!").status_code == 400
    response = approve("SV")
    assert response.status_code == 200
    stage = response.json()["approval"]["stages"][0]
    assert stage["languages"] == [
        {"language": "fi", "approved": False, "approved_by": [], "eligible": [team.rita.user_id]},
        {
            "language": "sv",
            "approved": True,
            "approved_by": [sven.user_id],
            "eligible": sorted([team.rita.user_id, sven.user_id]),
        },
    ]


def test_text_dir_filter_for_user_text_anywhere():
    from django.template import Context, Template

    template = Template('{% load post_languages %}<p lang="{{ code }}" dir="{{ code|text_dir }}">')
    assert template.render(Context({"code": "ar"})) == '<p lang="ar" dir="rtl">'
    assert template.render(Context({"code": "fi"})) == '<p lang="fi" dir="ltr">'
    # No language known (an inbox item the network did not tag): the browser decides.
    assert template.render(Context({"code": ""})) == '<p lang="" dir="auto">'


def test_bulk_import_takes_the_organizations_languages(client, login, team):
    from publishing.tests.test_bulk_import import csv_bytes, future, upload

    post_language_add(membership=team.alice, tag="ar")
    at = future().strftime("%Y-%m-%d %H:%M")
    content = csv_bytes(
        [
            ["account", "language", "text", "time"],
            ["city-news", "AR", "تفتح المكتبة", at],
            ["city-news", "uk", "Бібліотека відкривається.", at],
        ]
    )
    login(client, team.alice.user)
    page = client.get(upload(client, content)["Location"]).content.decode()
    assert "1 ready" in page
    assert "“uk” is not a language we publish in" in page
    assert 'lang="ar" dir="rtl">تفتح المكتبة' in page


def test_calendar_shows_the_posts_words_in_their_language_and_direction(client, login, team):
    import time_machine

    from publishing.tests.calendar_helpers import day_cell, helsinki, scheduled_post

    with time_machine.travel(helsinki(2026, 3, 1, 10), tick=False):
        post_language_add(membership=team.alice, tag="ar")
        scheduled_post(team, helsinki(2026, 3, 10, 9), "تفتح المكتبة", language="ar")
        login(client, team.eddie.user)
        for url in ("/publishing/calendar/", "/publishing/calendar/list/?span=month"):
            page = client.get(f"{url}{'&' if '?' in url else '?'}date=2026-03-10").content
            cell = day_cell(page.decode(), "2026-03-10")
            assert '<span lang="ar" dir="rtl">تفتح المكتبة</span>' in cell, url
        page = client.get("/publishing/calendar/?date=2026-03-10").content.decode()
        assert "Arabic — العربية (ar)" in page  # the language filter


@pytest.mark.parametrize(
    ("country", "expected"),
    [("FI", ["en", "fi", "sv"]), ("TR", ["en", "tr"]), ("ID", ["en", "id"]), ("SE", ["en", "sv"])],
)
def test_before_choosing_an_organization_writes_in_english_and_its_countrys_languages(
    personas, country, expected
):
    personas.org.country = country
    personas.org.save(update_fields=["country"])

    assert organization_language_codes(publishing_rules(personas.org.pk)) == expected
