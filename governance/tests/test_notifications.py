"""The notifications page and the service that sends notices."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from governance.models import Notification
from governance.services.notifications import notification_send

URL = "/notifications/"


def _notice(personas, user, message, **kwargs):
    kwargs.setdefault("email", False)
    return notification_send(
        user=user, organization=personas.org, kind="test", message=message, **kwargs
    )


def test_page_shows_own_notices_unread_first(client, personas, login):
    with time_machine.travel(dt.datetime(2025, 5, 1, 9, tzinfo=dt.UTC), tick=False):
        old_unread = _notice(personas, personas.alice, "Older but unread")
    with time_machine.travel(dt.datetime(2025, 5, 2, 9, tzinfo=dt.UTC), tick=False):
        read = _notice(personas, personas.alice, "Newer but read")
    Notification.objects.filter(pk=read.pk).update(read_at=dt.datetime(2025, 5, 3, tzinfo=dt.UTC))
    _notice(personas, personas.bob, "Bob's own notice")
    login(client, personas.alice)
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("Older but unread") < body.index("Newer but read")
    assert "Bob&#x27;s own notice" not in body
    assert "Unread" in body and "Read" in body
    assert "1 new notice" in body
    assert old_unread.message in body


def test_mark_all_as_read(client, personas, login):
    _notice(personas, personas.alice, "First")
    _notice(personas, personas.alice, "Second")
    bobs = _notice(personas, personas.bob, "Not Alice's")
    login(client, personas.alice)
    assert "Mark all as read" in client.get(URL).content.decode()
    response = client.post("/notifications/read-all/", follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Marked 2 notices as read." in body
    assert "Mark all as read" not in body
    assert "0 new notices" in body
    assert not Notification.objects.filter(user=personas.alice, read_at__isnull=True).exists()
    bobs.refresh_from_db()
    assert bobs.read_at is None


def test_mark_all_as_read_needs_post(client, personas, login):
    login(client, personas.alice)
    assert client.get("/notifications/read-all/").status_code == 405


def test_page_needs_login(client, db):
    assert client.get(URL).status_code == 302


def test_empty_page_says_so(client, personas, login):
    login(client, personas.carol)
    assert "You have no notices." in client.get(URL).content.decode()


def test_send_emails_after_commit(personas, django_capture_on_commit_callbacks, settings):
    settings.SITE_URL = "https://social.example.org"
    with django_capture_on_commit_callbacks(execute=True):
        notice = notification_send(
            user=personas.alice,
            organization=personas.org,
            kind="account.needs_reconnect",
            message="The account city-news needs reconnecting.",
            link="/accounts/",
        )
        assert mail.outbox == []
    assert notice.read_at is None
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["alice@example.org"]
    assert "City of Example" in sent.subject
    assert "The account city-news needs reconnecting." in sent.subject
    assert "https://social.example.org/accounts/" in sent.body
    assert "https://social.example.org/notifications/" in sent.body


def test_send_without_email(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _notice(personas, personas.alice, "Quiet", email=False)
    assert mail.outbox == []
    assert Notification.objects.filter(user=personas.alice, message="Quiet").exists()


def test_unsafe_link_is_refused(personas):
    with pytest.raises(ValueError):
        _notice(personas, personas.alice, "Bad", link="javascript:alert(1)")


def test_notice_link_is_shown(client, personas, login):
    _notice(personas, personas.alice, "Review a post", link="/publishing/")
    login(client, personas.alice)
    assert 'href="/publishing/"' in client.get(URL).content.decode()


def test_the_header_count_is_cached_and_follows_every_change(client, personas, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, personas.alice)
    assert "0 new notices" in client.get(URL).content.decode()
    with CaptureQueriesContext(connection) as cached:
        client.get(URL)
    assert not any("COUNT(*)" in q["sql"] and "read_at" in q["sql"] for q in cached)
    # A new notice shows on the next page, though the count was cached.
    _notice(personas, personas.alice, "Fresh")
    assert "1 new notice" in client.get(URL).content.decode()
    client.post("/notifications/read-all/")
    assert "0 new notices" in client.get(URL).content.decode()
    # Deleting an unread notice drops the count too.
    gone = _notice(personas, personas.alice, "Gone soon")
    assert "1 new notice" in client.get(URL).content.decode()
    gone.delete()
    assert "0 new notices" in client.get(URL).content.decode()
