"""The writing guidelines where people write posts: the short guide and hashtag sets
beside the texts, words to avoid flagged while typing, a banned word or a missing
campaign hashtag stopping the post from going to review."""

from __future__ import annotations

import re

import pytest

from governance.models import Policy
from publishing.models import Campaign, HashtagSet, Post, PostStatus, StyleGuide, WordRule
from publishing.services.posts import post_submit_for_review
from publishing.tests.fixtures import draft
from publishing.tests.test_views_compose import CHECK, COMPOSE, compose_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def rules(personas) -> None:
    org = personas.org
    WordRule.objects.create(
        organization=org,
        language="fi",
        phrase="asiakas",
        severity="banned",
        alternative="kuntalainen",
        match_prefix=True,
    )
    WordRule.objects.create(
        organization=org, language="fi", phrase="kiva", severity="discouraged", alternative="hyvä"
    )


def test_the_composer_shows_the_short_guide_and_hashtag_sets(client, personas, login):
    org = personas.org
    policy = Policy.objects.create(organization=org, title="Tone of voice")
    StyleGuide.objects.create(organization=org, text="Write plainly, use you.", policy=policy)
    StyleGuide.objects.create(organization=org, language="sv", text="Skriv klart.")
    StyleGuide.objects.create(
        organization=personas.other_org,
        language="de",
        text="Not shown",
    )
    campaign = Campaign.objects.create(organization=org, name="Summer")
    HashtagSet.objects.create(
        organization=org,
        name="Summer",
        campaign=campaign,
        hashtags="#kesä #Helsinki",
        required=True,
    )
    login(client, personas.alice)
    page = client.get(COMPOSE).content.decode()
    assert "Write plainly, use you." in page
    assert "Skriv klart." in page
    assert "Not shown" not in page
    assert f'href="/governance/policies/{policy.pk}/"' in page
    assert "Read the full policy: Tone of voice" in page
    assert 'data-hashtags="#kesä #Helsinki"' in page
    assert "required in Summer" in page


def test_the_live_check_flags_banned_and_discouraged_words_with_the_alternative(
    client, personas, login, rules
):
    login(client, personas.alice)
    account = personas.bob_account
    data = compose_data({(account, "fi"): "Kiva, että ASIAKKAAT ja asiakkaat tulivat."})
    data["check"] = f"{account.pk}-fi"
    page = client.post(CHECK, data).content.decode()
    # Prefix matching catches endings added to the word as written: "asiakkaat" (with
    # consonant gradation) needs a rule of its own.
    assert "Banned:" not in page
    assert "Discouraged:</strong> Avoid “Kiva”: consider “hyvä”." in page
    data[f"v-{account.pk}-fi-text"] = "Asiakaspalvelu palvelee asiakasta."
    page = client.post(CHECK, data).content.decode()
    assert (
        "Banned:</strong> “Asiakaspalvelu” is not used in our posts: write “kuntalainen”." in page
    )
    assert "“asiakasta” is not used in our posts" in page


def test_a_banned_word_stops_submit_with_an_error_linked_to_the_text(
    client, personas, login, rules
):
    login(client, personas.alice)
    account = personas.bob_account
    data = compose_data({(account, "fi"): "Hyvä asiakas, tervetuloa."}, action="submit")
    response = client.post(COMPOSE, data)
    assert response.status_code == 400
    page = response.content.decode()
    link = re.search(rf'<a href="#id_v-{account.pk}-fi-text" data-error-link>([^<]*)</a>', page)
    assert link is not None
    assert link.group(1).endswith("“asiakas” is not used in our posts: write “kuntalainen”.")
    assert "Our writing guidelines do not allow this:" in page
    assert Post.objects.count() == 0


def test_a_banned_word_stops_submit_through_the_service_too(team, rules):
    post = draft(team.eddie, team.account, "Hyvä asiakas.")
    with pytest.raises(Exception) as refused:
        post_submit_for_review(post=post, membership=team.eddie)
    assert "“asiakas” is not used in our posts" in str(refused.value)
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT


def test_a_discouraged_word_only_warns(client, personas, login, rules):
    login(client, personas.alice)
    data = compose_data({(personas.bob_account, "fi"): "Kiva päivä."}, action="submit")
    response = client.post(COMPOSE, data)
    assert response.status_code == 302
    assert Post.objects.get().status in (PostStatus.IN_REVIEW, PostStatus.APPROVED)


def test_a_banned_word_of_another_language_does_not_count(client, personas, login, rules):
    login(client, personas.alice)
    data = compose_data(
        {(personas.bob_account, "sv"): "Asiakas är ett finskt ord."}, action="submit"
    )
    assert client.post(COMPOSE, data).status_code == 302


def test_a_campaigns_required_hashtag_is_checked_at_submit(client, personas, login):
    org = personas.org
    campaign = Campaign.objects.create(organization=org, name="Summer")
    HashtagSet.objects.create(
        organization=org, name="Summer", campaign=campaign, hashtags="#kesä", required=True
    )
    login(client, personas.alice)
    account = personas.bob_account
    data = compose_data(
        {(account, "fi"): "Uimarannat aukeavat. #kesäkuu"}, action="submit", campaign=campaign.pk
    )
    response = client.post(COMPOSE, data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "The campaign Summer requires the hashtags: #kesä." in page
    assert f'href="#id_v-{account.pk}-fi-text" data-error-link' in page
    # Without the campaign the hashtag is not required; with the hashtag it goes.
    data.pop("campaign")
    assert client.post(COMPOSE, data).status_code == 302
    data = compose_data(
        {(account, "fi"): "Uimarannat aukeavat. #Kesä"}, action="submit", campaign=campaign.pk
    )
    assert client.post(COMPOSE, data).status_code == 302
