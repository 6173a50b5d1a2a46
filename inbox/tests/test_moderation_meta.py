"""Hiding, showing again and deleting comments from the inbox (Facebook and Instagram):
done on the network, audited with the comment's text kept in our records."""

from __future__ import annotations

import pytest

from accounts.connectors.base import PublishRequest
from accounts.connectors.registry import get_connector
from accounts.tests.helpers import channel_account
from governance.models import AuditEvent
from inbox.models import InboxItem
from inbox.services.sync import inbox_sync_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def comment_item(personas, graph_server):
    page = graph_server.create_page("City of Example")
    account = channel_account(
        organization=personas.org,
        network="facebook",
        handle=page.name,
        remote_id=page.id,
        server_url=graph_server.base_url,
        credentials={"access_token": page.token},
    )
    post = get_connector("facebook").publish(account, PublishRequest(text="Budget 2027"))
    comment = graph_server.comment_as(post.remote_id, "You are all idiots", name="Troll")
    inbox_sync_account(account=account)
    return InboxItem.objects.get(remote_id=comment.id), comment


def test_hide_show_and_delete_a_comment_from_the_item_page(
    client, personas, login, graph_server, comment_item
):
    item, comment = comment_item
    login(client, personas.alice)
    page = client.get(f"/inbox/{item.pk}/").content.decode()
    assert "Hide the comment" in page
    response = client.post(f"/inbox/{item.pk}/moderate/", {"action": "hide"})
    assert response.status_code == 302
    assert graph_server.comments[comment.id].hidden
    assert "Show the comment again" in client.get(f"/inbox/{item.pk}/").content.decode()
    client.post(f"/inbox/{item.pk}/moderate/", {"action": "unhide"})
    assert not graph_server.comments[comment.id].hidden
    client.post(f"/inbox/{item.pk}/moderate/", {"action": "delete"})
    assert graph_server.comments[comment.id].deleted
    item.refresh_from_db()
    assert item.deleted_on_network_at is not None
    assert item.text == "You are all idiots"  # kept in our records
    events = AuditEvent.objects.filter(action__startswith="inbox_item.comment_").order_by("pk")
    assert [e.action for e in events] == [
        "inbox_item.comment_hidden",
        "inbox_item.comment_unhidden",
        "inbox_item.comment_deleted",
    ]
    assert all(e.new_values["text"] == "You are all idiots" for e in events)
    assert all(e.actor == personas.alice for e in events)


def test_auditors_cannot_moderate_and_other_organizations_get_404(
    client, personas, login, graph_server, comment_item
):
    item, comment = comment_item
    login(client, personas.carol)
    assert client.post(f"/inbox/{item.pk}/moderate/", {"action": "hide"}).status_code == 403
    client.logout()
    login(client, personas.charlie)
    assert client.post(f"/inbox/{item.pk}/moderate/", {"action": "hide"}).status_code == 404
    assert not graph_server.comments[comment.id].hidden


def test_a_network_failure_is_explained_and_changes_nothing_here(
    client, personas, login, graph_server, comment_item
):
    item, comment = comment_item
    graph_server.fail_next(2, message="Service temporarily unavailable", method="POST")
    login(client, personas.alice)
    response = client.post(f"/inbox/{item.pk}/moderate/", {"action": "hide"}, follow=True)
    assert "The network did not do it" in response.content.decode()
    assert not AuditEvent.objects.filter(action="inbox_item.comment_hidden").exists()
    assert not graph_server.comments[comment.id].hidden
