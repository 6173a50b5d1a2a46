"""Which connector serves which network.

Adding a network: write ``accounts/connectors/<network>.py`` with a
``Connector`` subclass and add one line to ``CONNECTORS`` below. Modules are
imported on first use, so importing the registry stays cheap.
"""

from __future__ import annotations

from django.utils.module_loading import import_string

from accounts.connectors.base import Connector

CONNECTORS: dict[str, str | type[Connector]] = {
    "sandbox": "accounts.connectors.sandbox.SandboxConnector",
    "mastodon": "accounts.connectors.mastodon.MastodonConnector",
    "bluesky": "accounts.connectors.bluesky.BlueskyConnector",
    "linkedin": "accounts.connectors.linkedin.LinkedInConnector",
    "threads": "accounts.connectors.threads.ThreadsConnector",
    "x": "accounts.connectors.x.XConnector",
    "facebook": "accounts.connectors.facebook.FacebookConnector",
    "instagram": "accounts.connectors.instagram.InstagramConnector",
    "tiktok": "accounts.connectors.tiktok.TikTokConnector",
    "youtube": "accounts.connectors.youtube.YouTubeConnector",
}

_instances: dict[str, Connector] = {}


class UnknownNetwork(LookupError):
    pass


def register(network: str, connector: str | type[Connector]) -> None:
    """Add or replace the connector for ``network`` (a dotted path or the class)."""
    CONNECTORS[network] = connector
    _instances.pop(network, None)


def get_connector(network: str) -> Connector:
    """The connector for ``network``; raises :class:`UnknownNetwork` for a name we lack."""
    instance = _instances.get(network)
    if instance is None:
        try:
            path = CONNECTORS[network]
        except KeyError:
            raise UnknownNetwork(f"No connector for network {network!r}") from None
        cls = import_string(path) if isinstance(path, str) else path
        if not (isinstance(cls, type) and issubclass(cls, Connector)):
            raise TypeError(f"{path} is not a Connector subclass")
        if cls.network != network:
            raise TypeError(f"{path} serves {cls.network!r}, not {network!r}")
        instance = _instances[network] = cls()
    return instance


def networks() -> list[str]:
    """Names of every network we can connect, in the order above."""
    return list(CONNECTORS)
