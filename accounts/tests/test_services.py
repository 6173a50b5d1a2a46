"""Services the Accounts pages will call: connect, health, reconnect notices, disconnect."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services
from accounts.connectors import registry
from accounts.connectors.base import (
    AuthError,
    Capabilities,
    Connector,
    CredentialUpdate,
    Limits,
)
from accounts.models import AccountStatus, ChannelAccount, MastodonApp
from governance.models import AuditEvent, Notification

REDIRECT_URI = "https://govsocial.example/accounts/mastodon/callback/"


def connect_mastodon(personas, server, **overrides):
    start = services.channel_account_connect_mastodon_start(
        organization=personas.org,
        actor=personas.alice,
        server_url=server.base_url,
        redirect_uri=REDIRECT_URI,
    )
    answer = server.approve(start.authorization_url)
    return services.channel_account_connect_mastodon_finish(
        **{
            "organization": personas.org,
            "actor": personas.alice,
            "server_url": start.server_url,
            "code": answer["code"],
            "returned_state": answer["state"],
            "expected_state": start.state,
            "code_verifier": start.code_verifier,
            **overrides,
        }
    )


def test_the_app_registers_once_per_instance(personas, mastodon_server):
    for _ in range(2):
        services.channel_account_connect_mastodon_start(
            organization=personas.org,
            actor=personas.alice,
            server_url=mastodon_server.base_url,
            redirect_uri=REDIRECT_URI,
        )
    assert len(mastodon_server.requests_to("POST", "/api/v1/apps")) == 1
    app = MastodonApp.objects.get()
    assert app.server_url == mastodon_server.base_url
    assert AuditEvent.objects.filter(action="mastodon_app.registered").count() == 1


def test_a_new_callback_address_registers_the_app_again(personas, mastodon_server):
    services.mastodon_app_get_or_register(
        server_url=mastodon_server.base_url, redirect_uri=REDIRECT_URI
    )
    app = services.mastodon_app_get_or_register(
        server_url=mastodon_server.base_url, redirect_uri="https://new.example/cb/"
    )
    assert app.redirect_uri == "https://new.example/cb/"
    assert MastodonApp.objects.count() == 1
    assert len(mastodon_server.requests_to("POST", "/api/v1/apps")) == 2


def test_connecting_mastodon_stores_the_account(personas, mastodon_server):
    account = connect_mastodon(personas, mastodon_server)
    assert account.organization == personas.org
    assert account.network == "mastodon"
    assert account.handle == "@comms@social.example"
    assert account.status == AccountStatus.ACTIVE
    assert account.connected_by == personas.alice
    assert account.connected_at is not None
    assert account.network_limits["max_text"] == 500
    stored = ChannelAccount.objects.get(pk=account.pk)
    assert stored.credentials["access_token"] in mastodon_server.tokens
    event = AuditEvent.objects.get(action="channel_account.connected")
    assert event.new_values["handle"] == "@comms@social.example"
    assert stored.credentials["access_token"] not in str(event.new_values)


def test_reconnecting_brings_the_same_account_back(personas, mastodon_server):
    account = connect_mastodon(personas, mastodon_server)
    ChannelAccount.objects.filter(pk=account.pk).update(status=AccountStatus.NEEDS_RECONNECT)
    again = connect_mastodon(personas, mastodon_server)
    assert again.pk == account.pk
    assert again.status == AccountStatus.ACTIVE
    event = AuditEvent.objects.get(action="channel_account.reconnected")
    assert event.old_values["status"] == AccountStatus.NEEDS_RECONNECT


def test_a_forged_state_connects_nothing(personas, mastodon_server):
    with pytest.raises(AuthError):
        connect_mastodon(personas, mastodon_server, returned_state="forged")
    assert not ChannelAccount.objects.filter(network="mastodon").exists()


def test_finishing_a_connect_that_never_started_is_refused(personas, mastodon_server):
    with pytest.raises(AuthError, match="not started here"):
        services.channel_account_connect_mastodon_finish(
            organization=personas.org,
            actor=personas.alice,
            server_url=mastodon_server.base_url,
            code="x",
            returned_state="s",
            expected_state="s",
            code_verifier="v",
        )


def test_a_sandbox_account_needs_no_network(personas):
    account = services.channel_account_connect_sandbox(
        organization=personas.org, actor=personas.alice, handle="training"
    )
    assert account.network == "sandbox"
    assert account.status == AccountStatus.ACTIVE


def test_a_healthy_account_records_the_check(personas, mastodon_server):
    account = connect_mastodon(personas, mastodon_server)
    ChannelAccount.objects.filter(pk=account.pk).update(
        last_error="old", last_error_kind="transient"
    )
    account.refresh_from_db()
    result = services.channel_account_check_health(account=account)
    assert result is not None and result.handle == "@comms@social.example"
    account.refresh_from_db()
    assert account.last_health_check_at is not None
    assert account.last_error == "" and account.last_error_kind == ""


def test_a_revoked_token_asks_for_a_reconnect_once(personas, mastodon_server):
    account = connect_mastodon(personas, mastodon_server)
    mastodon_server.tokens[account.credentials["access_token"]].revoked = True
    assert services.channel_account_check_health(account=account) is None
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONNECT
    assert account.last_error_kind == "auth"
    assert "Reconnect" in account.last_error
    notices = Notification.objects.filter(kind="account.needs_reconnect")
    assert [n.user for n in notices] == [personas.alice]
    assert "@comms@social.example (Mastodon) needs reconnecting" in notices[0].message
    assert AuditEvent.objects.filter(action="channel_account.needs_reconnect").count() == 1

    services.channel_account_check_health(account=account)
    assert notices.count() == 1


def test_the_person_who_connected_is_told_too(personas):
    account = personas.bob_account
    account.connected_by = personas.bob
    account.save(update_fields=["connected_by"])
    services.channel_account_mark_needs_reconnect(account=account, reason="token revoked")
    told = set(Notification.objects.values_list("user__email", flat=True))
    assert told == {"alice@example.org", "bob@example.org"}
    assert personas.charlie.notifications.count() == 0


def test_a_transient_failure_is_recorded_without_changing_the_status(personas, mastodon_server):
    account = connect_mastodon(personas, mastodon_server)
    mastodon_server.fail_next(503, times=5)
    assert services.channel_account_check_health(account=account) is None
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE
    assert account.last_error_kind == "transient"
    assert account.last_health_check_at is not None


def test_disconnecting_revokes_the_token_and_forgets_it(personas, mastodon_server):
    account = connect_mastodon(personas, mastodon_server)
    token = account.credentials["access_token"]
    services.channel_account_disconnect(account=account, actor=personas.alice)
    assert mastodon_server.tokens[token].revoked
    account.refresh_from_db()
    assert account.status == AccountStatus.DISCONNECTED
    assert account.credentials == {}
    event = AuditEvent.objects.get(action="channel_account.disconnected")
    assert event.new_values["token_revoked"] is True


def test_disconnecting_works_when_the_instance_is_unreachable(personas, mastodon_server):
    account = connect_mastodon(personas, mastodon_server)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    MastodonApp.objects.update(server_url=dead)
    account.server_url = dead
    services.channel_account_disconnect(account=account, actor=personas.alice)
    account.refresh_from_db()
    assert account.status == AccountStatus.DISCONNECTED
    event = AuditEvent.objects.get(action="channel_account.disconnected")
    assert event.new_values == {
        "status": "disconnected",
        "token_revoked": False,
        "revoke_error": "transient",
    }


class ExpiringConnector(Connector):
    """A network whose tokens expire, to exercise the refresh service."""

    network = "expiring"
    label = "Expiring"
    capabilities = Capabilities(refresh_credentials=True)
    limits = Limits(max_text=100)

    def refresh_credentials(self, account):
        if account.credentials.get("refresh_token") == "dead":
            raise AuthError(detail="invalid_grant")
        number = int(account.credentials["refresh_token"].split("-")[1]) + 1
        return CredentialUpdate(
            credentials={"access_token": f"a-{number}", "refresh_token": f"r-{number}"},
            expires_at=timezone.now() + timedelta(hours=2),
        )


@pytest.fixture
def expiring():
    registry.register("expiring", ExpiringConnector)
    yield
    registry.CONNECTORS.pop("expiring")
    registry._instances.pop("expiring", None)


def test_refreshing_stores_the_new_single_use_token(personas, expiring):
    account = personas.bob_account
    ChannelAccount.objects.filter(pk=account.pk).update(network="expiring")
    account.network = "expiring"
    account.credentials = {"access_token": "a-1", "refresh_token": "r-1"}
    account.save(update_fields=["credentials"])
    services.channel_account_refresh_credentials(account=account)
    stored = ChannelAccount.objects.get(pk=account.pk)
    assert stored.credentials == {"access_token": "a-2", "refresh_token": "r-2"}
    assert stored.credentials_expire_at is not None
    assert stored.credentials_expire_at > timezone.now()


def test_a_refresh_the_network_refuses_asks_for_a_reconnect(personas, expiring):
    account = personas.bob_account
    account.network = "expiring"
    account.credentials = {"refresh_token": "dead"}
    account.save(update_fields=["network", "credentials"])
    with pytest.raises(AuthError):
        services.channel_account_refresh_credentials(account=account)
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONNECT
