"""Listening through the API: watches, a watch's stream, actions on found posts,
misinformation cases and alerts, with the same access rules and audit as the pages.
Personas: alice (admin), carol (auditor: reads, may not change), charlie (another
organization: every object of ours is a 404 to him)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.connectors.base import FoundPost
from governance.models import AuditEvent
from governance.services.tokens import api_token_create
from inbox.models import InboxItem
from listening.models import CaseStatus, ListeningPost, MisinformationCase, Watch, WatchAlert
from listening.services import case_open, listening_store_posts, watch_save
from tests.factories import ChannelAccountFactory

pytestmark = pytest.mark.django_db

WATCHES = "/api/v1/listening/watches/"
POSTS = "/api/v1/listening/posts/"
CASES = "/api/v1/listening/cases/"
ALERTS = "/api/v1/listening/alerts/"


def _api(user, org) -> Client:
    _token, raw = api_token_create(user=user, organization=org, name="script")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


@pytest.fixture
def bluesky(personas):
    return ChannelAccountFactory.create(
        organization=personas.org, network="bluesky", handle="city.bsky.social"
    )


def _watch(personas, account, name: str = "Uimahalli") -> Watch:
    return watch_save(
        membership=personas.membership(personas.alice),
        watch=None,
        name=name,
        terms=["uimahalli"],
        excluded_terms=[],
        prefix_match=True,
        channel_accounts=[account],
    )


def _store(watch: Watch, account, count: int, *, start: datetime, language: str = "fi") -> None:
    found = [
        (
            FoundPost(
                remote_id=f"at://did:plc:p{watch.pk}x{i}{language}/app.bsky.feed.post/{i}",
                url=f"https://bsky.app/profile/p{i}/post/{i}",
                author_handle=f"p{i}.bsky.social",
                author_name=f"Person {i}",
                text=f"uimahalli {language} {i}",
                created_at=start - timedelta(minutes=i),
                language=language,
                likes=i,
            ),
            ["uimahalli"],
        )
        for i in range(count)
    ]
    listening_store_posts(watch=watch, account=account, network="bluesky", found=found)


def _actions(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


# --- watches -------------------------------------------------------------------------------------


def test_a_watch_is_created_changed_listed_and_deleted_and_each_change_audited(personas, bluesky):
    alice = _api(personas.alice, personas.org)
    response = alice.post(
        WATCHES,
        {
            "name": "Vesikatko",
            "terms": ["vesikatko", " #Vesikatko ", "vesikatko"],
            "excluded_terms": ["testi"],
            "prefix_match": True,
            "channel_accounts": [bluesky.pk],
            "followers": [personas.carol.pk],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["terms"] == ["vesikatko", "#Vesikatko"]
    assert body["channel_accounts"] == [bluesky.pk]
    assert body["followers"] == sorted([personas.alice.pk, personas.carol.pk])
    assert (body["alert_factor"], body["alert_min_count"], body["is_active"]) == (3, 10, True)
    url = f"{WATCHES}{body['id']}/"

    changed = alice.patch(
        url, {"name": "Vesikatko 2026", "is_active": False}, content_type="application/json"
    )
    assert changed.status_code == 200
    assert changed.json()["name"] == "Vesikatko 2026"
    assert changed.json()["terms"] == ["vesikatko", "#Vesikatko"]  # untouched
    assert changed.json()["is_active"] is False
    event = AuditEvent.objects.get(action="listening.watch_changed")
    assert event.old_values["name"] == "Vesikatko" and event.new_values["is_active"] is False

    listed = alice.get(WATCHES).json()["results"]
    assert [w["name"] for w in listed] == ["Vesikatko 2026"]

    assert alice.delete(url).status_code == 204
    assert not Watch.objects.filter(pk=body["id"]).exists()
    assert [_actions(a) for a in ("listening.watch_created", "listening.watch_deleted")] == [1, 1]
    assert alice.get(url).status_code == 404


def test_bad_watch_input_is_a_400_that_names_the_field(personas, bluesky):
    alice = _api(personas.alice, personas.org)
    sandbox = ChannelAccountFactory.create(organization=personas.org, network="sandbox")

    def errors(body: dict) -> dict:
        response = alice.post(WATCHES, body, content_type="application/json")
        assert response.status_code == 400, response.content
        assert response.json()["code"] == "invalid"
        return response.json()["errors"]

    base = {"name": "W", "terms": ["uimahalli"], "channel_accounts": [bluesky.pk]}
    assert errors({**base, "terms": []}) == {"terms": ["Give at least one term to watch."]}
    assert errors({**base, "terms": [" "]}) == {"terms.0": ["This field may not be blank."]}
    assert "terms.0" in errors({**base, "terms": ["x" * 101]})
    assert errors({**base, "terms": ["#"]}) == {
        "terms": ["Write the hashtag or handle after # or @."]
    }
    assert "channel_accounts" in errors({k: v for k, v in base.items() if k != "channel_accounts"})
    for account in (sandbox, personas.outsider_account):
        message = errors({**base, "channel_accounts": [account.pk]})["channel_accounts"][0]
        assert f"Not usable: {account.pk}." in message
    assert "alert_factor" in errors({**base, "alert_factor": 1})
    assert errors({**base, "followers": [personas.charlie.pk]}) == {
        "followers": ["Choose active members of your organization."]
    }
    assert not Watch.objects.exists()


def test_an_auditor_reads_but_may_not_change_and_an_outsider_finds_nothing(personas, bluesky):
    watch = _watch(personas, bluesky)
    url = f"{WATCHES}{watch.pk}/"
    carol = _api(personas.carol, personas.org)
    assert carol.get(url).status_code == 200
    assert carol.get(f"{url}posts/").status_code == 200
    body = {"name": "X", "terms": ["x"], "channel_accounts": [bluesky.pk]}
    assert carol.post(WATCHES, body, content_type="application/json").status_code == 403
    assert carol.patch(url, {"name": "X"}, content_type="application/json").status_code == 403
    assert carol.delete(url).status_code == 403

    charlie = _api(personas.charlie, personas.other_org)
    assert charlie.get(url).status_code == 404
    assert charlie.get(f"{url}posts/").status_code == 404
    assert charlie.patch(url, {"name": "X"}, content_type="application/json").status_code == 404
    assert charlie.delete(url).status_code == 404
    assert charlie.get(WATCHES).json()["results"] == []
    watch.refresh_from_db()
    assert watch.name == "Uimahalli"


def test_a_watch_whose_posts_are_evidence_is_not_deleted(personas, bluesky):
    watch = _watch(personas, bluesky)
    _store(watch, bluesky, 1, start=timezone.now())
    ListeningPost.objects.update(misinformation_at=timezone.now())
    response = _api(personas.alice, personas.org).delete(f"{WATCHES}{watch.pk}/")
    assert response.status_code == 400
    assert "Make the watch inactive instead." in response.json()["errors"]["non_field_errors"][0]
    assert Watch.objects.filter(pk=watch.pk).exists()


# --- the stream ----------------------------------------------------------------------------------


def test_the_stream_filters_and_pages_by_cursor(personas, bluesky):
    watch = _watch(personas, bluesky)
    now = timezone.now()
    _store(watch, bluesky, 3, start=now, language="fi")
    _store(watch, bluesky, 2, start=now - timedelta(seconds=30), language="sv")
    alice = _api(personas.alice, personas.org)
    url = f"{WATCHES}{watch.pk}/posts/"

    first = alice.get(url, {"limit": 2}).json()
    assert [p["text"] for p in first["results"]] == ["uimahalli fi 0", "uimahalli sv 0"]
    second = alice.get(first["next"]).json()
    third = alice.get(second["next"]).json()
    assert [p["text"] for p in second["results"] + third["results"]] == [
        "uimahalli fi 1",
        "uimahalli sv 1",
        "uimahalli fi 2",
    ]
    assert third["next"] is None
    swedish = alice.get(url, {"language": "sv"}).json()["results"]
    assert [p["language"] for p in swedish] == ["sv", "sv"]
    ListeningPost.objects.filter(text="uimahalli fi 2").update(misinformation_at=now)
    marked = alice.get(url, {"misinformation": "true"}).json()["results"]
    assert [p["text"] for p in marked] == ["uimahalli fi 2"]
    for bad in ({"before": "yesterday"}, {"limit": 0}, {"period_hours": 5}):
        response = alice.get(url, bad)
        assert response.status_code == 400
        assert list(response.json()["errors"]) == list(bad)


def test_list_endpoints_read_in_a_constant_number_of_queries(personas, bluesky):
    alice = _api(personas.alice, personas.org)
    membership = personas.membership(personas.alice)

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert alice.get(path).status_code == 200
        return len(captured)

    watch = _watch(personas, bluesky)
    _store(watch, bluesky, 2, start=timezone.now())
    case_open(membership=membership, claim="Claim 0", watch=watch)
    WatchAlert.objects.create(watch=watch, hour=timezone.now(), count=30, baseline=2)
    paths = [WATCHES, f"{WATCHES}{watch.pk}/posts/", CASES, ALERTS]
    alice.get(WATCHES)  # the token's first use of the minute records it (one write)
    few = [queries(path) for path in paths]

    for number in range(1, 5):
        other = _watch(personas, bluesky, name=f"Watch {number}")
        case_open(membership=membership, claim=f"Claim {number}", watch=other)
        WatchAlert.objects.create(
            watch=other, hour=timezone.now() - timedelta(hours=number), count=30, baseline=2
        )
    _store(watch, bluesky, 12, start=timezone.now() - timedelta(hours=1))
    many = [queries(path) for path in paths]
    assert many == few


# --- actions on a found post ---------------------------------------------------------------------


def test_a_found_post_goes_to_the_inbox_is_marked_and_gets_our_correction(personas, bluesky):
    watch = _watch(personas, bluesky)
    _store(watch, bluesky, 1, start=timezone.now())
    post = ListeningPost.objects.get()
    case = case_open(membership=personas.membership(personas.alice), claim="Pool poisoned")
    alice = _api(personas.alice, personas.org)

    sent = alice.post(f"{POSTS}{post.pk}/send-to-inbox/")
    assert sent.status_code == 200
    item = InboxItem.objects.get()
    assert sent.json()["inbox_item"] == item.pk and item.text == "uimahalli fi 0"
    assert alice.post(f"{POSTS}{post.pk}/send-to-inbox/").json()["inbox_item"] == item.pk
    assert InboxItem.objects.count() == 1

    marked = alice.post(
        f"{POSTS}{post.pk}/misinformation/", {"case": case.pk}, content_type="application/json"
    )
    assert marked.status_code == 200
    assert marked.json()["case"] == case.pk and marked.json()["misinformation_at"]

    bad = alice.post(f"{POSTS}{post.pk}/correction/", {"url": "not an address"})
    assert bad.status_code == 400 and "url" in bad.json()["errors"]
    linked = alice.post(
        f"{POSTS}{post.pk}/correction/",
        {"url": "https://bsky.app/profile/city/post/1"},
        content_type="application/json",
    )
    assert linked.json()["correction_url"] == "https://bsky.app/profile/city/post/1"
    assert [
        _actions(a)
        for a in (
            "listening.sent_to_inbox",
            "listening.marked_misinformation",
            "listening.correction_linked",
        )
    ] == [1, 1, 1]


def test_actions_on_a_post_need_their_right_and_our_organization(personas, bluesky):
    watch = _watch(personas, bluesky)
    _store(watch, bluesky, 1, start=timezone.now())
    post = ListeningPost.objects.get()
    carol = _api(personas.carol, personas.org)
    charlie = _api(personas.charlie, personas.other_org)
    for action in ("send-to-inbox", "misinformation"):
        assert carol.post(f"{POSTS}{post.pk}/{action}/").status_code == 403
        assert charlie.post(f"{POSTS}{post.pk}/{action}/").status_code == 404
    url = {"url": "https://example.org/fix"}
    assert carol.post(f"{POSTS}{post.pk}/correction/", url).status_code == 403
    assert charlie.post(f"{POSTS}{post.pk}/correction/", url).status_code == 404
    post.refresh_from_db()
    assert (post.inbox_item_id, post.misinformation_at, post.correction_url) == (None, None, "")
    closed = case_open(membership=personas.membership(personas.alice), claim="Old")
    MisinformationCase.objects.filter(pk=closed.pk).update(status=CaseStatus.CLOSED)
    response = _api(personas.alice, personas.org).post(
        f"{POSTS}{post.pk}/misinformation/", {"case": closed.pk}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"case": ["Choose an open case."]}


# --- misinformation cases ------------------------------------------------------------------------


def test_a_case_is_opened_with_posts_linked_to_our_correction_and_closed_with_a_note(
    personas, bluesky
):
    watch = _watch(personas, bluesky)
    _store(watch, bluesky, 3, start=timezone.now())
    first, second, third = ListeningPost.objects.order_by("text")
    alice = _api(personas.alice, personas.org)
    opened = alice.post(
        CASES,
        {"claim": "The pool water is poisoned", "watch": watch.pk, "posts": [first.pk]},
        content_type="application/json",
    )
    assert opened.status_code == 201, opened.content
    case = opened.json()
    assert (case["status"], case["post_count"], case["watch"]) == ("open", 1, watch.pk)
    url = f"{CASES}{case['id']}/"
    added = alice.post(
        f"{url}posts/", {"posts": [second.pk, third.pk]}, content_type="application/json"
    )
    assert added.json()["post_count"] == 3
    assert ListeningPost.objects.filter(misinformation_at__isnull=False).count() == 3
    linked = alice.post(
        f"{url}correction/", {"url": "https://city.example/facts"}, content_type="application/json"
    )
    assert linked.json()["correction_url"] == "https://city.example/facts"

    assert alice.post(f"{url}close/", {"note": " "}).status_code == 400
    closed = alice.post(f"{url}close/", {"note": "Corrected; it stopped spreading."})
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    assert closed.json()["closing_note"] == "Corrected; it stopped spreading."
    again = alice.post(f"{url}close/", {"note": "Again"})
    assert again.status_code == 400
    assert again.json()["errors"] == {"non_field_errors": ["The case is already closed."]}
    assert [c["status"] for c in alice.get(CASES, {"status": "closed"}).json()["results"]] == [
        "closed"
    ]
    assert alice.get(CASES, {"status": "open"}).json()["results"] == []
    assert alice.get(CASES, {"status": "bogus"}).status_code == 400
    assert _actions("listening.case_closed") == 1


def test_case_input_and_access(personas, bluesky):
    watch = _watch(personas, bluesky)
    _store(watch, bluesky, 1, start=timezone.now())
    theirs = ChannelAccountFactory.create(organization=personas.other_org, network="bluesky")
    other_watch = watch_save(
        membership=personas.membership(personas.charlie),
        watch=None,
        name="Theirs",
        terms=["x"],
        excluded_terms=[],
        prefix_match=False,
        channel_accounts=[theirs],
    )
    _store(other_watch, theirs, 1, start=timezone.now())
    their_post = ListeningPost.objects.get(watch=other_watch)
    alice = _api(personas.alice, personas.org)
    for body, field in (
        ({"claim": ""}, "claim"),
        ({"claim": "C", "watch": other_watch.pk}, "watch"),
        ({"claim": "C", "posts": [their_post.pk]}, "posts"),
        ({"claim": "C", "correction_url": "nope"}, "correction_url"),
    ):
        response = alice.post(CASES, body, content_type="application/json")
        assert response.status_code == 400 and field in response.json()["errors"], body
    assert not MisinformationCase.objects.filter(organization=personas.org).exists()

    case = case_open(membership=personas.membership(personas.alice), claim="Ours")
    url = f"{CASES}{case.pk}/"
    carol = _api(personas.carol, personas.org)
    charlie = _api(personas.charlie, personas.other_org)
    assert carol.get(url).status_code == 200
    assert carol.post(CASES, {"claim": "C"}).status_code == 403
    assert carol.post(f"{url}close/", {"note": "n"}).status_code == 403
    assert charlie.get(url).status_code == 404
    assert charlie.post(f"{url}close/", {"note": "n"}).status_code == 404
    assert charlie.post(f"{url}posts/", {"posts": [their_post.pk]}).status_code == 404
    assert charlie.post(f"{url}correction/", {"url": "https://x.example"}).status_code == 404
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN and case.correction_url == ""


# --- alerts --------------------------------------------------------------------------------------


def test_alerts_are_listed_and_acknowledged_once(personas, bluesky):
    watch = _watch(personas, bluesky)
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    older = WatchAlert.objects.create(
        watch=watch, hour=hour - timedelta(hours=3), count=40, baseline=4
    )
    newer = WatchAlert.objects.create(watch=watch, hour=hour, count=55, baseline=5)
    alice = _api(personas.alice, personas.org)
    listed = alice.get(ALERTS).json()["results"]
    assert [(a["id"], a["count"], a["watch_name"]) for a in listed] == [
        (newer.pk, 55, "Uimahalli"),
        (older.pk, 40, "Uimahalli"),
    ]
    carol = _api(personas.carol, personas.org)
    charlie = _api(personas.charlie, personas.other_org)
    assert carol.post(f"{ALERTS}{newer.pk}/acknowledge/").status_code == 403
    assert charlie.post(f"{ALERTS}{newer.pk}/acknowledge/").status_code == 404
    assert charlie.get(ALERTS).json()["results"] == []

    done = alice.post(f"{ALERTS}{newer.pk}/acknowledge/")
    assert done.status_code == 200 and done.json()["acknowledged"] is True
    assert alice.post(f"{ALERTS}{newer.pk}/acknowledge/").status_code == 200
    assert _actions("listening.alert_acknowledged") == 1
    open_ones = alice.get(ALERTS, {"acknowledged": "false"}).json()["results"]
    assert [a["id"] for a in open_ones] == [older.pk]
    assert alice.get(ALERTS, {"acknowledged": "maybe"}).status_code == 400
