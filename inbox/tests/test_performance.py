"""What each inbox request costs: neighbours seek in the index, the user row is read
once, the counts are computed once until the inbox changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.models import Membership
from inbox.selectors import _older_than, inbox_items_for_membership, inbox_neighbours
from inbox.tests.helpers import make_item


def _sql(captured: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in captured.captured_queries]


def test_it_orders_neighbours_by_time_then_id_when_times_are_equal(personas):
    moment = timezone.now() - timedelta(hours=1)
    earlier = make_item(personas.other_account, posted_at=moment - timedelta(minutes=1))
    first = make_item(personas.other_account, posted_at=moment)
    second = make_item(personas.other_account, posted_at=moment)
    later = make_item(personas.other_account, posted_at=moment + timedelta(minutes=1))
    membership = Membership.objects.get(user=personas.alice, organization=personas.org)

    assert inbox_neighbours(membership, first) == (second, earlier)
    assert inbox_neighbours(membership, second) == (later, first)
    assert inbox_neighbours(membership, later) == (None, second)
    assert inbox_neighbours(membership, earlier) == (first, None)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the plan is PostgreSQL's")
def test_it_seeks_the_older_neighbour_in_the_index_instead_of_filtering_rows(personas):
    item = make_item(personas.other_account, posted_at=timezone.now() - timedelta(days=3))
    membership = Membership.objects.get(user=personas.alice, organization=personas.org)
    query = (
        inbox_items_for_membership(membership)
        .filter(_older_than(item.posted_at, item.pk))
        .order_by("-posted_at", "-pk")
        .only("pk")[:1]
    )
    with connection.cursor() as cursor:
        # A handful of rows: without this the planner would rightly read the table.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = query.explain()
    index_condition = next(line for line in plan.splitlines() if "Index Cond" in line)
    # The whole position is part of where the index scan starts, not a filter after it.
    assert "ROW(posted_at, id) <" in index_condition
    assert "inbox_org_posted_idx" in plan
    assert "Filter" not in plan


def test_it_reads_the_user_row_once_per_inbox_page(client, personas, login):
    make_item(personas.other_account, assignee=personas.alice)
    login(client, personas.alice)
    client.get("/inbox/")
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/inbox/?assignee=me")
    assert response.status_code == 200
    user_reads = [sql for sql in _sql(captured) if 'FROM "governance_user"' in sql]
    assert len(user_reads) == 1


def test_it_counts_the_inbox_once_until_an_item_changes(client, personas, login):
    make_item(personas.other_account, assignee=personas.alice)
    login(client, personas.alice)
    assert "1 open item assigned to me" in client.get("/inbox/").content.decode()

    with CaptureQueriesContext(connection) as captured:
        body = client.get("/inbox/").content.decode()
    assert "1 open item assigned to me" in body
    assert not [sql for sql in _sql(captured) if "COUNT(*)" in sql and "inbox_inboxitem" in sql]

    make_item(personas.bob_account, assignee=personas.alice)
    assert "2 open items assigned to me" in client.get("/inbox/").content.decode()


def _options(body: str, select_id: str) -> list[str]:
    import re

    match = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', body, re.S)
    assert match, select_id
    return [label.strip() for label in re.findall(r"<option[^>]*>([^<]*)</option>", match[1])]


def test_the_cached_filter_and_assign_choices_follow_people_tags_and_limits(
    client, personas, login
):
    from inbox.models import Tag

    item = make_item(personas.other_account)
    login(client, personas.alice)
    body = client.get(f"/inbox/{item.pk}/").content.decode()
    assert "Bob Editor" in _options(body, "filter_assignee")
    # Bob is limited to another account: he cannot be given this item.
    assert "Bob Editor" not in _options(body, "id_assignee")
    assert "Alice Admin" in _options(body, "id_assignee")
    assert "roads" not in _options(body, "filter_tag")

    personas.other_account.limited_members.add(Membership.objects.get(user=personas.bob))
    Tag.objects.create(organization=personas.org, name="roads")
    body = client.get(f"/inbox/{item.pk}/").content.decode()
    assert "Bob Editor" in _options(body, "id_assignee")
    assert "roads" in _options(body, "filter_tag")

    personas.bob.full_name = "Robert Editor"
    personas.bob.save()
    body = client.get(f"/inbox/{item.pk}/").content.decode()
    assert "Robert Editor" in _options(body, "filter_assignee")
    assert "Robert Editor" in _options(body, "id_assignee")

    Membership.objects.filter(user=personas.bob).get().delete()
    body = client.get("/inbox/").content.decode()
    assert "Robert Editor" not in _options(body, "filter_assignee")


def test_a_member_limited_to_some_accounts_reads_the_item_page_without_extra_queries(
    client, personas, login
):
    item = make_item(personas.bob_account)
    login(client, personas.bob)
    client.get(f"/inbox/{item.pk}/")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/inbox/{item.pk}/")
    assert response.status_code == 200
    # The accounts the member sees are a subquery of each item query, not read first.
    assert not [
        sql
        for sql in _sql(captured)
        if sql.startswith('SELECT "accounts_channelaccount"."id" AS "pk" FROM')
    ]
