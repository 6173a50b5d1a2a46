"""The complete record against the real Bluesky servers, run locally (``bsky_network``).

Our account posts in Bluesky's own app (straight to its PDS, not through GovSocial);
citizens reply, one of them deletes their reply. The archive keeps both posts, the
comments below them, and the deleted comment marked as found gone; syncing again
adds nothing."""

from __future__ import annotations

import pytest

from accounts import services as account_services
from accounts.models import ChannelAccount
from archive.models import (
    ArchiveCursor,
    ArchivedComment,
    ArchivedPost,
    ArchivedPostVersion,
)
from archive.services.archive import archive_sync_account
from tests.bsky_fixtures import BskyAccount, BskyNetwork

pytestmark = [pytest.mark.bsky, pytest.mark.django_db]


@pytest.fixture
def bsky(bsky_network: BskyNetwork, settings) -> BskyNetwork:
    settings.CONNECTORS_ALLOW_PRIVATE_NETWORKS = True
    settings.BLUESKY_PLC_URL = bsky_network.plc_url
    settings.BLUESKY_DEFAULT_SERVICE = bsky_network.pds_url
    return bsky_network


def _connect(bsky: BskyNetwork, personas) -> tuple[BskyAccount, ChannelAccount]:
    remote = bsky.create_account("city")
    account = account_services.channel_account_connect_bluesky(
        organization=personas.org,
        actor=personas.alice,
        handle=f"@{remote.handle}",
        app_password=bsky.create_app_password(remote, "GovSocial"),
    )
    return remote, ChannelAccount.objects.select_related("organization").get(pk=account.pk)


def test_posts_made_in_the_app_and_a_deleted_comment_are_kept(bsky, personas):
    remote, account = _connect(bsky, personas)
    post = bsky.post(remote, "Jätehuolto: tyhjennykset siirtyvät perjantaille.", langs=["fi"])
    bsky.post(remote, "Kirjaston aukioloajat muuttuvat.", langs=["fi"])
    aino = bsky.create_account("aino")
    kept = bsky.reply(aino, post.uri, "Kiitos tiedosta")
    doomed = bsky.reply(aino, post.uri, "Roska-autot eivät koskaan tule ajallaan")
    bsky.process_all()

    first = archive_sync_account(account=account)

    assert (first.outcome, first.new_posts, first.new_comments) == ("synced", 2, 2)
    archived = ArchivedPost.objects.get(channel_account=account, remote_id=post.uri)
    assert archived.text == "Jätehuolto: tyhjennykset siirtyvät perjantaille."
    assert archived.language == "fi"
    assert archived.versions.count() == 1
    comment = ArchivedComment.objects.get(remote_id=doomed.uri)
    assert comment.post == archived
    assert comment.author_handle == aino.handle

    bsky.call(
        "POST",
        "com.atproto.repo.deleteRecord",
        token=aino.access_jwt,
        json_body={"repo": aino.did, "collection": "app.bsky.feed.post", "rkey": doomed.rkey},
    )
    bsky.process_all()
    ArchiveCursor.objects.filter(channel_account=account).update(next_sync_at=None)
    second = archive_sync_account(account=account)

    assert (second.outcome, second.new_posts, second.new_comments, second.found_gone) == (
        "synced",
        0,
        0,
        1,
    )
    comment.refresh_from_db()
    assert comment.found_gone_at is not None
    assert comment.text == "Roska-autot eivät koskaan tule ajallaan"
    assert ArchivedComment.objects.get(remote_id=kept.uri).found_gone_at is None
    assert ArchivedPost.objects.filter(channel_account=account).count() == 2
    assert ArchivedComment.objects.filter(channel_account=account).count() == 2
    assert ArchivedPostVersion.objects.filter(post__channel_account=account).count() == 2
