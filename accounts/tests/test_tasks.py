"""The periodic upkeep of accounts: health checks, renewing credentials, and the
notice about sign-ins that end soon."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from accounts import tasks
from accounts.connectors import registry
from accounts.connectors.base import Capabilities, Connector, CredentialUpdate, Limits
from accounts.models import AccountStatus, ChannelAccount
from accounts.selectors import channel_accounts_with_expiring_credentials
from accounts.tests.flows import connect_mastodon
from accounts.tests.helpers import channel_account
from governance.models import AuditEvent, Notification


@pytest.fixture
def sent(monkeypatch):
    """The per-account tasks the ticks send, run at once; ``sent`` lists (task, args, queue)."""
    calls: list[tuple[str, list, str]] = []
    for task in (tasks.check_health, tasks.refresh_credentials):

        def apply_async(args, queue, task=task, **options):
            calls.append((task.name, list(args), queue))
            task(*args)

        monkeypatch.setattr(task, "apply_async", apply_async)
    return calls


class RenewingConnector(Connector):
    """A network whose sign-in lasts a month and renews itself."""

    network = "renewing"
    label = "Renewing"
    capabilities = Capabilities(refresh_credentials=True)
    limits = Limits(max_text=100)

    def refresh_credentials(self, account):
        number = int(account.credentials.get("n", 0)) + 1
        return CredentialUpdate(
            credentials={"n": number}, expires_at=timezone.now() + timedelta(days=30)
        )


@pytest.fixture
def renewing():
    registry.register("renewing", RenewingConnector)
    yield
    registry.CONNECTORS.pop("renewing")
    registry._instances.pop("renewing", None)


def test_beat_runs_the_three_ticks_on_the_sync_queue():
    schedule = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for name, seconds in [
        ("accounts.tasks.check_all_health", 30 * 60),
        ("accounts.tasks.refresh_expiring_credentials", 15 * 60),
        ("accounts.tasks.notify_expiring_credentials", 24 * 60 * 60),
    ]:
        assert schedule[name]["schedule"] == seconds
        assert schedule[name]["options"]["queue"] == "sync"


def test_every_active_account_is_checked(personas, sent):
    disconnected = channel_account(organization=personas.org, status=AccountStatus.DISCONNECTED)
    assert tasks.check_all_health() == 3  # bob_account, other_account, outsider_account
    checked = {args[0] for name, args, queue in sent}
    assert disconnected.pk not in checked
    assert {queue for _, _, queue in sent} == {"sync"}
    for account in (personas.bob_account, personas.other_account, personas.outsider_account):
        account.refresh_from_db()
        assert account.last_health_check_at is not None
    disconnected.refresh_from_db()
    assert disconnected.last_health_check_at is None


def test_a_revoked_token_found_by_the_check_tells_the_owner_and_admins(
    client, personas, login, mastodon_server, sent, mailoutbox, django_capture_on_commit_callbacks
):
    login(client, personas.alice)
    account = connect_mastodon(client, mastodon_server)
    ChannelAccount.objects.filter(pk=account.pk).update(connected_by=personas.carol)
    mastodon_server.tokens[account.credentials["access_token"]].revoked = True
    with django_capture_on_commit_callbacks(execute=True):
        tasks.check_all_health()
        tasks.check_all_health()  # a second failure tells nobody twice
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONNECT
    notices = Notification.objects.filter(kind="account.needs_reconnect")
    assert sorted(n.user.email for n in notices) == ["alice@example.org", "carol@example.org"]
    assert sorted(m.to[0] for m in mailoutbox) == ["alice@example.org", "carol@example.org"]


def test_credentials_that_end_soon_are_renewed(personas, renewing, sent):
    soon = channel_account(
        organization=personas.org,
        network="renewing",
        credentials={"n": 1},
        credentials_expire_at=timezone.now() + timedelta(hours=20),
    )
    later = channel_account(
        organization=personas.org,
        network="renewing",
        credentials={"n": 1},
        credentials_expire_at=timezone.now() + timedelta(days=3),
    )
    assert tasks.refresh_expiring_credentials() == 1
    soon.refresh_from_db()
    later.refresh_from_db()
    assert soon.credentials == {"n": 2}
    assert soon.credentials_expire_at is not None
    assert soon.credentials_expire_at > timezone.now() + timedelta(days=29)
    assert later.credentials == {"n": 1}
    assert sent == [("accounts.tasks.refresh_credentials", [soon.pk], "sync")]


def test_a_renewal_another_worker_already_did_is_skipped(personas, renewing):
    account = channel_account(
        organization=personas.org,
        network="renewing",
        credentials={"n": 5},
        credentials_expire_at=timezone.now() + timedelta(days=3),
    )
    tasks.refresh_credentials(account.pk)
    account.refresh_from_db()
    assert account.credentials == {"n": 5}


def _expiring(personas, days: float, **fields) -> ChannelAccount:
    return channel_account(
        organization=personas.org,
        network=fields.pop("network", "mastodon"),
        handle=fields.pop("handle", "@city@social.example"),
        connected_by=fields.pop("connected_by", personas.carol),
        credentials_expire_at=timezone.now() + timedelta(days=days),
        **fields,
    )


def test_a_sign_in_ending_within_two_weeks_is_announced_once(
    personas, mailoutbox, django_capture_on_commit_callbacks
):
    account = _expiring(personas, days=10)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.notify_expiring_credentials() == 1
    notices = Notification.objects.filter(kind="account.credentials_expiring")
    assert sorted(n.user.email for n in notices) == ["alice@example.org", "carol@example.org"]
    notice = notices.get(user=personas.carol)
    assert "The sign-in of @city@social.example (Mastodon) ends on" in notice.message
    assert notice.link == f"/accounts/{account.pk}/"
    assert sorted(m.to[0] for m in mailoutbox) == ["alice@example.org", "carol@example.org"]
    event = AuditEvent.objects.get(action="channel_account.expiry_notified")
    assert event.target_id == str(account.pk)

    # The next days' checks stay quiet about the same expiry.
    for day in range(1, 4):
        with (
            time_machine.travel(timezone.now() + timedelta(days=day)),
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert tasks.notify_expiring_credentials() == 0
    assert notices.count() == 2
    assert len(mailoutbox) == 2


def test_a_new_expiry_after_a_reconnect_is_announced_again(personas):
    account = _expiring(personas, days=10)
    tasks.notify_expiring_credentials()
    account.credentials_expire_at = timezone.now() + timedelta(days=60)
    account.save(update_fields=["credentials_expire_at"])
    assert tasks.notify_expiring_credentials() == 0
    with time_machine.travel(timezone.now() + timedelta(days=50)):
        assert tasks.notify_expiring_credentials() == 1
    assert AuditEvent.objects.filter(action="channel_account.expiry_notified").count() == 2


def test_a_sign_in_ending_later_is_announced_when_two_weeks_remain(personas):
    _expiring(personas, days=20)
    assert tasks.notify_expiring_credentials() == 0
    with time_machine.travel(timezone.now() + timedelta(days=7)):
        assert tasks.notify_expiring_credentials() == 1
    assert Notification.objects.filter(kind="account.credentials_expiring").count() == 2


def test_renewable_disconnected_and_reconnect_pending_accounts_are_not_announced(
    personas, renewing
):
    _expiring(personas, days=3, handle="renews", network="renewing")
    _expiring(personas, days=3, handle="gone", status=AccountStatus.DISCONNECTED)
    _expiring(personas, days=3, handle="broken", status=AccountStatus.NEEDS_RECONNECT)
    assert channel_accounts_with_expiring_credentials() == []
    assert tasks.notify_expiring_credentials() == 0
    assert not Notification.objects.exists()
