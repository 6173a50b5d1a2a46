"""Watch words: which of an organization's priority words occur in a text.

Matching is case-insensitive (Unicode case folding, so "STRASSE" finds
"Straße"), on whole words (``\\w`` is Unicode-aware: "ä", "ğ" and "ş" are
letters, "#" and "@" are not), after NFKC normalisation (so a decomposed "ä"
typed as "a" plus a combining mark matches the composed one), and Turkish
capital "İ" matches "i". A word marked ``prefix`` also matches longer words
that begin with it, for inflected languages: Finnish "tulva" finds "tulvan"
and "tulvasta".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def normalize(text: str) -> str:
    # Case folding turns Turkish capital "İ" into "i" plus a combining dot; drop the
    # dot so "KESİNTİ" finds "kesinti", as a Turkish reader expects.
    return unicodedata.normalize("NFKC", text).casefold().replace("i\u0307", "i")


@dataclass(frozen=True)
class WatchWord:
    word: str
    level: int
    prefix: bool = False


@dataclass(frozen=True)
class Match:
    word: str
    level: int


class WatchList:
    """The organization's words, compiled once for a batch of texts."""

    def __init__(self, words: Iterable[WatchWord]) -> None:
        self._patterns: list[tuple[re.Pattern[str], WatchWord]] = []
        for entry in words:
            needle = normalize(entry.word).strip()
            if not needle:
                continue
            # Inner whitespace matches any run of whitespace ("boil  water").
            body = r"\s+".join(re.escape(part) for part in needle.split())
            end = r"\w*" if entry.prefix else ""
            pattern = re.compile(rf"(?<!\w){body}{end}(?!\w)")
            self._patterns.append((pattern, entry))

    def __bool__(self) -> bool:
        return bool(self._patterns)

    def matches(self, text: str) -> list[Match]:
        """The words found in ``text``, in the list's order, each once."""
        if not self._patterns or not text:
            return []
        haystack = normalize(text)
        return [
            Match(word=entry.word, level=entry.level)
            for pattern, entry in self._patterns
            if pattern.search(haystack)
        ]


def raised_priority(current: int, matches: Sequence[Match]) -> int:
    """The priority after the matches: raised to the highest level found, never lowered."""
    return max([current, *(match.level for match in matches)])
