"""/healthz: database, broker and worker heartbeat, for load balancers and `docker compose`."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from governance.models import WorkerHeartbeat
from govsocial.celery import app


def closed_port() -> int:
    """A local port nothing listens on: bound once by us, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def recent_heartbeat(db):
    return WorkerHeartbeat.objects.create(name="worker", beat_at=timezone.now(), hostname="w1")


def test_healthz_is_ok_with_a_recent_heartbeat(client, recent_heartbeat):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert body["worker"]["ok"] is True
    assert body["worker"]["last_heartbeat"] == recent_heartbeat.beat_at.isoformat()


def test_healthz_needs_no_login_and_is_not_cached(client, recent_heartbeat):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_is_down_before_any_heartbeat(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["worker"] == {"ok": False, "last_heartbeat": None, "age_seconds": None}


def test_healthz_is_down_when_the_heartbeat_is_stale(client, recent_heartbeat, settings):
    settings.HEARTBEAT_STALE_SECONDS = 120
    with time_machine.travel(timezone.now() + timedelta(seconds=121)):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["worker"]["ok"] is False
    assert body["worker"]["age_seconds"] >= 121
    assert body["database"]["ok"] is True


def test_healthz_is_down_when_the_broker_is_unreachable(client, recent_heartbeat, monkeypatch):
    monkeypatch.setitem(app.conf, "broker_url", f"redis://127.0.0.1:{closed_port()}/0")
    monkeypatch.setitem(app.conf, "broker_write_url", None)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["broker"]["ok"] is False
    assert body["worker"]["ok"] is True
