"""The dispatcher's exactly-once promise on Facebook and Instagram, which have no
idempotency key: a publish whose answer is lost is reconciled by looking through the
account's recent posts (and, on Instagram, the remembered container) before anything
is sent again."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from accounts.connectors.registry import get_connector
from accounts.models import ChannelAccount
from publishing.models import AttemptKind, AttemptStatus, JobStatus, PublishAttempt, PublishJob
from publishing.services.approval import post_approve
from publishing.services.media import media_asset_upload
from publishing.services.posts import (
    MediaSlot,
    post_create,
    post_schedule,
    post_submit_for_review,
    variant_save,
)

pytestmark = pytest.mark.django_db


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1080, 1350), (200, 60, 20)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def impatient():
    """The registry's connectors give up on an answer after half a second."""
    saved = {name: get_connector(name).timeout for name in ("facebook", "instagram")}
    for name in saved:
        get_connector(name).timeout = (2.0, 0.5)
    cache.clear()
    yield
    for name, timeout in saved.items():
        get_connector(name).timeout = timeout


@pytest.fixture
def accounts(team, graph_server):
    page = graph_server.create_page("City of Example", with_instagram="cityofexample")
    org = team.alice.organization
    facebook = ChannelAccount.objects.create(
        organization=org,
        network="facebook",
        handle=page.name,
        remote_id=page.id,
        server_url=graph_server.base_url,
        credentials={"access_token": page.token},
    )
    instagram = ChannelAccount.objects.create(
        organization=org,
        network="instagram",
        handle="@cityofexample",
        remote_id=page.ig_id,
        server_url=graph_server.base_url,
        credentials={"access_token": page.token, "page_id": page.id},
    )
    return page, facebook, instagram


def _schedule(team, account, text: str, *, image=None):
    post = post_create(membership=team.eddie, title=text[:20])
    variant_save(
        post=post,
        membership=team.eddie,
        channel_account=account,
        language="fi",
        text=text,
        media=[MediaSlot(asset=image)] if image else (),
    )
    post_submit_for_review(post=post, membership=team.eddie)
    post_approve(post=post, membership=team.rita)
    at = timezone.now() + timedelta(hours=1)
    post_schedule(post=post, membership=team.eddie, at=at)
    return post, at


@pytest.mark.parametrize("network", ["facebook", "instagram"])
def test_a_lost_answer_is_reconciled_and_never_published_twice(
    team, graph_server, accounts, run_due, impatient, media_root, monkeypatch, network
):
    page, facebook, instagram = accounts
    account = facebook if network == "facebook" else instagram
    image = media_asset_upload(
        membership=team.eddie,
        file=ContentFile(_jpeg(), name="sign.jpg"),
        alt_texts={"fi": "Kyltti"},
    )
    # Instagram downloads the image from its public address: here the Graph server hosts it.
    hosted = graph_server.host_image(_jpeg())
    monkeypatch.setattr("publishing.validation.media_public_url", lambda asset: hosted)
    post, at = _schedule(team, account, f"Tiedote ({network})", image=image)
    endpoint = f"/{page.id}/feed" if network == "facebook" else f"/{page.ig_id}/media_publish"
    graph_server.hang(method="POST", path_prefix=endpoint, after_processing=True)
    try:
        with time_machine.travel(at + timedelta(seconds=1), tick=False):
            assert run_due() == ["retry"]
    finally:
        graph_server.release()
    job = PublishJob.objects.get(post=post)
    assert job.needs_reconcile
    with time_machine.travel(job.next_attempt_at + timedelta(seconds=1), tick=False):
        assert run_due() == ["published"]
    [published] = graph_server.posts_of(account.remote_id)
    job.refresh_from_db()
    assert job.status == JobStatus.PUBLISHED and job.remote_id == published.id
    assert len(graph_server.requests_to("POST", endpoint)) == 1
    kinds = list(PublishAttempt.objects.order_by("number").values_list("kind", "status"))
    assert kinds == [
        (AttemptKind.PUBLISH, AttemptStatus.UNKNOWN),
        (AttemptKind.RECONCILE, AttemptStatus.RECONCILED),
    ]
