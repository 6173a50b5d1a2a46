"""Reads of the organization's writing guidelines, and the checks they make on a text:
words and phrases it avoids, and the hashtags a campaign requires.

Callers pass an organization id they got through the access layer: nothing here
crosses organizations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from django.utils.translation import gettext as _

from publishing.models import HashtagSet, StyleGuide, WordRule, WordSeverity


@dataclass(frozen=True)
class WordHit:
    """A rule's word or phrase found in a text, as it was written there."""

    rule: WordRule
    found: str

    @property
    def banned(self) -> bool:
        return self.rule.severity == WordSeverity.BANNED

    @property
    def message(self) -> str:
        values = {"found": self.found, "alternative": self.rule.alternative}
        if self.banned:
            if self.rule.alternative:
                text = _("“%(found)s” is not used in our posts: write “%(alternative)s”.")
            else:
                text = _("“%(found)s” is not used in our posts.")
        elif self.rule.alternative:
            text = _("Avoid “%(found)s”: consider “%(alternative)s”.")
        else:
            text = _("Avoid “%(found)s”.")
        message = text % values
        if self.rule.note:
            message = f"{message} {self.rule.note}"
        return message


@lru_cache(maxsize=512)
def _pattern(phrase: str, prefix: bool) -> re.Pattern[str]:
    # Whole words: no word character (any script) just before or after. Spaces inside a
    # phrase match any run of white space, so a line break does not hide it.
    words = [re.escape(word) for word in phrase.split()]
    tail = r"\w*" if prefix else ""
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + tail + r"(?!\w)", re.IGNORECASE)


def word_rule_matches(rule: WordRule, text: str) -> list[str]:
    """Where ``rule`` occurs in ``text``: whole words, any case, in any script; with
    ``match_prefix`` a word that begins with the rule's (an inflected form) counts too."""
    if not rule.phrase.strip():
        return []
    return [match.group(0) for match in _pattern(rule.phrase, rule.match_prefix).finditer(text)]


def word_hits(
    rules: Iterable[WordRule], texts: Sequence[str], language: str | None
) -> list[WordHit]:
    """Each rule of ``language`` (of every language, with None: a text whose language
    is not known) found in any of ``texts``, once per distinct form found."""
    hits: list[WordHit] = []
    for rule in rules:
        if language is not None and rule.language != language:
            continue
        seen: set[str] = set()
        for text in texts:
            for found in word_rule_matches(rule, text):
                if found.casefold() not in seen:
                    seen.add(found.casefold())
                    hits.append(WordHit(rule=rule, found=found))
    # Banned first: they are what stops a post.
    return sorted(hits, key=lambda hit: not hit.banned)


def word_rules_for(organization_id: int) -> list[WordRule]:
    return list(WordRule.objects.filter(organization_id=organization_id))


def hashtag_sets_for(organization_id: int) -> list[HashtagSet]:
    return list(
        HashtagSet.objects.filter(organization_id=organization_id).select_related("campaign")
    )


def style_guides_for(organization_id: int, languages: Sequence[str]) -> list[StyleGuide]:
    """The guide for every language (if any), then each of ``languages``' own."""
    guides = StyleGuide.objects.filter(
        organization_id=organization_id, language__in=["", *languages]
    ).select_related("policy")
    order = {code: index for index, code in enumerate(["", *languages])}
    return sorted(guides, key=lambda guide: order.get(guide.language, 99))


def hashtag_present(tag: str, text: str) -> bool:
    """Whether ``tag`` is in ``text`` as a whole hashtag (any case): #Kesä is not #Kesäkuu."""
    return bool(re.search(r"(?<![\w#])" + re.escape(tag) + r"(?![\w])", text, re.IGNORECASE))


def missing_hashtags(
    sets: Iterable[HashtagSet], campaign_id: int | None, texts: Sequence[str]
) -> list[str]:
    """The hashtags the campaign requires that none of ``texts`` (one language version
    and its thread) carries."""
    if campaign_id is None:
        return []
    missing: list[str] = []
    for hashtag_set in sets:
        if not hashtag_set.required or hashtag_set.campaign_id != campaign_id:
            continue
        for tag in hashtag_set.tags:
            if tag not in missing and not any(hashtag_present(tag, text) for text in texts):
                missing.append(tag)
    return missing


def missing_hashtags_message(missing: Sequence[str], campaign: str) -> str:
    return _("The campaign %(campaign)s requires the hashtags: %(tags)s.") % {
        "campaign": campaign,
        "tags": " ".join(missing),
    }
