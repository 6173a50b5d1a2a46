"""Counting text the way each network counts it, and Bluesky's rich-text facets."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from wcwidth import iter_graphemes

# Mastodon replaces every http(s) URL by this many characters when counting.
MASTODON_URL_LENGTH = 23
_URL_RE = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_URL_TRAILING = ".,:;!?)]}'\""
# Mastodon counts a remote mention "@name@example.org" as "@name" (Account::MENTION_RE).
_MENTION_RE = re.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[a-z0-9_.\-]+[a-z0-9_]+)?)(?:@[\w.\-]+\w+)?",
    re.IGNORECASE,
)


def grapheme_length(text: str) -> int:
    """User-perceived characters (Unicode extended grapheme clusters, UAX #29)."""
    return sum(1 for _ in iter_graphemes(text))


def mastodon_length(text: str, *, url_length: int = MASTODON_URL_LENGTH) -> int:
    """Mastodon's count: graphemes, each URL as ``url_length``, remote mentions by name only."""

    def placeholder(match: re.Match[str]) -> str:
        url = match.group(0)
        stripped = url.rstrip(_URL_TRAILING)
        return "x" * url_length + url[len(stripped) :]

    countable = _URL_RE.sub(placeholder, text)
    countable = _MENTION_RE.sub(lambda m: "@" + m.group(1), countable)
    return grapheme_length(countable)


# --- Bluesky ---------------------------------------------------------------------
# Posts carry plain text plus "facets": links, mentions and tags located by UTF-8
# byte offsets (start inclusive, end exclusive). Patterns follow bsky-docs
# advanced-guides/posts.md (links, handles; top-level domains may be longer than
# the guide's six characters: .example, .photography) and the app's hashtag rules.

BLUESKY_MAX_GRAPHEMES = 300
BLUESKY_MAX_BYTES = 3000
BLUESKY_MAX_TAG_LENGTH = 64

# Letters and digits beyond ASCII may appear in a link's host and path (hämeenlinna.fi,
# /fi/päätöksenteko); the guide's ASCII-only pattern cut such links short, where the
# Bluesky app links them whole. Non-ASCII punctuation still ends a link.
_NON_ASCII_WORD = r"[^\W\x00-\x7f]"
_BSKY_URL_RE = re.compile(
    rf"(?<![\w/])(https?://(?:www\.)?(?:[-a-zA-Z0-9@:%._+~#=]|{_NON_ASCII_WORD}){{1,256}}"
    r"\.[a-zA-Z0-9()]{1,63}\b"
    rf"(?:(?:[-a-zA-Z0-9()@:%_+.~#?&/=]|{_NON_ASCII_WORD})*"
    rf"(?:[-a-zA-Z0-9@%_+~#/=)]|{_NON_ASCII_WORD}))?)"
)
# A handle is a domain name (atproto.com/specs/handle); not inside an e-mail address.
_BSKY_MENTION_RE = re.compile(
    r"(?<![\w@.])(@((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+"
    r"[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?))"
)
_BSKY_TAG_RE = re.compile(
    r"(?:^|(?<=\s))([#\uff03]([^\s#\uff03\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2]+))"
)


@dataclass(frozen=True)
class FacetSpan:
    kind: Literal["link", "mention", "tag"]
    byte_start: int
    byte_end: int
    # The URL, the handle (without "@") or the tag (without "#").
    value: str


def _strip_trailing_punctuation(value: str) -> str:
    while value and unicodedata.category(value[-1]).startswith("P"):
        value = value[:-1]
    return value


def bluesky_facet_spans(text: str) -> list[FacetSpan]:
    """Links, mentions and hashtags in ``text``, by byte offsets, in text order.

    A mention or tag inside a link is part of the link, not a facet of its own.
    """

    def byte_offset(index: int) -> int:
        return len(text[:index].encode("utf-8"))

    spans: list[tuple[int, int, FacetSpan]] = []
    for match in _BSKY_URL_RE.finditer(text):
        start, end = match.span(1)
        url = match.group(1)
        # A closing parenthesis belongs to the link only when the link opened one
        # (wiki/Python_(language)); otherwise it closes the sentence's "(see https://…)".
        while url[-1] in ".,;:!?" or (url.endswith(")") and url.count(")") > url.count("(")):
            url, end = url[:-1], end - 1
        spans.append((start, end, FacetSpan("link", byte_offset(start), byte_offset(end), url)))
    links = [(start, end) for start, end, _ in spans]

    def inside_link(start: int, end: int) -> bool:
        return any(start < link_end and end > link_start for link_start, link_end in links)

    for match in _BSKY_MENTION_RE.finditer(text):
        start, end = match.span(1)
        if not inside_link(start, end):
            span = FacetSpan("mention", byte_offset(start), byte_offset(end), match.group(2))
            spans.append((start, end, span))
    for match in _BSKY_TAG_RE.finditer(text):
        tag = _strip_trailing_punctuation(match.group(2))
        start = match.start(1)
        end = start + 1 + len(tag)
        if not tag or tag.isdigit() or len(tag) > BLUESKY_MAX_TAG_LENGTH:
            continue
        if not inside_link(start, end):
            spans.append((start, end, FacetSpan("tag", byte_offset(start), byte_offset(end), tag)))
    return [span for _, _, span in sorted(spans, key=lambda item: item[0])]


def bluesky_facets(
    text: str, *, resolve_handle: Callable[[str], str | None]
) -> list[dict[str, Any]]:
    """``app.bsky.richtext.facet`` records for ``text``.

    ``resolve_handle`` turns a handle into a DID (``com.atproto.identity.resolveHandle``);
    a mention it cannot resolve stays plain text, as the Bluesky app does.
    """
    facets: list[dict[str, Any]] = []
    for span in bluesky_facet_spans(text):
        if span.kind == "link":
            feature = {"$type": "app.bsky.richtext.facet#link", "uri": span.value}
        elif span.kind == "tag":
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": span.value}
        else:
            did = resolve_handle(span.value)
            if not did:
                continue
            feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
        facets.append(
            {
                "index": {"byteStart": span.byte_start, "byteEnd": span.byte_end},
                "features": [feature],
            }
        )
    return facets
