"""The inbox's rules: response policy, signature and approval, watch words, saved replies."""

from __future__ import annotations

import re
from datetime import time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from governance.models import AuditEvent
from inbox.models import InboxSettings, PriorityWord, ResponsePolicy, SavedReply, SignatureRule
from inbox.services import priority_word_add
from publishing.models import PublishingSettings


def test_an_admin_sets_the_response_policy(client, personas, login):
    login(client, personas.alice)
    assert client.get("/inbox/settings/").status_code == 200
    response = client.post(
        "/inbox/settings/",
        {
            "form": "policy",
            "working_days": [0, 1, 2, 3],
            "work_starts": "09:00",
            "work_ends": "15:30",
            "target_hours": "6",
            "high_priority_target_hours": "1",
            "holidays": "2025-12-24\n2025-12-25",
        },
    )
    assert response.status_code == 302
    policy = ResponsePolicy.objects.get(organization=personas.org)
    assert policy.working_days == [0, 1, 2, 3]
    assert (policy.work_starts, policy.work_ends) == (time(9, 0), time(15, 30))
    assert policy.target_hours == Decimal("6")
    assert policy.holidays == ["2025-12-24", "2025-12-25"]
    assert AuditEvent.objects.filter(action="inbox.response_policy_changed").count() == 1


