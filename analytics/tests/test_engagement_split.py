"""Likes, shares, replies and quotes in words: each count takes its own plural."""

from __future__ import annotations

from django.utils import translation

from analytics.presentation import engagement_split


def test_one_of_each_is_singular_and_many_are_plural():
    with translation.override("en"):
        assert engagement_split(1, 1, 1, 1) == "1 like, 1 share, 1 reply, 1 quote"
        expected = "1,200 likes, 0 shares, 2 replies, \u2013 quotes"
        assert engagement_split(1200, 0, 2, None) == expected


def test_finnish_and_swedish():
    with translation.override("fi"):
        assert engagement_split(1, 18, 1, 0) == "1 tykkäys, 18 jakoa, 1 vastaus, 0 lainausta"
    with translation.override("sv"):
        assert engagement_split(1, 2, 1, 3) == ("1 gilla-markering, 2 delningar, 1 svar, 3 citat")
