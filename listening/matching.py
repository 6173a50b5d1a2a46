"""Does a post match a watch? The networks' search finds candidates; this decides.

Terms are words, phrases (several words, in that order), ``#hashtags`` and
``@handles``, in any language, matched without regard to case. With prefix
matching a term also matches longer words that begin with it, as inflected
languages need: ``kirjasto`` matches ``kirjastossa`` and ``kirjaston``, ``okul``
matches ``okula``. An excluded term that matches drops the post.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

MAX_TERMS = 30
MAX_TERM_LENGTH = 100


def clean_terms(raw: str | Sequence[str]) -> list[str]:
    """Terms from a form field (one per line or separated by commas), trimmed, each once."""
    parts = raw.replace(",", "\n").splitlines() if isinstance(raw, str) else list(raw)
    seen: dict[str, str] = {}
    for part in parts:
        term = " ".join(str(part).split())
        if term and term.casefold() not in seen:
            seen[term.casefold()] = term
    return list(seen.values())


def term_kind(term: str) -> str:
    if term.startswith("#"):
        return "hashtag"
    if term.startswith("@"):
        return "handle"
    return "phrase" if " " in term else "word"


def _pattern(term: str, *, prefix: bool) -> re.Pattern[str]:
    words = [re.escape(word) for word in term.casefold().split()]
    body = r"\s+".join(words)
    if term.startswith("@"):
        # A handle goes on with its domain (@city.example.org, @name@server).
        tail = r"(?![\w@.-]*\w)" if not prefix else ""
    else:
        tail = r"\w*" if prefix else r"(?!\w)"
    return re.compile(rf"(?<![\w#@]){body}{tail}")


@dataclass(frozen=True)
class Matcher:
    terms: tuple[str, ...]
    excluded: tuple[str, ...]
    prefix: bool

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "_included", [(t, _pattern(t, prefix=self.prefix)) for t in self.terms]
        )
        object.__setattr__(
            self, "_excluded", [_pattern(t, prefix=self.prefix) for t in self.excluded]
        )

    def matches(self, text: str) -> list[str]:
        """The watch's terms found in ``text`` (empty: no match, or an excluded term)."""
        folded = text.casefold()
        found = [term for term, pattern in self._included if pattern.search(folded)]  # type: ignore[attr-defined]
        if not found:
            return []
        if any(pattern.search(folded) for pattern in self._excluded):  # type: ignore[attr-defined]
            return []
        return found


def matcher_for(terms: Sequence[str], excluded: Sequence[str], prefix: bool) -> Matcher:
    return Matcher(terms=tuple(terms), excluded=tuple(excluded), prefix=prefix)


def search_query(term: str, *, prefix: bool) -> str:
    """What to send to a network's search for ``term``: a phrase in quotes. (A prefix
    is sent as it is; the network finds words containing it and we filter.)"""
    if term_kind(term) == "phrase":
        return f'"{term}"'
    return term
