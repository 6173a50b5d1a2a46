"""Fixtures and helpers for publishing tests, loaded as a pytest plugin by the root
conftest: people with review roles, posts in any state, and a dispatcher that runs
claimed jobs in this process (the real worker path is covered by
tests/test_publishing_e2e.py and tests/test_publishing_faults.py)."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from accounts.models import ChannelAccount
from governance.models import Membership, Role
from publishing.models import MediaAsset, Post, PostStatus
from publishing.services import dispatch as dispatch_services
from publishing.services.approval import post_approve
from publishing.services.media import media_asset_upload
from publishing.services.posts import (
    post_create,
    post_schedule,
    post_submit_for_review,
    variant_save,
)
from tests.factories import MembershipFactory, UserFactory


@dataclass
class Team:
    """The personas plus people who review and manage."""

    alice: Membership  # admin
    bob: Membership  # editor limited to bob_account
    carol: Membership  # auditor
    rita: Membership  # reviewer
    manny: Membership  # manager
    eddie: Membership  # editor with every account
    charlie: Membership  # admin of the other organization
    account: ChannelAccount  # bob_account (sandbox)
    other_account: ChannelAccount
    outsider_account: ChannelAccount


@pytest.fixture
def team(personas) -> Team:
    org = personas.org
    rita: Membership = MembershipFactory(  # type: ignore[assignment]
        organization=org,
        user=UserFactory(email="rita@example.org", full_name="Rita Reviewer"),
        role=Role.REVIEWER,
    )
    manny: Membership = MembershipFactory(  # type: ignore[assignment]
        organization=org,
        user=UserFactory(email="manny@example.org", full_name="Manny Manager"),
        role=Role.MANAGER,
    )
    eddie: Membership = MembershipFactory(  # type: ignore[assignment]
        organization=org,
        user=UserFactory(email="eddie@example.org", full_name="Eddie Editor"),
        role=Role.EDITOR,
    )
    return Team(
        alice=personas.membership(personas.alice),
        bob=personas.membership(personas.bob),
        carol=personas.membership(personas.carol),
        rita=rita,
        manny=manny,
        eddie=eddie,
        charlie=personas.membership(personas.charlie),
        account=personas.bob_account,
        other_account=personas.other_account,
        outsider_account=personas.outsider_account,
    )


def png_bytes(size: tuple[int, int] = (8, 6), color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def make_image(membership: Membership, alt: dict[str, str] | None = None) -> MediaAsset:
    return media_asset_upload(
        membership=membership,
        file=ContentFile(png_bytes(), name="photo.png"),
        alt_texts=alt or {},
    )


def draft(
    author: Membership,
    account: ChannelAccount,
    text: str = "Library opens at 9.",
    *,
    language: str = "fi",
    title: str = "Library",
    **variant: object,
) -> Post:
    post = post_create(membership=author, title=title)
    variant_save(
        post=post,
        membership=author,
        channel_account=account,
        language=language,
        text=text,
        **variant,  # type: ignore[arg-type]
    )
    post.refresh_from_db()
    return post


def approved(
    team: Team,
    text: str = "Library opens at 9.",
    *,
    account: ChannelAccount | None = None,
    **kwargs: object,
) -> Post:
    post = draft(team.eddie, account or team.account, text, **kwargs)  # type: ignore[arg-type]
    post_submit_for_review(post=post, membership=team.eddie)
    post_approve(post=post, membership=team.rita)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    return post


def scheduled(team: Team, at: datetime | None = None, **kwargs: object) -> Post:
    post = approved(team, **kwargs)  # type: ignore[arg-type]
    post_schedule(post=post, membership=team.eddie, at=at or timezone.now() + timedelta(hours=1))
    post.refresh_from_db()
    return post


@pytest.fixture
def run_due(django_capture_on_commit_callbacks) -> Callable[..., list[str]]:
    """``run_due(now=…)``: one dispatcher tick, then every enqueued job run here, in order.
    Returns each job's outcome."""

    def run(now: datetime | None = None) -> list[str]:
        enqueued: list[int] = []
        with django_capture_on_commit_callbacks(execute=True):
            dispatch_services.dispatch_due(now=now, enqueue=enqueued.extend)
        outcomes = []
        for pk in enqueued:
            with django_capture_on_commit_callbacks(execute=True):
                outcomes.append(dispatch_services.publish_job_run(job_id=pk, worker="test"))
        return outcomes

    return run
