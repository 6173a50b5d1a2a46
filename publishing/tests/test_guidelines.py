"""Writing guidelines: the admin's page (style guide, hashtag sets, words to avoid) and
how a word rule finds a word in a text."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.models import AuditEvent, Policy
from publishing.models import (
    Campaign,
    HashtagSet,
    PublishingSettings,
    StyleGuide,
    WordRule,
    WordSeverity,
)
from publishing.selectors_guidelines import hashtag_present, word_hits, word_rule_matches

pytestmark = pytest.mark.django_db

PAGE = "/publishing/guidelines/"


def rule(phrase: str, *, prefix: bool = False, language: str = "fi", **extra: object) -> WordRule:
    return WordRule(phrase=phrase, language=language, match_prefix=prefix, **extra)


def test_a_rule_matches_whole_words_in_any_case():
    assert word_rule_matches(rule("asiakas"), "ASIAKAS tuli. Asiakas meni.") == [
        "ASIAKAS",
        "Asiakas",
    ]
    assert word_rule_matches(rule("asiakas"), "asiakaspalvelu ja pääasiakas") == []


def test_a_rule_matches_letters_outside_ascii_as_letters():
    assert word_rule_matches(rule("äly"), "Äly on hyvä") == ["Äly"]
    # "ä" is a letter: "äly" inside "sääly" is not a whole word.
    assert word_rule_matches(rule("äly"), "sääly") == []
    assert word_rule_matches(rule("öppna", language="sv"), "Vi ÖPPNA dörrar") == ["ÖPPNA"]


def test_a_phrase_matches_across_any_white_space():
    assert word_rule_matches(rule("ota yhteyttä"), "Ota\nyhteyttä meihin") == ["Ota\nyhteyttä"]


def test_prefix_matching_catches_finnish_endings_only_when_asked():
    text = "Palvelemme virastossa ja virastoissa."
    assert word_rule_matches(rule("virasto"), text) == []
    assert word_rule_matches(rule("virasto", prefix=True), text) == ["virastossa", "virastoissa"]
    # Still from the start of a word only.
    assert word_rule_matches(rule("virasto", prefix=True), "keskusvirastossa") == []


def test_hits_are_per_language_and_banned_first():
    rules = [
        rule("kiva", severity=WordSeverity.DISCOURAGED, alternative="hyvä"),
        rule("paska", severity=WordSeverity.BANNED),
        rule("kiva", language="sv"),
    ]
    hits = word_hits(rules, ["Kiva ja paska"], "fi")
    assert [(hit.found, hit.banned) for hit in hits] == [("paska", True), ("Kiva", False)]
    assert hits[1].message == "Avoid “Kiva”: consider “hyvä”."


def test_a_hashtag_is_present_only_whole():
    assert hashtag_present("#Kesä", "Tervetuloa #kesä!")
    assert not hashtag_present("#Kesä", "Tervetuloa #kesäkuu")


def test_an_admin_adds_and_edits_guidelines(team, client, login):
    org = team.alice.organization
    policy = Policy.objects.create(organization=org, title="Tone of voice")
    campaign = Campaign.objects.create(organization=org, name="Summer")
    login(client, team.alice.user)
    assert client.get(PAGE).status_code == 200
    response = client.post(
        PAGE,
        {
            "kind": "guide",
            "guide-language": "",
            "guide-text": "Write plainly.",
            "guide-policy": policy.pk,
        },
    )
    assert response.status_code == 302
    response = client.post(
        PAGE,
        {
            "kind": "hashtags",
            "hashtags-name": "Summer",
            "hashtags-campaign": campaign.pk,
            "hashtags-hashtags": "#kesä  #Helsinki #kesä",
            "hashtags-required": "on",
        },
    )
    assert response.status_code == 302
    response = client.post(
        PAGE,
        {
            "kind": "word",
            "word-language": "fi",
            "word-phrase": "  asiakas ",
            "word-severity": "banned",
            "word-alternative": "kuntalainen",
        },
    )
    assert response.status_code == 302
    assert StyleGuide.objects.get(organization=org).policy == policy
    assert HashtagSet.objects.get(organization=org).hashtags == "#kesä #Helsinki"
    word = WordRule.objects.get(organization=org)
    assert word.phrase == "asiakas"
    page = client.get(PAGE).content.decode()
    assert "Write plainly." in page and "#kesä #Helsinki" in page and "kuntalainen" in page
    edit = f"{PAGE}word/{word.pk}/"
    response = client.post(
        edit, {"word-language": "fi", "word-phrase": "asiakas", "word-severity": "discouraged"}
    )
    assert response.status_code == 302
    word.refresh_from_db()
    assert word.severity == WordSeverity.DISCOURAGED
    assert client.post(f"{edit}delete/").status_code == 302
    assert not WordRule.objects.exists()
    actions = list(
        AuditEvent.objects.filter(target_type="publishing.wordrule")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["guideline.created", "guideline.updated", "guideline.deleted"]


def test_the_guidelines_page_refuses_bad_input(team, client, login):
    login(client, team.alice.user)
    response = client.post(
        PAGE,
        {
            "kind": "hashtags",
            "hashtags-name": "X",
            "hashtags-hashtags": "kesä",
            "hashtags-required": "on",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Each hashtag starts with # and has no spaces: kesä" in page
    assert "Choose the campaign whose posts need these hashtags." in page
    StyleGuide.objects.create(organization=team.alice.organization, language="fi", text="A")
    response = client.post(PAGE, {"kind": "guide", "guide-language": "fi", "guide-text": "B"})
    assert response.status_code == 400
    assert "There is a guide for this language already." in response.content.decode()


def test_only_admins_manage_guidelines_and_other_orgs_are_404(team, client, login):
    other = WordRule.objects.create(
        organization=team.charlie.organization, language="fi", phrase="x"
    )
    login(client, team.eddie.user)
    assert client.get(PAGE).status_code == 403
    assert (
        client.post(PAGE, {"kind": "word", "word-language": "fi", "word-phrase": "y"}).status_code
        == 403
    )
    login(client, team.alice.user)
    assert client.get(f"{PAGE}word/{other.pk}/").status_code == 404
    assert client.post(f"{PAGE}word/{other.pk}/delete/").status_code == 404
    assert client.get(f"{PAGE}nonsense/{other.pk}/").status_code == 404
    assert WordRule.objects.filter(pk=other.pk).exists()
    # Another organization's campaign or policy is not offered, and refused when posted.
    foreign = Campaign.objects.create(organization=team.charlie.organization, name="Theirs")
    response = client.post(
        PAGE,
        {
            "kind": "hashtags",
            "hashtags-name": "S",
            "hashtags-campaign": foreign.pk,
            "hashtags-hashtags": "#a",
        },
    )
    assert response.status_code == 400
    assert not HashtagSet.objects.exists()


def test_the_guidelines_page_reads_a_fixed_number_of_queries(
    team, client, login, django_assert_max_num_queries
):
    org = team.alice.organization
    login(client, team.alice.user)

    def add(number: int) -> None:
        policy = Policy.objects.create(organization=org, title=f"Policy {number}")
        campaign = Campaign.objects.create(organization=org, name=f"Campaign {number}")
        StyleGuide.objects.create(
            organization=org, language=["", "fi", "sv", "en"][number], text="x", policy=policy
        )
        HashtagSet.objects.create(
            organization=org, name=f"S{number}", campaign=campaign, hashtags="#a"
        )
        WordRule.objects.create(organization=org, language="fi", phrase=f"w{number}")

    add(0)
    client.get(PAGE)  # the session and caches warm up
    with CaptureQueriesContext(connection) as one:
        assert client.get(PAGE).status_code == 200
    for number in (1, 2, 3):
        add(number)
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = client.get(PAGE).content.decode()
    assert "Policy 3" in page and "Campaign 3" in page


def test_guidelines_are_in_the_organizations_post_languages(team, client, login):
    """Not only the interface's languages: a Northern Sámi guide and an Arabic word rule,
    in an organization that posts in them; a language it does not post in is refused."""
    org = team.alice.organization
    PublishingSettings.objects.create(organization=org, languages=["fi", "sv", "se", "ar"])
    login(client, team.alice.user)
    page = client.get(PAGE).content.decode()
    for name in ("guide-language", "word-language"):
        found = re.search(rf'<select name="{name}".*?</select>', page, re.S)
        assert found is not None, name
        offered = set(re.findall(r'value="([^"]*)"', found.group(0)))
        assert offered - {""} == {"fi", "sv", "se", "ar"}
    response = client.post(
        PAGE, {"kind": "guide", "guide-language": "se", "guide-text": "Čále čielgasit."}
    )
    assert response.status_code == 302
    assert StyleGuide.objects.get(organization=org).language == "se"
    response = client.post(
        PAGE,
        {"kind": "word", "word-language": "ar", "word-phrase": "عميل", "word-severity": "banned"},
    )
    assert response.status_code == 302
    rule_ar = WordRule.objects.get(organization=org)
    assert rule_ar.language == "ar"
    assert "عميل" in client.get(PAGE).content.decode()
    response = client.post(
        PAGE,
        {"kind": "word", "word-language": "tr", "word-phrase": "kunde", "word-severity": "banned"},
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert WordRule.objects.filter(organization=org).count() == 1
