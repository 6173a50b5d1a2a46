"""Test set-up for handover: an editor (bob, of the ``personas``) who holds something in
every area, and the people who can take it over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from accounts.models import ChannelAccount
from governance.models import Membership, RegistryEntry, Role, VaultSecret
from publishing.models import ApprovalPolicy, Post
from publishing.services.approval import StageInput, approval_policy_save, post_approve
from publishing.services.posts import (
    post_create,
    post_schedule,
    post_submit_for_review,
    variant_save,
)
from tests.factories import ChannelAccountFactory, MembershipFactory, UserFactory


@dataclass
class Holdings:
    alice: Membership  # admin
    bob: Membership  # the editor who leaves
    carol: Membership  # auditor
    manny: Membership  # manager: may take anything over
    rita: Membership  # reviewer
    eddie: Membership  # another editor
    post: Post  # scheduled, written by bob
    policy: ApprovalPolicy  # names bob as an approver
    connected: ChannelAccount  # connected by bob
    entry: RegistryEntry  # bob is its business owner
    secret: VaultSecret  # bob knew it


def scheduled_post(
    author: Membership, reviewer: Membership, account: ChannelAccount, title: str
) -> Post:
    post = post_create(membership=author, title=title)
    variant_save(
        post=post, membership=author, channel_account=account, language="fi", text=f"{title}."
    )
    post_submit_for_review(post=post, membership=author)
    post_approve(post=post, membership=reviewer)
    post_schedule(post=post, membership=author, at=timezone.now() + timedelta(days=2))
    post.refresh_from_db()
    return post


def build_holdings(personas) -> Holdings:
    org = personas.org
    alice = personas.membership(personas.alice)
    bob = personas.membership(personas.bob)
    manny = MembershipFactory.create(
        organization=org,
        user=UserFactory.create(email="manny@example.org", full_name="Manny Manager"),
        role=Role.MANAGER,
    )
    rita = MembershipFactory.create(
        organization=org,
        user=UserFactory.create(email="rita@example.org", full_name="Rita Reviewer"),
        role=Role.REVIEWER,
    )
    eddie = MembershipFactory.create(
        organization=org,
        user=UserFactory.create(email="eddie@example.org", full_name="Eddie Editor"),
        role=Role.EDITOR,
    )
    post = scheduled_post(bob, rita, personas.bob_account, "Library opening hours")
    policy = approval_policy_save(
        membership=alice,
        name="Comms sign-off",
        channel_account=personas.other_account,
        stages=[StageInput(name="Comms lead", reviewer_ids=[bob.pk])],
    )
    connected = ChannelAccountFactory.create(
        organization=org,
        handle="city-events",
        display_name="City Events",
        connected_by=personas.bob,
    )
    entry = RegistryEntry.objects.create(
        organization=org,
        network="facebook",
        handle="CityOfExample",
        business_owner=bob,
        technical_custodian=alice,
        next_review_due=date.today() + timedelta(days=90),
    )
    secret = VaultSecret.objects.create(organization=org, name="Facebook password", value="hunter2")
    secret.known_by.add(bob)
    return Holdings(
        alice=alice,
        bob=bob,
        carol=personas.membership(personas.carol),
        manny=manny,
        rita=rita,
        eddie=eddie,
        post=post,
        policy=policy,
        connected=connected,
        entry=entry,
        secret=secret,
    )
