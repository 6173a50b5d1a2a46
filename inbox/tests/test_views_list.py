"""The inbox list: what people see, filters, paging, new rows, bulk actions, views."""

from __future__ import annotations

import json
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.models import AuditEvent, Notification
from inbox.models import InboxItem, ItemKind, ItemStatus, Priority, SavedView, Tag
from inbox.tests.helpers import citizen_writes, make_item


def test_the_inbox_lists_items_newest_first_with_who_where_and_when(client, personas, login):
    make_item(
        personas.bob_account,
        author_name="Older Person",
        text="First message",
        posted_at=timezone.now() - timedelta(hours=2),
    )
    make_item(
        personas.other_account,
        author_name="Newer Person",
        text="Second message",
        kind=ItemKind.DM,
        posted_at=timezone.now() - timedelta(hours=1),
    )
    login(client, personas.alice)
    body = client.get("/inbox/").content.decode()
    assert body.index("Newer Person") < body.index("Older Person")
    for text in ("Second message", "Direct message", "city-mayor", "Sandbox", "<time datetime="):
        assert text in body
    assert '<h1 id="inbox-heading" class="inbox-list-heading">Inbox</h1>' in body


def test_a_limited_member_sees_only_items_of_their_accounts(client, personas, login):
    mine = make_item(personas.bob_account, author_name="For Bob")
    other = make_item(personas.other_account, author_name="Not For Bob")
    login(client, personas.bob)
    body = client.get("/inbox/").content.decode()
    assert "For Bob" in body and "Not For Bob" not in body
    assert client.get(f"/inbox/{mine.pk}/").status_code == 200
    assert client.get(f"/inbox/{other.pk}/").status_code == 404


def test_another_organizations_item_is_not_found(client, personas, login):
    item = make_item(personas.outsider_account)
    login(client, personas.alice)
    assert client.get(f"/inbox/{item.pk}/").status_code == 404
    assert client.post(f"/inbox/{item.pk}/status/", {"status": "closed"}).status_code == 404
    assert "Citizen" not in client.get("/inbox/").content.decode()


def test_an_auditor_reads_but_cannot_triage(client, personas, login):
    item = make_item(personas.bob_account)
    login(client, personas.carol)
    assert client.get(f"/inbox/{item.pk}/").status_code == 200
    assert client.post(f"/inbox/{item.pk}/status/", {"status": "closed"}).status_code == 403
    assert client.post(f"/inbox/{item.pk}/reply/", {"body": "Hi"}).status_code == 403
    item.refresh_from_db()
    assert item.status == ItemStatus.NEW


def test_filters_narrow_the_list(client, personas, login):
    flood = Tag.objects.create(organization=personas.org, name="Flood")
    mine = make_item(
        personas.bob_account,
        author_name="Assigned To Alice",
        assignee=personas.alice,
        status=ItemStatus.ASSIGNED,
    )
    tagged = make_item(personas.other_account, author_name="Tagged Flood")
    tagged.tags.add(flood)
    make_item(
        personas.other_account,
        author_name="Late One",
        sla_due_at=timezone.now() - timedelta(hours=1),
    )
    make_item(
        personas.other_account,
        author_name="Closed One",
        status=ItemStatus.CLOSED,
        sla_due_at=timezone.now() - timedelta(hours=1),
    )
    make_item(personas.other_account, author_name="Urgent One", priority=Priority.URGENT)
    login(client, personas.alice)

    def names(query: str) -> set[str]:
        body = client.get(f"/inbox/?{query}").content.decode()
        return {
            name
            for name in (
                "Assigned To Alice",
                "Tagged Flood",
                "Late One",
                "Closed One",
                "Urgent One",
            )
            if name in body
        }

    assert names("assignee=me") == {"Assigned To Alice"}
    assert names(f"tag={flood.pk}") == {"Tagged Flood"}
    assert names("overdue=on") == {"Late One"}
    assert names("status=closed") == {"Closed One"}
    assert names(f"account={mine.channel_account_id}") == {"Assigned To Alice"}
    assert names("priority=3") == {"Urgent One"}
    assert names("network=sandbox") == names("")
    assert names("assignee=none&status=new") == {"Tagged Flood", "Late One", "Urgent One"}
    # A stale or foreign value is ignored, not an error.
    assert client.get("/inbox/?account=999999&tag=abc").status_code == 200


def test_the_list_costs_the_same_queries_for_5_or_50_rows(client, personas, login):
    flood = Tag.objects.create(organization=personas.org, name="Flood")
    login(client, personas.alice)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/inbox/")
        assert response.status_code == 200
        return len(captured.captured_queries)

    # The first request of a session also reads the verified device (then cached).
    client.get("/inbox/")
    for _ in range(5):
        make_item(personas.other_account, assignee=personas.alice).tags.add(flood)
    few = queries()
    for _ in range(45):
        make_item(personas.bob_account, assignee=personas.bob).tags.add(flood)
    assert queries() == few


def test_an_item_beside_the_list_costs_the_same_queries_for_5_or_50_rows(client, personas, login):
    login(client, personas.alice)
    opened = make_item(personas.other_account)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/inbox/{opened.pk}/")
        assert response.status_code == 200
        return len(captured.captured_queries)

    for _ in range(5):
        make_item(personas.other_account, assignee=personas.alice)
    queries()  # the session's first request fills per-session caches
    few = queries()
    for _ in range(45):
        make_item(personas.bob_account, assignee=personas.bob)
    queries()  # new items moved the inbox counts' cache on: the first request refills it
    assert queries() == few


