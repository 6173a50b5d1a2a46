"""What the Accounts pages share: the caller, and an account as the pages show it."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import AccountStatus, ChannelAccount
from accounts.selectors import NetworkSummary, network_summary
from governance.models import Membership, User
from governance.selectors.access import request_membership, require_perm

# What the accounts list says a network supports (the detail page says more).
LIST_CAPABILITIES: list[tuple[str, Promise]] = [
    ("publish", _("Publishing")),
    ("images", _("Images")),
    ("replies", _("Replies")),
    ("direct_messages", _("Direct messages")),
    ("metrics", _("Metrics")),
]
DETAIL_CAPABILITIES: list[tuple[str, Promise]] = [
    *LIST_CAPABILITIES,
    ("alt_text", _("Image descriptions (alt text)")),
    ("threads", _("Threads")),
    ("delete", _("Deleting posts")),
    ("inbox", _("Inbox (mentions and replies)")),
    ("impressions", _("Impressions")),
    ("content_warning", _("Content warnings")),
    ("visibility", _("Choosing who sees a post")),
    ("language", _("Marking a post's language")),
    ("refresh_credentials", _("Renewing the sign-in by itself")),
]

TEXT_COUNTING: dict[str, Promise] = {
    "chars": _("counted as characters"),
    "graphemes": _("counted as characters as people see them"),
    "chars_url23": _("every web address counts as 23 characters"),
    "weighted": _("some characters, such as Chinese or emoji, count double"),
    "emoji_bytes": _("counted as characters, but an emoji counts as 4"),
}

STATUS_EXPLANATIONS: dict[str, Promise] = {
    AccountStatus.ACTIVE: _("Connected and working."),
    AccountStatus.NEEDS_RECONNECT: _(
        "The network no longer accepts GovSocial's sign-in. Nothing can be posted to this "
        "account until someone who manages accounts reconnects it."
    ),
    AccountStatus.PAUSED: _("Publishing to this account is paused."),
    AccountStatus.DISCONNECTED: _(
        "Disconnected: GovSocial holds no sign-in for this account. Reconnect it to use it again."
    ),
}


@dataclass
class AccountView:
    """One account with what its network can do, as the pages show it."""

    account: ChannelAccount
    network: NetworkSummary
    supported: list[str]
    unsupported: list[str]

    @property
    def status_explanation(self) -> str:
        return str(STATUS_EXPLANATIONS.get(self.account.status, ""))


def account_view(account: ChannelAccount) -> AccountView:
    network = network_summary(account.network)
    supported: list[str] = []
    unsupported: list[str] = []
    for name, label in LIST_CAPABILITIES:
        (supported if getattr(network.capabilities, name) else unsupported).append(str(label))
    return AccountView(
        account=account, network=network, supported=supported, unsupported=unsupported
    )


def capability_rows(network: NetworkSummary) -> list[tuple[str, bool]]:
    return [
        (str(label), bool(getattr(network.capabilities, name)))
        for name, label in DETAIL_CAPABILITIES
    ]


def user_of(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    return user


def membership_with(request: HttpRequest, perm: str) -> Membership:
    """The caller's membership, or 404 without one and 403 without ``perm``."""
    membership = request_membership(request)
    require_perm(membership, perm)
    return membership
