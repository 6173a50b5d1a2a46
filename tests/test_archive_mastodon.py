"""The complete record against the Mastodon test server: the account's own statuses
(made in Mastodon's own app), every version of an edited one (its status history),
the comments below them, a comment its author deleted kept and marked, a status
deleted by us kept and marked; a re-sync adds nothing, and a run cut short resumes
from its stored cursor."""

from __future__ import annotations

import pytest

from accounts.connectors.base import TransientError
from accounts.models import ChannelAccount
from archive.models import (
    ArchiveCursor,
    ArchivedComment,
    ArchivedPost,
    ArchivedPostVersion,
    RecordEntry,
    RecordKind,
)
from archive.services.archive import archive_sync_account
from governance.models import AuditEvent as AuditEntry
from tests.factories import ChannelAccountFactory
from tests.mastodon_server.server import MastodonTestServer

pytestmark = pytest.mark.django_db


def _account(server: MastodonTestServer, personas) -> ChannelAccount:
    account = ChannelAccountFactory.create(
        organization=personas.org,
        network="mastodon",
        handle="@comms@social.example",
        remote_id=server.user.id,
        server_url=server.base_url,
        credentials={"access_token": server.issue_token()},
    )
    return ChannelAccount.objects.select_related("organization").get(pk=account.pk)


def _counts(account: ChannelAccount) -> tuple[int, int, int, int]:
    return (
        ArchivedPost.objects.filter(channel_account=account).count(),
        ArchivedPostVersion.objects.filter(post__channel_account=account).count(),
        ArchivedComment.objects.filter(channel_account=account).count(),
        RecordEntry.objects.filter(channel_account=account).count(),
    )


def test_an_edited_post_and_a_deleted_comment_are_kept_with_every_version(
    mastodon_server, personas
):
    server = mastodon_server
    account = _account(server, personas)
    post = server.post_as(server.user, "Uimahalli on suljettu maanantaina.")
    server.post_as(server.user, "Kirjasto avautuu kello yhdeksän.")
    citizen = server.create_account("aino", "Aino Virtanen")
    kept = server.post_as(citizen, "Kiitos tiedosta!", in_reply_to=post.id)
    doomed = server.post_as(
        citizen, "Uimahallin kassajono on aivan liian pitkä", in_reply_to=post.id
    )
    post.language = "fi"

    first = archive_sync_account(account=account)

    assert (first.outcome, first.new_posts, first.new_comments) == ("synced", 2, 2)
    archived = ArchivedPost.objects.get(channel_account=account, remote_id=post.id)
    assert archived.text == "Uimahalli on suljettu maanantaina."
    assert archived.versions.count() == 1

    server.edit_as(post, "Uimahalli on suljettu maanantaina ja tiistaina.")
    server.delete_as(doomed)
    archive_sync_account(account=account)  # the pass had ended: it waits its interval
    ArchiveCursor.objects.filter(channel_account=account).update(next_sync_at=None)
    second = archive_sync_account(account=account)

    assert second.outcome == "synced"
    archived.refresh_from_db()
    assert archived.text == "Uimahalli on suljettu maanantaina ja tiistaina."
    assert archived.edited_at is not None
    assert list(archived.versions.order_by("valid_from").values_list("text", flat=True)) == [
        "Uimahalli on suljettu maanantaina.",
        "Uimahalli on suljettu maanantaina ja tiistaina.",
    ]
    gone = ArchivedComment.objects.get(remote_id=doomed.id)
    assert gone.text == "Uimahallin kassajono on aivan liian pitkä"
    assert gone.author_handle == "@aino@social.example"
    assert gone.found_gone_at is not None
    assert ArchivedComment.objects.get(remote_id=kept.id).found_gone_at is None
    assert AuditEntry.objects.filter(action="archive.comment_found_gone").count() == 1
    # The earlier wording is searchable as a version; the gone comment is marked there too.
    assert RecordEntry.objects.filter(
        kind=RecordKind.POST_VERSION, text="Uimahalli on suljettu maanantaina."
    ).exists()
    entry = RecordEntry.objects.get(kind=RecordKind.COMMENT, object_id=gone.pk)
    assert entry.found_gone_at == gone.found_gone_at

    # Only the edited status's history was asked for.
    assert [r.path for r in server.requests if r.path.endswith("/history")] == [
        f"/api/v1/statuses/{post.id}/history"
    ]
    before = _counts(account)
    ArchiveCursor.objects.filter(channel_account=account).update(next_sync_at=None)
    again = archive_sync_account(account=account)
    assert (again.new_posts, again.new_versions, again.new_comments) == (0, 0, 0)
    assert _counts(account) == before


