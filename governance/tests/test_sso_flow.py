"""Single sign-on against a real OpenID Provider (npm's oidc-provider, tests/oidc_server).

Our side is Django's test client; the provider's side is a requests session that does
what a browser does there (follows redirects, fills in the sign-in page).
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django_otp.oath import totp

from governance.models import (
    AuditEvent,
    Membership,
    Notification,
    OIDCIdentity,
    OIDCPendingMember,
    OIDCProvider,
    ProviderMFADevice,
    Role,
    User,
)
from governance.services.sso import SSOError, sso_discovery_check
from tests.factories import DEFAULT_PASSWORD, TOTPDeviceFactory
from tests.oidc_server.fixtures import query_of

pytestmark = pytest.mark.django_db


def _redirect_uri() -> str:
    return settings.SITE_URL.rstrip("/") + "/auth/sso/callback/"


@pytest.fixture
def provider(oidc_server, personas) -> OIDCProvider:
    client_id, client_secret = oidc_server.register_client(_redirect_uri())
    return OIDCProvider.objects.create(
        organization=personas.org,
        display_name="Example ID",
        issuer=oidc_server.issuer,
        client_id=client_id,
        client_secret=client_secret,
        allowed_domains=["example.org"],
        role_mapping={"comms-editors": "editor", "comms-leads": "manager", "it": "admin"},
    )


def _start(client, slug: str = "example"):
    response = client.get(f"/auth/sso/{slug}/start/")
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def _sign_in(client, oidc_server, login: str):
    """Press "Sign in with …", sign in at the provider, come back; our last answer."""
    callback = oidc_server.log_in(_start(client), login, stop_at=_redirect_uri())
    return client.get(callback.removeprefix(settings.SITE_URL.rstrip("/")))


def _actions(**filters) -> list[str]:
    events = AuditEvent.objects.filter(**filters).order_by("pk")
    return list(events.values_list("action", flat=True))


def test_discovery_reads_the_providers_endpoints(provider, oidc_server):
    metadata = sso_discovery_check(provider)
    assert metadata["issuer"] == oidc_server.issuer
    assert metadata["authorization_endpoint"] == f"{oidc_server.issuer}/auth"
    assert metadata["jwks_uri"] == f"{oidc_server.issuer}/jwks"


def test_discovery_of_a_wrong_address_is_a_clear_error(provider, oidc_server):
    provider.issuer = f"{oidc_server.issuer}/no-such-tenant"
    with pytest.raises(SSOError) as caught:
        sso_discovery_check(provider)
    assert "could not be read" in caught.value.message


def test_the_authorization_request_carries_pkce_state_nonce_and_the_exact_redirect(
    client, provider, oidc_server
):
    params = query_of(_start(client))
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 20 and len(params["nonce"]) >= 20
    assert params["redirect_uri"] == "http://localhost:8000/auth/sso/callback/"
    assert params["client_id"] == provider.client_id
    assert set(params["scope"].split()) == {"openid", "email", "profile", "groups"}


def test_first_sign_in_makes_a_member_with_the_role_of_their_groups(client, provider, oidc_server):
    oidc_server.add_account(
        "dana-1",
        email="Dana@example.org",
        name="Dana Lead",
        groups=["staff", "comms-editors", "comms-leads"],
        amr=["pwd", "mfa"],
    )
    response = _sign_in(client, oidc_server, "dana-1")

    assert response.status_code == 302 and response["Location"] == "/"
    dana = User.objects.get(email="dana@example.org")
    assert dana.full_name == "Dana Lead" and not dana.has_usable_password()
    membership = Membership.objects.get(user=dana, organization=provider.organization)
    assert membership.role == Role.MANAGER  # the highest of editor and manager
    assert OIDCIdentity.objects.get(provider=provider).subject == "dana-1"
    # The provider proved a second factor: the home page opens without our code.
    home = client.get("/")
    assert home.status_code == 200
    assert "Dana" in home.content.decode()
    assert _actions(organization=provider.organization) == [
        "sso.user_created",
        "sso.identity_linked",
        "sso.member_joined",
        "auth.login_succeeded",
    ]
    joined = AuditEvent.objects.get(action="sso.member_joined")
    assert joined.new_values["source"] == "sso"
    assert joined.new_values["role"] == "manager"
    login = AuditEvent.objects.get(action="auth.login_succeeded")
    assert login.new_values["second_factor"] == "identity provider (amr: mfa)"
    assert login.new_values["source"] == "sso"


def test_without_multi_factor_at_the_provider_our_second_factor_is_asked(
    client, provider, oidc_server
):
    oidc_server.add_account("erik-1", email="erik@example.org", groups=["comms-editors"])
    response = _sign_in(client, oidc_server, "erik-1")

    assert response.status_code == 302
    assert response["Location"].startswith("/auth/2fa/enrol/")
    assert client.get("/")["Location"] == "/auth/2fa/enrol/"
    assert not ProviderMFADevice.objects.exists()
    assert "sso.provider_accepted" in _actions()
    assert "auth.login_succeeded" not in _actions()


def test_a_member_with_an_authenticator_enters_its_code_after_a_single_factor_sign_in(
    client, provider, oidc_server, personas
):
    device = TOTPDeviceFactory.create(user=personas.bob)
    oidc_server.add_account("bob-1", email="bob@example.org", amr=["pwd"])
    response = _sign_in(client, oidc_server, "bob-1")
    assert response["Location"].startswith("/auth/2fa/verify/")

    code = f"{totp(device.bin_key):06d}"
    verified = client.post("/auth/2fa/verify/", {"code": code})
    assert verified.status_code == 302 and verified["Location"] == "/"
    assert client.get("/").status_code == 200


def test_an_acr_value_named_by_the_admin_counts_as_multi_factor(client, provider, oidc_server):
    provider.mfa_acr_values = ["urn:example:loa:substantial"]
    provider.save()
    oidc_server.add_account(
        "fay-1",
        email="fay@example.org",
        groups=["comms-editors"],
        acr="urn:example:loa:substantial",
    )
    assert _sign_in(client, oidc_server, "fay-1")["Location"] == "/"
    assert client.get("/").status_code == 200


def test_the_provider_mfa_is_not_trusted_when_the_admin_says_so(client, provider, oidc_server):
    provider.trust_provider_mfa = False
    provider.save()
    oidc_server.add_account("gus-1", email="gus@example.org", groups=["it"], amr=["mfa"])
    assert _sign_in(client, oidc_server, "gus-1")["Location"].startswith("/auth/2fa/enrol/")


def test_an_address_outside_the_allowed_domains_is_refused(client, provider, oidc_server):
    oidc_server.add_account("hal-1", email="hal@elsewhere.example", groups=["it"], amr=["mfa"])
    response = _sign_in(client, oidc_server, "hal-1")

    assert response.status_code == 400
    text = response.content.decode()
    assert "Addresses at elsewhere.example cannot sign in to City of Example" in text
    assert not User.objects.filter(email="hal@elsewhere.example").exists()
    assert "_auth_user_id" not in client.session
    refused = AuditEvent.objects.get(action="sso.login_refused")
    assert refused.new_values["reason"] == "domain"
    assert refused.new_values["source"] == "sso"


@pytest.mark.parametrize("mode", ["payload", "resign", "none"])
def test_a_tampered_id_token_is_refused(client, provider, oidc_server, mode):
    oidc_server.add_account("ivy-1", email="ivy@example.org", groups=["comms-editors"])
    oidc_server.tamper_next_token(mode)
    response = _sign_in(client, oidc_server, "ivy-1")

    assert response.status_code == 400
    assert "The sign-in could not be verified" in response.content.decode()
    assert not User.objects.filter(email__in=["ivy@example.org", "intruder@example.org"]).exists()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.get(action="sso.login_refused").new_values["reason"] == "token"


def test_an_altered_or_replayed_state_is_refused(client, provider, oidc_server):
    oidc_server.add_account("jon-1", email="jon@example.org", groups=["comms-editors"])
    callback = oidc_server.log_in(_start(client), "jon-1", stop_at=_redirect_uri())
    path = callback.removeprefix(settings.SITE_URL.rstrip("/"))
    state = query_of(callback)["state"]

    altered = client.get(path.replace(state, state[:-2] + "xx"))
    assert altered.status_code == 400
    assert "This sign-in link is not valid any more" in altered.content.decode()

    # The real state still works once; the same answer again (a replay) does not.
    assert client.get(path).status_code == 302
    client.logout()
    replay = client.get(path)
    assert replay.status_code == 400
    assert "_auth_user_id" not in client.session


def test_a_callback_without_any_started_sign_in_is_refused(client, provider):
    response = client.get("/auth/sso/callback/?code=abc&state=nothing-started")
    assert response.status_code == 400
    assert "Start again from the login page" in response.content.decode()


def test_the_role_follows_the_groups_at_each_sign_in_when_the_admin_says_so(
    client, provider, oidc_server
):
    provider.resync_role = True
    provider.save()
    oidc_server.add_account("kim-1", email="kim@example.org", groups=["comms-editors"], amr=["mfa"])
    _sign_in(client, oidc_server, "kim-1")
    kim = User.objects.get(email="kim@example.org")
    assert Membership.objects.get(user=kim).role == Role.EDITOR

    client.logout()
    oidc_server.add_account("kim-1", email="kim@example.org", groups=["comms-leads"], amr=["mfa"])
    _sign_in(client, oidc_server, "kim-1")
    assert Membership.objects.get(user=kim).role == Role.MANAGER
    synced = AuditEvent.objects.get(action="sso.role_synced")
    assert synced.old_values == {"role": "editor"}
    assert synced.new_values["role"] == "manager"
    assert synced.new_values["source"] == "sso"
    assert synced.new_values["groups"] == ["comms-leads"]


def test_without_resync_the_role_stays_as_an_admin_set_it(client, provider, oidc_server):
    oidc_server.add_account("lea-1", email="lea@example.org", groups=["comms-editors"], amr=["mfa"])
    _sign_in(client, oidc_server, "lea-1")
    client.logout()
    oidc_server.add_account("lea-1", email="lea@example.org", groups=["it"], amr=["mfa"])
    _sign_in(client, oidc_server, "lea-1")
    assert Membership.objects.get(user__email="lea@example.org").role == Role.EDITOR
    assert "sso.role_synced" not in _actions()


def test_someone_in_no_mapped_group_waits_until_an_admin_gives_a_role(
    client, provider, oidc_server, personas, login
):
    oidc_server.add_account("max-1", email="max@example.org", groups=["visitors"], amr=["mfa"])
    response = _sign_in(client, oidc_server, "max-1")

    assert response.status_code == 200
    text = response.content.decode()
    assert "Waiting for a role" in text
    assert "City of Example has not given you a role in GovSocial yet" in text
    assert "_auth_user_id" not in client.session
    max_user = User.objects.get(email="max@example.org")
    assert not Membership.objects.filter(user=max_user).exists()
    notice = Notification.objects.get(user=personas.alice)
    # In the organization's language (Finnish), as alice chose none of her own.
    assert notice.message == (
        "max@example.org kirjautui palvelulla Example ID ja odottaa roolia organisaatiossa "
        "City of Example."
    )

    admin = type(client)()
    login(admin, personas.alice)
    page = admin.get("/governance/settings/sso/")
    assert "max@example.org" in page.content.decode()
    pending = OIDCPendingMember.objects.get(user=max_user)
    approved = admin.post(
        f"/governance/settings/sso/pending/{pending.pk}/",
        {"action": "approve", f"pending-{pending.pk}-role": "reviewer"},
    )
    assert approved.status_code == 302
    assert Membership.objects.get(user=max_user).role == Role.REVIEWER

    assert _sign_in(client, oidc_server, "max-1")["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_provider_cannot_take_over_an_account_of_another_organization(
    client, provider, oidc_server, personas
):
    provider.allowed_domains = ["example.org", "other.example"]
    provider.save()
    oidc_server.add_account("evil-1", email="charlie@other.example", groups=["it"], amr=["mfa"])
    response = _sign_in(client, oidc_server, "evil-1")
    assert response.status_code == 400
    assert "is not a member of City of Example" in response.content.decode()
    assert not OIDCIdentity.objects.exists()
    assert not Membership.objects.filter(user=personas.charlie, organization=personas.org).exists()


def test_an_unverified_email_is_refused(client, provider, oidc_server):
    oidc_server.add_account(
        "ned-1", email="ned@example.org", email_verified=False, groups=["it"], amr=["mfa"]
    )
    response = _sign_in(client, oidc_server, "ned-1")
    assert response.status_code == 400
    assert "has not verified your e-mail address" in response.content.decode()


def test_an_error_from_the_provider_is_shown_not_a_500(client, provider, oidc_server):
    # The person is unknown at the provider: it answers access_denied.
    callback = oidc_server.log_in(_start(client), "nobody", stop_at=_redirect_uri())
    response = client.get(callback.removeprefix(settings.SITE_URL.rstrip("/")))
    assert response.status_code == 400
    assert "Example ID did not sign you in (access_denied)" in response.content.decode()


def _password_login(client, email: str):
    return client.post("/auth/login/", {"username": email, "password": DEFAULT_PASSWORD})


def test_sso_only_refuses_passwords_except_a_break_glass_admin(
    client, provider, oidc_server, personas
):
    provider.sso_only = True
    provider.save()
    provider.break_glass_users.add(personas.alice)
    device = TOTPDeviceFactory.create(user=personas.alice)
    personas.alice.preferred_language = "sv"
    personas.alice.save()

    refused = _password_login(client, "bob@example.org")
    assert refused.status_code == 200
    text = refused.content.decode()
    assert "City of Example signs in with Example ID only." in text
    assert "Sign in with Example ID" in text  # the button is right there
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.get(action="sso.password_refused").new_values["email"] == (
        "bob@example.org"
    )

    # The break-glass admin gets in with the password and a code, loudly.
    admin = type(client)()
    step = _password_login(admin, "alice@example.org")
    assert step["Location"].startswith("/auth/2fa/verify/")
    assert admin.get("/")["Location"] == "/auth/2fa/verify/"
    assert not AuditEvent.objects.filter(action="sso.break_glass_login").exists()
    done = admin.post("/auth/2fa/verify/", {"code": f"{totp(device.bin_key):06d}"})
    assert done["Location"] == "/"
    assert admin.get("/").status_code == 200
    event = AuditEvent.objects.get(action="sso.break_glass_login")
    assert event.actor == personas.alice
    notices = Notification.objects.filter(kind="sso.break_glass_login")
    assert [n.user for n in notices] == [personas.alice]
    assert notices[0].message.startswith(
        "Nödinloggning: alice@example.org loggade in i City of Example med lösenord"
    )

    # Members still sign in through the provider.
    oidc_server.add_account("bob-2", email="bob@example.org", amr=["mfa"])
    assert _sign_in(client, oidc_server, "bob-2")["Location"] == "/"


def test_a_break_glass_login_asks_a_second_factor_even_where_the_policy_does_not(
    client, provider, personas
):
    organization = provider.organization
    organization.require_2fa = False
    organization.save()
    provider.sso_only = True
    provider.save()
    provider.break_glass_users.add(personas.alice)
    step = _password_login(client, "alice@example.org")
    assert step["Location"].startswith("/auth/2fa/enrol/")
    assert client.get("/")["Location"] == "/auth/2fa/enrol/"


def test_the_redirect_address_never_follows_the_requests_host(client, provider, settings):
    settings.ALLOWED_HOSTS = ["*"]
    response = client.get("/auth/sso/example/start/", HTTP_HOST="attacker.example")
    params = query_of(response["Location"])
    assert params["redirect_uri"] == "http://localhost:8000/auth/sso/callback/"


def test_a_deactivated_member_is_not_let_in_by_the_provider(
    client, provider, oidc_server, personas
):
    membership = Membership.objects.get(user=personas.bob)
    membership.is_active = False
    membership.save()
    oidc_server.add_account("bob-3", email="bob@example.org", amr=["mfa"])
    response = _sign_in(client, oidc_server, "bob-3")
    assert response.status_code == 400
    assert "Your membership of City of Example was deactivated" in response.content.decode()
    assert "_auth_user_id" not in client.session
    membership.refresh_from_db()
    assert not membership.is_active


@pytest.mark.parametrize("field", ["nonce", "code_verifier"])
def test_a_wrong_nonce_or_pkce_verifier_is_refused(client, provider, oidc_server, field):
    """The ID token must carry this attempt's nonce, and the provider only gives a token
    for the PKCE verifier whose challenge started the attempt."""
    oidc_server.add_account("olli-1", email="olli@example.org", groups=["it"], amr=["mfa"])
    callback = oidc_server.log_in(_start(client), "olli-1", stop_at=_redirect_uri())
    session = client.session
    pending = session["govsocial_sso_pending"]
    for attempt in pending.values():
        attempt[field] = "x" * 43
    session["govsocial_sso_pending"] = pending
    session.save()

    response = client.get(callback.removeprefix(settings.SITE_URL.rstrip("/")))
    assert response.status_code == 400
    assert "The sign-in could not be verified" in response.content.decode()
    assert not User.objects.filter(email="olli@example.org").exists()
