"""The signature rule and saved-reply placeholders."""

from __future__ import annotations

from governance.models import Organization, User
from inbox.models import SignatureRule
from inbox.text import SIGNATURE_DASH as DASH
from inbox.text import ensure_mention, fill_placeholders, sign, signature_for


def test_the_signature_rule_picks_the_first_name_or_the_organization():
    user = User(email="bertta@example.org", full_name="Bertta Virtanen")
    org = Organization(name="City of Example")
    assert signature_for(SignatureRule.FIRST_NAME, user=user, organization=org) == "Bertta"
    assert signature_for(SignatureRule.ORGANIZATION, user=user, organization=org) == (
        "City of Example"
    )
    assert signature_for(SignatureRule.NONE, user=user, organization=org) == ""


def test_signing_adds_a_line_once():
    signed = sign("Thank you, we will look into it.", "Bertta")
    assert signed == f"Thank you, we will look into it.\n\n{DASH} Bertta"
    assert sign(signed, "Bertta") == signed
    assert sign("  Thanks!  ", "") == "Thanks!"


def test_placeholders_are_filled_and_other_braces_kept():
    text = fill_placeholders(
        "Hej {author}! Mvh {first_name}, {organization} {other}",
        author="Erik",
        first_name="Bertta",
        organization="Esimerkkilä",
    )
    assert text == "Hej Erik! Mvh Bertta, Esimerkkilä {other}"


def test_a_direct_message_is_addressed_to_its_author_once():
    assert ensure_mention("Hello", "@erik@social.example") == "@erik@social.example Hello"
    assert ensure_mention("@erik@social.example hi", "@erik@social.example") == (
        "@erik@social.example hi"
    )


def test_a_saved_reply_that_signs_off_is_not_signed_twice():
    # Signed by hand with a dash, or with the organization's name under a greeting.
    dashed = "Kiitos viestistä, korjaamme asian.\n\n- Kaupungin viestintä"
    assert sign(dashed, "Bertta") == dashed
    greeted = "Tack för ditt meddelande.\n\nMed vänliga hälsningar,\nStaden Esimerkkilä"
    assert sign(greeted, "Staden Esimerkkilä") == greeted
    greeting_line = "Thanks, we are on it.\nBest regards, City of Example."
    assert sign(greeting_line, "City of Example") == greeting_line


def test_a_sentence_that_ends_with_the_name_still_gets_the_signature():
    body = "Hi!\nYour message was forwarded to the road maintenance team of City of Example"
    assert sign(body, "City of Example") == f"{body}\n\n{DASH} City of Example"
    assert (
        sign("City of Example", "City of Example") == f"City of Example\n\n{DASH} City of Example"
    )
