"""Counting text as each network counts it, and Bluesky's rich-text facets."""

from __future__ import annotations

from accounts.connectors.text import (
    bluesky_facet_spans,
    bluesky_facets,
    grapheme_length,
    mastodon_length,
)

DOC_EXAMPLE = (
    "✨ example mentioning @atproto.com to share the URL "
    "\U0001f468\u200d\u2764\ufe0f\u200d\U0001f468 https://en.wikipedia.org/wiki/CBOR."
)


def test_graphemes_are_what_people_see_as_characters():
    assert grapheme_length("e\u0301") == 1
    assert grapheme_length("\U0001f1eb\U0001f1ee") == 1  # a flag
    assert grapheme_length("\U0001f468\u200d\u2764\ufe0f\u200d\U0001f468") == 1
    assert grapheme_length("Hyvää päivää") == 12


def test_mastodon_counts_links_as_23_and_remote_mentions_by_name():
    assert mastodon_length("https://example.org/" + "x" * 100) == 23
    assert mastodon_length("Read https://example.org/page.") == len("Read ") + 23 + 1
    assert mastodon_length("@info@city.example thanks") == len("@info thanks")
    assert mastodon_length("mail info@city.example") == len("mail info@city.example")


def test_the_bluesky_documentation_example_gets_its_offsets():
    spans = bluesky_facet_spans(DOC_EXAMPLE)
    assert [(s.kind, s.byte_start, s.byte_end, s.value) for s in spans] == [
        ("mention", 23, 35, "atproto.com"),
        ("link", 74, 108, "https://en.wikipedia.org/wiki/CBOR"),
    ]


def test_facets_resolve_mentions_and_skip_unknown_handles():
    text = "@city.example.org and @nobody.invalid see #roadworks, https://city.example/x"
    facets = bluesky_facets(text, resolve_handle={"city.example.org": "did:plc:city"}.get)
    features = [f["features"][0] for f in facets]
    assert features == [
        {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:city"},
        {"$type": "app.bsky.richtext.facet#tag", "tag": "roadworks"},
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://city.example/x"},
    ]
    first = facets[0]["index"]
    assert text.encode()[first["byteStart"] : first["byteEnd"]] == b"@city.example.org"


def test_hashtags_follow_the_apps_rules():
    kinds = [
        (s.kind, s.value)
        for s in bluesky_facet_spans(
            "#2026 #Tampere2026! a#b #\u00e4ij\u00e4 https://x.example/#frag"
        )
    ]
    assert kinds == [
        ("tag", "Tampere2026"),
        ("tag", "\u00e4ij\u00e4"),
        ("link", "https://x.example/#frag"),
    ]


def test_e_mail_addresses_are_not_mentions():
    assert bluesky_facet_spans("write to info@city.example") == []