def test_a_working_day_must_end_after_it_starts(client, personas, login):
    login(client, personas.alice)
    response = client.post(
        "/inbox/settings/",
        {
            "form": "policy",
            "working_days": [0],
            "work_starts": "16:00",
            "work_ends": "08:00",
            "target_hours": "8",
            "holidays": "not-a-date",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "not-a-date is not a date" in body
    assert 'id="id_holidays_error"' in body


def test_reply_rules_signature_and_approval(client, personas, login):
    login(client, personas.alice)
    client.post(
        "/inbox/settings/",
        {
            "form": "rules",
            "signature_rule": SignatureRule.ORGANIZATION,
            "approval_accounts": [personas.other_account.pk],
        },
    )
    settings = InboxSettings.objects.get(organization=personas.org)
    assert settings.signature_rule == SignatureRule.ORGANIZATION
    assert list(settings.approval_accounts.all()) == [personas.other_account]
    response = client.post(
        "/inbox/settings/",
        {
            "form": "rules",
            "signature_rule": "first_name",
            "approval_accounts": [personas.outsider_account.pk],
        },
    )
    assert response.status_code == 400  # another organization's account is no choice


def test_editors_read_the_rules_but_cannot_change_them(client, personas, login):
    login(client, personas.bob)
    body = client.get("/inbox/settings/").content.decode()
    assert "Only admins and managers can change these rules." in body
    assert (
        client.post("/inbox/settings/", {"form": "rules", "signature_rule": "none"}).status_code
        == 403
    )
    assert client.post("/inbox/priority-words/", {"word": "x", "level": 2}).status_code == 403
    assert (
        client.post(
            "/inbox/saved-replies/", {"title": "x", "language": "fi", "body": "y"}
        ).status_code
        == 403
    )


def test_watch_words_are_added_and_removed(client, personas, login):
    login(client, personas.alice)
    client.post(
        "/inbox/priority-words/",
        {"word": "tulva", "language": "fi", "match_prefix": "on", "level": 3},
    )
    word = PriorityWord.objects.get()
    assert (word.word, word.match_prefix, word.level) == ("tulva", True, 3)
    duplicate = client.post("/inbox/priority-words/", {"word": "TULVA", "level": 2})
    assert duplicate.status_code == 400
    assert "already on the list" in duplicate.content.decode()
    assert "tulva" in client.get("/inbox/priority-words/").content.decode()
    client.post(f"/inbox/priority-words/{word.pk}/delete/")
    assert not PriorityWord.objects.exists()
    assert {"inbox.priority_word_added", "inbox.priority_word_removed"} <= set(
        AuditEvent.objects.values_list("action", flat=True)
    )


def test_saved_replies_in_several_languages(client, personas, login):
    login(client, personas.alice)
    client.post(
        "/inbox/saved-replies/", {"title": "Thanks", "language": "fi", "body": "Kiitos {author}!"}
    )
    client.post(
        "/inbox/saved-replies/", {"title": "Thanks", "language": "sv", "body": "Tack {author}!"}
    )
    assert SavedReply.objects.count() == 2
    swedish = SavedReply.objects.get(language="sv")
    client.post(
        f"/inbox/saved-replies/{swedish.pk}/",
        {"title": "Thanks", "language": "sv", "body": "Tack så mycket {author}!"},
    )
    swedish.refresh_from_db()
    assert swedish.body == "Tack så mycket {author}!"
    clash = client.post("/inbox/saved-replies/", {"title": "Thanks", "language": "fi", "body": "x"})
    assert clash.status_code == 400
    client.post(f"/inbox/saved-replies/{swedish.pk}/delete/")
    assert list(SavedReply.objects.values_list("language", flat=True)) == ["fi"]


def test_saved_replies_are_in_the_organizations_post_languages(client, personas, login):
    """Not only the interface's languages: Northern Sámi and Arabic where the organization
    posts in them; a language it does not post in is refused, the list names them."""
    org = personas.org
    PublishingSettings.objects.create(organization=org, languages=["fi", "se", "ar"])
    login(client, personas.alice)
    page = client.get("/inbox/saved-replies/").content.decode()
    found = re.search(r'<select name="language"[^>]*id="id_language".*?</select>', page, re.S)
    assert found is not None
    assert set(re.findall(r'value="([^"]*)"', found.group(0))) - {""} == {"fi", "se", "ar"}
    response = client.post(
        "/inbox/saved-replies/", {"title": "Giitu", "language": "se", "body": "Giitu {author}!"}
    )
    assert response.status_code == 302
    response = client.post(
        "/inbox/saved-replies/", {"title": "Shukran", "language": "ar", "body": "شكرا"}
    )
    assert response.status_code == 302
    refused = client.post(
        "/inbox/saved-replies/", {"title": "Tack", "language": "sv", "body": "Tack!"}
    )
    assert refused.status_code == 400
    assert sorted(SavedReply.objects.values_list("language", flat=True)) == ["ar", "se"]
    page = client.get("/inbox/saved-replies/").content.decode()
    assert "Northern Sami" in page and "Arabic" in page
    # A reply whose language has since left the list keeps it when it is changed.
    PublishingSettings.objects.filter(organization=org).update(languages=["fi"])
    sami = SavedReply.objects.get(language="se")
    response = client.post(
        f"/inbox/saved-replies/{sami.pk}/",
        {"title": "Giitu", "language": "se", "body": "Giitu eatnat {author}!"},
    )
    assert response.status_code == 302
    sami.refresh_from_db()
    assert sami.body == "Giitu eatnat {author}!"


def test_another_organizations_saved_reply_is_not_found(client, personas, login):
    theirs = SavedReply.objects.create(
        organization=personas.other_org, title="x", language="fi", body="y"
    )
    login(client, personas.alice)
    assert client.get(f"/inbox/saved-replies/{theirs.pk}/").status_code == 404
    assert client.post(f"/inbox/saved-replies/{theirs.pk}/delete/").status_code == 404


def test_watch_words_in_any_post_language_of_the_organization(client, personas, login):
    """Not only the interface's languages: a Northern Sámi watch word where the
    organization posts in Sámi; a language it does not post in is refused clearly."""
    PublishingSettings.objects.create(organization=personas.org, languages=["fi", "se"])
    login(client, personas.alice)
    page = client.get("/inbox/priority-words/").content.decode()
    found = re.search(r'<select name="language"[^>]*id="id_language".*?</select>', page, re.S)
    assert found is not None
    assert set(re.findall(r'value="([^"]*)"', found.group(0))) == {"", "fi", "se"}
    response = client.post(
        "/inbox/priority-words/",
        {"word": "dulvi", "language": "se", "match_prefix": "on", "level": 3},
    )
    assert response.status_code == 302
    assert PriorityWord.objects.get().language == "se"
    assert "Northern Sami" in client.get("/inbox/priority-words/").content.decode()
    refused = client.post("/inbox/priority-words/", {"word": "sel", "language": "tr", "level": 2})
    assert refused.status_code == 400
    assert "Choose one of the organization&#x27;s post languages" in refused.content.decode()
    assert PriorityWord.objects.count() == 1


def test_a_watch_word_language_must_be_a_language_tag(personas):
    membership = personas.alice.memberships.get(organization=personas.org)
    with pytest.raises(ValidationError) as caught:
        priority_word_add(
            membership=membership, actor=personas.alice, word="x", language="klingon!"
        )
    assert "is not a language tag" in caught.value.messages[0]
    word = priority_word_add(
        membership=membership, actor=personas.alice, word="dulvi", language="SE"
    )
    assert word.language == "se"
