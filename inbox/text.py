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


def sign(body: str, signature: str) -> str:
    """``body`` with the signature on a line of its own, unless it is already signed."""
    text = body.strip()
    if not signature:
        return text
    line = f"{SIGNATURE_DASH} {signature}"
    last_line = text.rsplit("\n", 1)[-1].strip()
    if last_line in (line, f"-{signature}", f"- {signature}", f"{SIGNATURE_DASH}{signature}"):
        return text
    return f"{text}\n\n{line}"


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
