"""Words around a reply: the signature, and the placeholders of saved replies."""

from __future__ import annotations

from governance.models import Organization, User
from inbox.models import SignatureRule

PLACEHOLDERS = ("{author}", "{first_name}", "{organization}")
SIGNATURE_DASH = "–"  # noqa: RUF001 (an en dash, as signatures are written)


def signature_for(rule: str, *, user: User, organization: Organization) -> str:
    """The name a reply is signed with under the organization's rule ("" for none)."""
    if rule == SignatureRule.FIRST_NAME:
        return user.first_name
    if rule == SignatureRule.ORGANIZATION:
        return organization.name
    return ""


SIGN_OFF_DASHES = ("-", SIGNATURE_DASH, "\u2014")
# Room for a greeting before the name on a sign-off line ("Ystävällisin terveisin, ").
SIGN_OFF_WORDS = 30


def signs_off(body: str, signature: str) -> bool:
    """Whether ``body`` already ends with a sign-off: a last line that names the
    signature (``- Kaupunki``, ``Kaupunki``, ``Terveisin, Kaupunki``) or that starts
    with a dash, as a saved reply signed by hand does."""
    lines = [line.strip() for line in body.strip().splitlines() if line.strip()]
    # A one-line reply is a message, not a message and a sign-off.
    if len(lines) < 2:
        return False
    last = lines[-1]
    if last.startswith(SIGN_OFF_DASHES):
        return True
    if not signature:
        return False
    name = signature.strip().casefold()
    # A short closing line ("Terveisin, Kaupunki"), not a sentence that ends with the name.
    return len(last) <= len(name) + SIGN_OFF_WORDS and last.rstrip(".!").casefold().endswith(name)


def sign(body: str, signature: str) -> str:
    """``body`` with the signature on a line of its own, unless it already signs off
    (a saved reply may end with its own sign-off; a second one reads as a mistake)."""
    text = body.strip()
    if not signature or signs_off(text, signature):
        return text
    return f"{text}\n\n{SIGNATURE_DASH} {signature}"


def fill_placeholders(text: str, *, author: str, first_name: str, organization: str) -> str:
    """Fill ``{author}``, ``{first_name}`` and ``{organization}``; any other braces stay
    as written (this is not ``str.format``: a stray brace must not break a reply)."""
    values = {
        "{author}": author,
        "{first_name}": first_name,
        "{organization}": organization,
    }
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


def ensure_mention(text: str, handle: str) -> str:
    """``text`` starting with ``@handle`` unless it already mentions it: on Mastodon a
    direct message reaches only the accounts it mentions."""
    if not handle:
        return text
    mention = handle if handle.startswith("@") else f"@{handle}"
    if mention.casefold() in text.casefold():
        return text
    return f"{mention} {text}"
