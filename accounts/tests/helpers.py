"""Typed shortcuts for the accounts tests."""

from __future__ import annotations

from typing import Any, cast

from accounts.models import ChannelAccount
from tests.factories import ChannelAccountFactory


def channel_account(**fields: Any) -> ChannelAccount:
    """A saved ChannelAccount (the factory, typed as what it makes)."""
    return cast(ChannelAccount, ChannelAccountFactory(**fields))
