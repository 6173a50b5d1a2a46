"""Personas shared by every test: alice (admin), bob (editor limited to one account),
carol (auditor) in one organization, and charlie, an admin of another organization."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from accounts.models import ChannelAccount
from governance.models import Membership, Organization, Role, TOTPDevice, User
from tests.factories import (
    ChannelAccountFactory,
    MembershipFactory,
    OrganizationFactory,
    TOTPDeviceFactory,
    UserFactory,
)

pytest_plugins = [
    "tests.mastodon_server.fixtures",
    "tests.linkedin_server.fixtures",
    "tests.threads_server.fixtures",
    "tests.x_server.fixtures",
    "tests.tiktok_server.fixtures",
    "tests.youtube_server.fixtures",
    "tests.graph_server.fixtures",
    "tests.oidc_server.fixtures",
    "tests.saml_idp.fixtures",
    "tests.bsky_fixtures",
    "publishing.tests.fixtures",
]


@dataclass
class Personas:
    org: Organization
    other_org: Organization
    alice: User  # admin
    bob: User  # editor limited to ``bob_account``
    carol: User  # auditor
    charlie: User  # admin of other_org: an outsider
    bob_account: ChannelAccount
    other_account: ChannelAccount  # in org, not visible to bob
    outsider_account: ChannelAccount  # in other_org

    def membership(self, user: User) -> Membership:
        return Membership.objects.get(user=user)


@pytest.fixture(autouse=True)
def audit_checkpoint_dir(settings, tmp_path):
    """Each test's audit checkpoints go to a folder of its own."""
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "audit-checkpoints"
    return settings.AUDIT_CHECKPOINT_DIR


@pytest.fixture
def personas(db) -> Personas:
    org = OrganizationFactory.create(name="City of Example", slug="example")
    other = OrganizationFactory.create(name="Other Agency", slug="other")
    alice = UserFactory.create(email="alice@example.org", full_name="Alice Admin")
    bob = UserFactory.create(email="bob@example.org", full_name="Bob Editor")
    carol = UserFactory.create(email="carol@example.org", full_name="Carol Auditor")
    charlie = UserFactory.create(email="charlie@other.example", full_name="Charlie Outsider")
    MembershipFactory.create(organization=org, user=alice, role=Role.ADMIN)
    bob_membership = MembershipFactory.create(
        organization=org, user=bob, role=Role.EDITOR, all_accounts=False
    )
    MembershipFactory.create(organization=org, user=carol, role=Role.AUDITOR)
    MembershipFactory.create(organization=other, user=charlie, role=Role.ADMIN)
    bob_account = ChannelAccountFactory.create(organization=org, handle="city-news")
    bob_account.limited_members.add(bob_membership)
    other_account = ChannelAccountFactory.create(organization=org, handle="city-mayor")
    outsider_account = ChannelAccountFactory.create(organization=other, handle="agency")
    return Personas(
        org=org,
        other_org=other,
        alice=alice,
        bob=bob,
        carol=carol,
        charlie=charlie,
        bob_account=bob_account,
        other_account=other_account,
        outsider_account=outsider_account,
    )


def login_verified(client: Client, user: User) -> TOTPDevice:
    """Log ``user`` in with a confirmed authenticator, as if they had entered a code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDeviceFactory.create(user=user)
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return device


@pytest.fixture
def login():
    """``login(client, user)``: a logged-in client whose second factor is verified."""
    return login_verified


@pytest.fixture(autouse=True)
def _each_test_starts_in_english():
    """Each test starts in the site's language. A request by a Finnish or Swedish
    member leaves that language active in the thread (LocaleMiddleware activates it and
    nothing resets it), which would leak into the next test's messages."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _short_link_clicks_start_afresh():
    """Short-link clicks wait in Redis (and codes in a per-process cache) outside the
    test's database transaction: each test starts and ends without them."""
    from publishing.services import links

    def clear() -> None:
        links._link_cache.clear()
        client = links._redis()
        if client is not None:
            client.delete(*links.click_keys())

    clear()
    yield
    clear()