def test_active_filters_show_as_chips_that_remove_themselves(client, personas, login):
    login(client, personas.alice)
    body = client.get("/inbox/?status=new&overdue=on").content.decode()
    assert "Status: New" in body and "Remove filter Status: New" in body
    assert 'href="/inbox/?overdue=on" class="inbox-chip-remove"' in body
    assert 'href="/inbox/?status=new" class="inbox-chip-remove"' in body
    assert "inbox-chip" not in client.get("/inbox/").content.decode()


def test_older_items_are_a_page_away(client, personas, login):
    for number in range(55):
        make_item(
            personas.other_account,
            author_name=f"Person {number:02d}",
            posted_at=timezone.now() - timedelta(minutes=number),
        )
    login(client, personas.alice)
    first = client.get("/inbox/").content.decode()
    assert "Person 00" in first and "Person 49" in first and "Person 50" not in first
    assert 'rel="next"' in first
    next_href = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert next_href.startswith("/inbox/?")
    second = client.get(next_href.replace("&amp;", "&")).content.decode()
    assert "Person 50" in second and "Person 54" in second and "Person 49" not in second
    assert "Newest items" in second


def test_new_rows_arrive_without_reloading(client, personas, login):
    seen = make_item(personas.other_account, author_name="Already Shown")
    login(client, personas.alice)
    assert client.get(f"/inbox/new-rows/?after={seen.pk}").status_code == 204
    make_item(personas.other_account, author_name="Just Arrived")
    make_item(personas.bob_account, author_name="Other Account Arrival")
    response = client.get(f"/inbox/new-rows/?after={seen.pk}&account={personas.other_account.pk}")
    body = response.content.decode()
    assert "Just Arrived" in body and "Already Shown" not in body
    assert "Other Account Arrival" not in body  # the page's filters apply
    assert body.lstrip().startswith("<tr")
    event = json.loads(response["HX-Trigger"])["inboxNewItems"]
    assert event == {"count": 1, "message": "1 new item in the inbox."}


def test_the_list_polls_and_announces_politely(client, personas, login):
    login(client, personas.alice)
    body = client.get("/inbox/?status=new").content.decode()
    assert 'hx-get="/inbox/new-rows/?status=new"' in body
    assert 'hx-trigger="every 10s"' in body
    assert 'aria-live="polite"' in body
    assert "govsocial/js/inbox.js" in body
    assert "Keyboard shortcuts" in body and "<kbd>j</kbd>" in body


def test_bulk_actions_apply_to_the_selected_items(client, personas, login):
    first = make_item(personas.other_account)
    second = make_item(personas.bob_account)
    untouched = make_item(personas.bob_account)
    outsider = make_item(personas.outsider_account)
    login(client, personas.alice)
    items = [first.pk, second.pk, outsider.pk]
    client.post("/inbox/bulk/", {"action": "assign", "assignee": personas.bob.pk, "items": items})
    client.post("/inbox/bulk/", {"action": "tag", "tag": "Roads", "items": items})
    response = client.post("/inbox/bulk/", {"action": "priority", "priority": 2, "items": items})
    assert response.status_code == 302
    for item in (first, second, untouched, outsider):
        item.refresh_from_db()
    # Bob may not see city-mayor, so he cannot be given its item; the other goes to him.
    assert first.assignee is None and second.assignee == personas.bob
    assert second.status == ItemStatus.ASSIGNED
    assert {t.name for t in first.tags.all()} == {"Roads"} == {t.name for t in second.tags.all()}
    assert first.priority == second.priority == Priority.HIGH
    assert untouched.priority == Priority.NORMAL and untouched.assignee is None
    assert outsider.priority == Priority.NORMAL and not outsider.tags.exists()
    messages = [str(m) for m in client.get("/inbox/").context["messages"]]
    assert any("2 items updated" in m for m in messages)
    assert Notification.objects.filter(user=personas.bob, kind="inbox.assigned").count() == 1
    assert AuditEvent.objects.filter(action="inbox_item.tagged").count() == 2


def test_saved_views_keep_filters_under_a_name(client, personas, login):
    login(client, personas.alice)
    client.post(
        "/inbox/views/", {"name": "Urgent and open", "query": "priority=3&status=new&evil=1"}
    )
    view = SavedView.objects.get(owner=personas.alice)
    body = client.get("/inbox/").content.decode()
    assert 'href="/inbox/?status=new&amp;priority=3"' in body and "Urgent and open" in body
    login(client, personas.bob)
    assert "Urgent and open" not in client.get("/inbox/").content.decode()
    assert client.post(f"/inbox/views/{view.pk}/delete/").status_code == 404
    login(client, personas.alice)
    client.post(f"/inbox/views/{view.pk}/delete/")
    assert not SavedView.objects.exists()


def test_checking_now_reads_new_messages(client, personas, login):
    citizen_writes(personas.bob_account, "Is the pool open today?")
    login(client, personas.bob)
    response = client.post("/inbox/sync/", follow=True)
    assert "1 new item." in response.content.decode()
    assert InboxItem.objects.filter(channel_account=personas.bob_account).count() == 1


def test_the_two_pane_inbox_reads_in_finnish(client, personas, login):
    item = make_item(personas.bob_account, author_name="Aino Virtanen")
    login(client, personas.alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fi"
    body = client.get(f"/inbox/{item.pk}/?status=new").content.decode()
    assert "Suodattimet ja näkymät" in body and "Sisäiset muistiinpanot" in body
    assert "Poista suodatin" in body