def test_a_post_deleted_on_the_network_is_kept_and_marked_at_the_end_of_a_pass(
    mastodon_server, personas
):
    server = mastodon_server
    account = _account(server, personas)
    status = server.post_as(server.user, "Tiedote: vesikatko torstaina")
    archive_sync_account(account=account)
    server.delete_as(status)
    ArchiveCursor.objects.filter(channel_account=account).update(next_sync_at=None)

    result = archive_sync_account(account=account)

    assert result.found_gone == 1
    post = ArchivedPost.objects.get(remote_id=status.id)
    assert post.text == "Tiedote: vesikatko torstaina"
    assert post.found_gone_at is not None
    assert AuditEntry.objects.filter(action="archive.post_found_gone").count() == 1


def test_a_run_cut_short_resumes_from_its_cursor_and_adds_no_duplicates(mastodon_server, personas):
    server = mastodon_server
    account = _account(server, personas)
    for number in range(95):
        server.post_as(server.user, f"Tiedote {number}")

    first = archive_sync_account(account=account, max_pages=2)

    assert (first.outcome, first.pages) == ("synced", 2)
    assert ArchivedPost.objects.filter(channel_account=account).count() == 80
    cursor = ArchiveCursor.objects.get(channel_account=account)
    assert cursor.cursor  # where the walk stood
    ArchiveCursor.objects.filter(pk=cursor.pk).update(next_sync_at=None)

    second = archive_sync_account(account=account)

    assert (second.outcome, second.new_posts) == ("synced", 15)
    path = f"/api/v1/accounts/{server.user.id}/statuses"
    asked = [r.query.get("max_id", [None])[0] for r in server.requests_to("GET", path)]
    # The second run started where the first stopped, not from the newest.
    assert asked[2] == cursor.cursor
    assert ArchivedPost.objects.filter(channel_account=account).count() == 95
    assert (
        ArchivedPost.objects.filter(channel_account=account).values("remote_id").distinct().count()
        == 95
    )
    assert ArchiveCursor.objects.get(pk=cursor.pk).passes_completed == 1


def test_a_network_failure_is_classified_not_raised(mastodon_server, personas):
    account = _account(mastodon_server, personas)
    mastodon_server.fail_next(500, method="GET", path_prefix="/api/v1/accounts/", times=10)
    result = archive_sync_account(account=account)
    assert result.outcome == "failed"
    row = ArchiveCursor.objects.get(channel_account=account)
    assert row.last_error_kind == TransientError.kind
    assert row.next_sync_at is not None and row.leased_until is None


def test_the_tick_sends_one_archive_run_per_account_due(mastodon_server, personas, monkeypatch):
    from archive import tasks
    from archive.selectors import channel_accounts_due_for_archive

    account = _account(mastodon_server, personas)
    sent: list[tuple[list[int], str]] = []
    monkeypatch.setattr(
        tasks.archive_account,
        "apply_async",
        lambda args, queue, expires: sent.append((args, queue)),
    )
    assert tasks.archive_sync_all() >= 1
    assert ([account.pk], "sync") in sent
    # The run itself, as the worker would do it.
    assert tasks.archive_account(account.pk) == "synced"
    # A pass that ended waits its interval: the next tick leaves the account alone.
    assert account.pk not in set(channel_accounts_due_for_archive().values_list("pk", flat=True))
