"""One account's page: status, last problem, capabilities and limits, and the
Check now, Disconnect and Reconnect buttons."""

from __future__ import annotations

from django.utils import timezone

from accounts.models import AccountStatus, ChannelAccount
from accounts.tests.flows import connect_mastodon
from accounts.tests.helpers import channel_account
from governance.models import AuditEvent, Notification


def test_admin_sees_status_capabilities_limits_and_buttons(client, personas, login):
    account = personas.other_account
    login(client, personas.alice)
    response = client.get(f"/accounts/{account.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "city-mayor" in body
    assert "Sandbox (training)" in body
    assert "Open the practice feed" in body
    assert "Connected and working." in body
    assert '<th scope="row">Direct messages</th><td>Yes</td>' in body
    assert "500 characters" in body  # the Sandbox's longest post
    for button in ("Check now", "Reconnect", "Disconnect"):
        assert button in body


def test_the_last_problem_is_shown_in_words(client, personas, login):
    account = channel_account(
        organization=personas.org,
        network="mastodon",
        handle="@broken@social.example",
        status=AccountStatus.NEEDS_RECONNECT,
        last_error="The network no longer accepts this account's sign-in. Reconnect the account.",
        last_error_kind="auth",
        last_error_at=timezone.now(),
    )
    login(client, personas.alice)
    body = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "Last problem" in body
    assert "Needs reconnecting" in body  # the kind, in words
    assert "no longer accepts this account&#x27;s sign-in" in body
    assert "Nothing can be posted to this account until" in body


def test_auditor_reads_the_account_but_may_not_act_on_it(client, personas, login):
    account = personas.other_account
    login(client, personas.carol)
    body = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "Check now" not in body and "Disconnect" not in body
    assert client.post(f"/accounts/{account.pk}/check/").status_code == 403
    assert client.get(f"/accounts/{account.pk}/disconnect/").status_code == 403
    assert client.post(f"/accounts/{account.pk}/disconnect/").status_code == 403
    assert client.post(f"/accounts/{account.pk}/reconnect/").status_code == 403
    assert ChannelAccount.objects.get(pk=account.pk).status == AccountStatus.ACTIVE


def test_limited_editor_gets_404_for_an_account_he_may_not_use(client, personas, login):
    login(client, personas.bob)
    assert client.get(f"/accounts/{personas.bob_account.pk}/").status_code == 200
    assert client.get(f"/accounts/{personas.other_account.pk}/").status_code == 404


def test_outsider_gets_404_for_the_organizations_account(client, personas, login):
    account = personas.other_account
    login(client, personas.charlie)
    assert client.get(f"/accounts/{account.pk}/").status_code == 404
    assert client.post(f"/accounts/{account.pk}/check/").status_code == 404
    assert client.post(f"/accounts/{account.pk}/disconnect/").status_code == 404
    assert client.post(f"/accounts/{account.pk}/reconnect/").status_code == 404
    assert client.get(f"/accounts/{account.pk}/sandbox/").status_code == 404
    assert ChannelAccount.objects.get(pk=account.pk).status == AccountStatus.ACTIVE


def test_check_now_records_a_working_connection(client, personas, login):
    account = personas.other_account
    login(client, personas.alice)
    response = client.post(f"/accounts/{account.pk}/check/", follow=True)
    assert "The connection works: the network answered as city-mayor." in (
        response.content.decode()
    )
    account.refresh_from_db()
    assert account.last_health_check_at is not None


def test_check_now_on_a_revoked_token_asks_for_a_reconnect_and_tells_the_owner(
    client, personas, login, mastodon_server, mailoutbox, django_capture_on_commit_callbacks
):
    login(client, personas.alice)
    account = connect_mastodon(client, mastodon_server)
    mastodon_server.tokens[account.credentials["access_token"]].revoked = True
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/accounts/{account.pk}/check/", follow=True)
    body = response.content.decode()
    assert "The check failed" in body
    assert "The account needs reconnecting." in body
    assert "Needs reconnect</span>" in body
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONNECT
    notice = Notification.objects.get(user=personas.alice, kind="account.needs_reconnect")
    assert "@comms@social.example (Mastodon) needs reconnecting" in notice.message
    assert [m.to for m in mailoutbox] == [["alice@example.org"]]
    assert "@comms@social.example" in mailoutbox[0].subject
    assert AuditEvent.objects.filter(action="channel_account.needs_reconnect").count() == 1


def test_the_owner_who_is_not_an_admin_is_told_too(
    client, personas, login, mastodon_server, mailoutbox, django_capture_on_commit_callbacks
):
    login(client, personas.alice)
    account = connect_mastodon(client, mastodon_server)
    ChannelAccount.objects.filter(pk=account.pk).update(connected_by=personas.carol)
    mastodon_server.tokens[account.credentials["access_token"]].revoked = True
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/accounts/{account.pk}/check/")
    told = set(Notification.objects.values_list("user__email", flat=True))
    assert told == {"alice@example.org", "carol@example.org"}
    assert sorted(m.to[0] for m in mailoutbox) == ["alice@example.org", "carol@example.org"]


def test_disconnect_asks_first_then_revokes_and_forgets(client, personas, login, mastodon_server):
    login(client, personas.alice)
    account = connect_mastodon(client, mastodon_server)
    token = account.credentials["access_token"]
    confirm = client.get(f"/accounts/{account.pk}/disconnect/")
    assert confirm.status_code == 200
    assert "Disconnect @comms@social.example?" in confirm.content.decode()
    assert ChannelAccount.objects.get(pk=account.pk).status == AccountStatus.ACTIVE

    response = client.post(f"/accounts/{account.pk}/disconnect/", follow=True)
    assert "@comms@social.example is disconnected." in response.content.decode()
    account.refresh_from_db()
    assert account.status == AccountStatus.DISCONNECTED
    assert account.credentials == {}
    assert mastodon_server.tokens[token].revoked
    event = AuditEvent.objects.get(action="channel_account.disconnected")
    assert event.actor == personas.alice
    assert event.new_values["token_revoked"] is True


def test_reconnecting_a_disconnected_sandbox_account_brings_it_back(client, personas, login):
    account = personas.other_account
    login(client, personas.alice)
    client.post(f"/accounts/{account.pk}/disconnect/")
    assert ChannelAccount.objects.get(pk=account.pk).status == AccountStatus.DISCONNECTED
    response = client.post(f"/accounts/{account.pk}/reconnect/", follow=True)
    assert "city-mayor is connected again." in response.content.decode()
    assert ChannelAccount.objects.get(pk=account.pk).status == AccountStatus.ACTIVE
    assert ChannelAccount.objects.filter(organization=personas.org).count() == 2


def test_reconnecting_a_bluesky_account_opens_its_form_filled_in(client, personas, login):
    account = channel_account(
        organization=personas.org,
        network="bluesky",
        handle="city.bsky.social",
        server_url="https://pds.example.gov",
        status=AccountStatus.NEEDS_RECONNECT,
    )
    login(client, personas.alice)
    response = client.post(f"/accounts/{account.pk}/reconnect/")
    assert response["Location"] == f"/accounts/connect/bluesky/?account={account.pk}"
    body = client.get(response["Location"]).content.decode()
    assert "Reconnect city.bsky.social (Bluesky)" in body
    assert 'value="city.bsky.social"' in body
    assert 'value="https://pds.example.gov"' in body
