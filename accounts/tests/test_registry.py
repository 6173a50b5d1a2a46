"""The connector registry and the base class's promises."""

from __future__ import annotations

import pytest

from accounts.connectors import registry
from accounts.connectors.base import (
    Capabilities,
    Connector,
    ErrorKind,
    Limits,
    MediaItem,
    NotSupported,
    PublishRequest,
    Rejected,
    RemoteRef,
)
from accounts.connectors.mastodon import MastodonConnector
from accounts.connectors.sandbox import SandboxConnector


class TextOnlyConnector(Connector):
    network = "textonly"
    label = "Text only"
    capabilities = Capabilities(publish=True)
    limits = Limits(max_text=10)


@pytest.fixture
def textonly():
    registry.register("textonly", TextOnlyConnector)
    yield registry.get_connector("textonly")
    registry.CONNECTORS.pop("textonly")
    registry._instances.pop("textonly", None)


def test_every_network_has_its_connector():
    assert registry.networks()[:2] == ["sandbox", "mastodon"]
    assert isinstance(registry.get_connector("sandbox"), SandboxConnector)
    assert isinstance(registry.get_connector("mastodon"), MastodonConnector)
    assert registry.get_connector("mastodon") is registry.get_connector("mastodon")


def test_an_unknown_network_is_an_error():
    with pytest.raises(registry.UnknownNetwork):
        registry.get_connector("myspace")


def test_a_new_network_is_one_registration_away(textonly):
    assert "textonly" in registry.networks()
    assert textonly.network == "textonly"


def test_a_missing_capability_raises_not_supported(textonly, db):
    with pytest.raises(NotSupported) as caught:
        textonly.fetch_inbox(None)
    # Callers handle it as the permanent kind of failure it is.
    assert isinstance(caught.value, Rejected)
    assert caught.value.kind == ErrorKind.REJECTED
    assert "does not support" in caught.value.message
    with pytest.raises(NotSupported):
        textonly.reply(None, PublishRequest(text="hi", reply_to=RemoteRef("1")))


def test_validation_explains_every_problem_in_words(textonly):
    problems = textonly.validate(
        PublishRequest(
            text="far too long for this",
            media=[MediaItem(b"x", "image/png", "a cat")],
            reply_to=RemoteRef("1"),
            content_warning="cw",
            visibility="direct",
        )
    )
    assert problems == [
        "The text is 21 characters long; the limit is 10.",
        "This network does not take images here.",
        "This network does not take replies from us.",
        "This network has no content warnings.",
        "This network does not take direct messages from us.",
    ]
    assert textonly.validate(PublishRequest(text="short")) == []
    assert textonly.validate(PublishRequest(text="   ")) == ["Write some text."]


def test_sandbox_and_mastodon_declare_their_capabilities():
    sandbox = registry.get_connector("sandbox")
    mastodon = registry.get_connector("mastodon")
    assert sandbox.is_sandbox and not mastodon.is_sandbox
    assert sandbox.capabilities.impressions and not mastodon.capabilities.impressions
    assert mastodon.capabilities.idempotency_window_seconds == 3600
    assert mastodon.limits.text_counting == "chars_url23"
    assert sandbox.limits.text_counting == "graphemes"
