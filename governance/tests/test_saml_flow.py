"""Single sign-on with SAML 2.0 against a real identity provider: pysaml2's IdP
(tests/saml_idp), signing with a key made for this test run.

Our side is Django's test client; the IdP's side is a requests session that does what
a browser does there (opens the address with our request, signs in, and posts the
answer form back to our assertion consumer service).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings

from governance.models import (
    AuditEvent,
    Membership,
    OIDCIdentity,
    OIDCPendingMember,
    OIDCProvider,
    ProviderMFADevice,
    Role,
    User,
)
from governance.services.saml import (
    SAML_SESSION_KEY,
    saml_metadata_entity,
    saml_metadata_fetch,
)

pytestmark = pytest.mark.django_db

REFEDS_MFA = "https://refeds.org/profile/mfa"


@pytest.fixture
def provider(saml_idp, personas) -> OIDCProvider:
    xml = saml_metadata_fetch(saml_idp.metadata_url)
    return OIDCProvider.objects.create(
        organization=personas.org,
        protocol=OIDCProvider.Protocol.SAML,
        display_name="Example SAML",
        issuer="",
        client_id="",
        saml_metadata_url=saml_idp.metadata_url,
        saml_metadata_xml=xml,
        saml_idp_entity_id=saml_metadata_entity(xml),
        saml_email_attribute="mail",
        allowed_domains=["example.org"],
        role_mapping={"comms-editors": "editor", "comms-leads": "manager", "it": "admin"},
    )


def _local(url: str) -> str:
    return url.removeprefix(settings.SITE_URL.rstrip("/"))


def _answer(client, saml_idp, login: str, slug: str = "example") -> tuple[str, dict[str, str]]:
    """Press "Sign in with …" and sign in at the IdP: where its answer posts, and what."""
    start = client.get(f"/auth/sso/{slug}/start/")
    assert start.status_code == 302, start.content[:500]
    return saml_idp.log_in(start["Location"], login)


def _post_answer(client, action: str, fields: dict[str, str]):
    """The browser posts the answer to our assertion consumer service and follows us to
    the page that checks it; our last answer."""
    posted = client.post(_local(action), fields)
    assert posted.status_code == 302, posted.content[:500]
    return client.get(posted["Location"])


def _sign_in(client, saml_idp, login: str):
    return _post_answer(client, *_answer(client, saml_idp, login))


def _refusal(**filters) -> AuditEvent:
    return AuditEvent.objects.filter(action="sso.login_refused", **filters).latest("pk")


def test_our_metadata_names_our_entity_and_assertion_consumer_service(client, provider):
    org_id = provider.organization_id
    response = client.get(f"/auth/sso/saml/{org_id}/metadata/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/samlmetadata+xml")
    body = response.content.decode()
    assert f'entityID="http://localhost:8000/auth/sso/saml/{org_id}/metadata/"' in body
    assert f'Location="http://localhost:8000/auth/sso/saml/{org_id}/acs/"' in body
    assert 'WantAssertionsSigned="true"' in body


def test_the_request_goes_to_the_idp_named_in_its_metadata(client, provider, saml_idp):
    start = client.get("/auth/sso/example/start/")
    assert start.status_code == 302
    assert start["Location"].startswith(f"{saml_idp.base}/sso?SAMLRequest=")


def test_a_signed_assertion_signs_a_new_member_in_with_the_role_of_their_groups(
    client, provider, saml_idp
):
    saml_idp.add_account(
        "dana",
        email="Dana@example.org",
        name="Dana Lead",
        groups=["staff", "comms-editors", "comms-leads"],
        authn_context=REFEDS_MFA,
    )
    response = _sign_in(client, saml_idp, "dana")

    assert response.status_code == 302 and response["Location"] == "/"
    dana = User.objects.get(email="dana@example.org")
    assert dana.full_name == "Dana Lead" and not dana.has_usable_password()
    membership = Membership.objects.get(user=dana, organization=provider.organization)
    assert membership.role == Role.MANAGER
    assert OIDCIdentity.objects.get(provider=provider).subject == "subject-dana"
    # The IdP proved a second factor (REFEDS MFA): the home page opens without our code.
    home = client.get("/")
    assert home.status_code == 200 and "Dana" in home.content.decode()
    assert ProviderMFADevice.objects.filter(user=dana, provider=provider).exists()
    login = AuditEvent.objects.get(action="auth.login_succeeded")
    assert login.new_values["second_factor"] == (
        f"identity provider (AuthnContextClassRef: {REFEDS_MFA})"
    )


def test_a_password_only_context_asks_our_own_second_factor(client, provider, saml_idp):
    saml_idp.add_account("erik", email="erik@example.org", groups=["comms-editors"])
    response = _sign_in(client, saml_idp, "erik")

    assert response.status_code == 302
    assert response["Location"].startswith("/auth/2fa/enrol/")
    assert client.get("/")["Location"] == "/auth/2fa/enrol/"
    assert not ProviderMFADevice.objects.exists()


def test_a_context_named_by_the_admin_counts_as_multi_factor(client, provider, saml_idp):
    provider.mfa_acr_values = ["urn:example:loa:substantial"]
    provider.save()
    saml_idp.add_account(
        "fay", email="fay@example.org", groups=["it"], authn_context="urn:example:loa:substantial"
    )
    assert _sign_in(client, saml_idp, "fay")["Location"] == "/"


@pytest.mark.parametrize(
    ("options", "detail"),
    [
        ({"sign_assertion": False, "sign_response": False}, "Signature"),
        # A signed response does not make up for an unsigned assertion.
        ({"sign_assertion": False, "sign_response": True}, "Signature"),
        ({"audience": "https://other.example/saml/metadata"}, "AudienceRestrictions"),
        ({"destination": "https://other.example/saml/acs"}, "is not our assertion consumer"),
        (
            {"sign_alg": "http://www.w3.org/2000/09/xmldsig#rsa-sha1"},
            "weak signature algorithm http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        ),
        (
            {"digest_alg": "http://www.w3.org/2000/09/xmldsig#sha1"},
            "weak signature algorithm http://www.w3.org/2000/09/xmldsig#sha1",
        ),
    ],
    ids=[
        "unsigned",
        "only-the-response-signed",
        "wrong-audience",
        "wrong-recipient",
        "sha1-signature",
        "sha1-digest",
    ],
)
def test_an_answer_that_is_not_valid_is_refused(client, provider, saml_idp, options, detail):
    saml_idp.add_account("gus", email="gus@example.org", groups=["it"], authn_context=REFEDS_MFA)
    saml_idp.next_answer(**options)
    response = _sign_in(client, saml_idp, "gus")

    assert response.status_code == 400
    assert "could not be verified" in response.content.decode()
    assert not User.objects.filter(email="gus@example.org").exists()
    assert "_auth_user_id" not in client.session
    refusal = _refusal(organization=provider.organization)
    assert refusal.new_values["reason"] == "assertion"
    assert detail in refusal.new_values["detail"], refusal.new_values["detail"]


@pytest.mark.parametrize(
    ("seconds_later", "accepted"),
    [
        (60 + 30, True),  # past NotOnOrAfter, within the clock skew allowance
        (60 + 120, False),  # expired
        (-30, True),  # before NotBefore, within the allowance (our clock is behind)
        (-180, False),  # not valid yet
    ],
    ids=["late-within-skew", "expired", "early-within-skew", "not-yet-valid"],
)
def test_an_answer_is_accepted_only_within_its_validity_and_the_clock_skew(
    client, provider, saml_idp, seconds_later, accepted
):
    saml_idp.add_account("hal", email="hal@example.org", groups=["it"], authn_context=REFEDS_MFA)
    saml_idp.next_answer(lifetime_seconds=60)
    action, fields = _answer(client, saml_idp, "hal")
    later = datetime.now(UTC) + timedelta(seconds=seconds_later)
    with time_machine.travel(later, tick=False):
        response = _post_answer(client, action, fields)
    if accepted:
        assert response.status_code == 302 and response["Location"] == "/"
    else:
        assert response.status_code == 400
        assert "could not be verified" in response.content.decode()
        assert "_auth_user_id" not in client.session
        detail = _refusal().new_values["detail"]
        assert ("too old" if seconds_later > 0 else "use response yet") in detail, detail


def test_a_replayed_assertion_is_refused(client, provider, saml_idp):
    saml_idp.add_account("ida", email="ida@example.org", groups=["it"], authn_context=REFEDS_MFA)
    action, fields = _answer(client, saml_idp, "ida")
    outstanding = client.session[SAML_SESSION_KEY]
    assert _post_answer(client, action, fields)["Location"] == "/"

    # The same answer again while its request still counts as outstanding (two tabs
    # racing): the assertion's ID was seen already.
    session = client.session
    session[SAML_SESSION_KEY] = outstanding
    session.save()
    again = _post_answer(client, action, fields)
    assert again.status_code == 400
    assert "used already" in again.content.decode()
    assert _refusal().new_values["reason"] == "replay"

    # … and in another browser that started its own sign-in: not its request.
    other = client.__class__()
    other.get("/auth/sso/example/start/")
    replay = _post_answer(other, action, fields)
    assert replay.status_code == 400
    assert "_auth_user_id" not in other.session
    assert AuditEvent.objects.filter(action="auth.login_succeeded").count() == 1


def test_an_answer_to_another_browsers_request_is_refused(client, provider, saml_idp):
    """Login CSRF: an attacker's own answer posted into someone else's browser."""
    saml_idp.add_account("eve", email="eve@example.org", groups=["it"], authn_context=REFEDS_MFA)
    attacker = client.__class__()
    action, fields = _answer(attacker, saml_idp, "eve")
    client.get("/auth/sso/example/start/")  # the victim has a sign-in of their own going
    response = _post_answer(client, action, fields)
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    refusal = _refusal()
    assert refusal.new_values["reason"] == "assertion"
    assert "UnsolicitedResponse" in refusal.new_values["detail"]


def test_an_unsolicited_answer_is_refused(client, provider, saml_idp):
    saml_idp.add_account("jan", email="jan@example.org", groups=["it"], authn_context=REFEDS_MFA)
    action, fields = _answer(client.__class__(), saml_idp, "jan")
    response = _post_answer(client, action, fields)
    assert response.status_code == 400
    assert "not valid any more" in response.content.decode()


def test_someone_in_no_mapped_group_waits_for_an_admin(client, provider, saml_idp):
    saml_idp.add_account("max", email="max@example.org", groups=["visitors"])
    response = _sign_in(client, saml_idp, "max")
    assert response.status_code == 200
    assert OIDCPendingMember.objects.filter(organization=provider.organization).count() == 1
    assert not Membership.objects.filter(user__email="max@example.org").exists()


def test_the_role_follows_the_groups_when_the_admin_says_so(client, provider, saml_idp):
    provider.resync_role = True
    provider.save()
    saml_idp.add_account(
        "kim", email="kim@example.org", groups=["comms-editors"], authn_context=REFEDS_MFA
    )
    _sign_in(client, saml_idp, "kim")
    client.logout()
    saml_idp.add_account(
        "kim", email="kim@example.org", groups=["comms-leads"], authn_context=REFEDS_MFA
    )
    _sign_in(client, saml_idp, "kim")
    assert Membership.objects.get(user__email="kim@example.org").role == Role.MANAGER


def test_an_address_outside_the_allowed_domains_is_refused(client, provider, saml_idp):
    saml_idp.add_account(
        "hal", email="hal@elsewhere.example", groups=["it"], authn_context=REFEDS_MFA
    )
    response = _sign_in(client, saml_idp, "hal")
    assert response.status_code == 400
    assert "elsewhere.example" in response.content.decode()


def test_posting_garbage_to_the_assertion_consumer_service_is_a_400_not_a_500(client, provider):
    client.get("/auth/sso/example/start/")
    org_id = provider.organization_id
    for junk in ("not base64 !!", "PHhtbD48L3htbD4=", "A" * 5000):
        response = _post_answer(client, f"/auth/sso/saml/{org_id}/acs/", {"SAMLResponse": junk})
        assert response.status_code == 400
    assert client.post(f"/auth/sso/saml/{org_id}/acs/", {}).status_code == 400


def test_the_saml_pages_of_an_organization_without_saml_are_404(client, personas):
    org_id = personas.org.pk
    assert client.get(f"/auth/sso/saml/{org_id}/metadata/").status_code == 404
    assert client.post(f"/auth/sso/saml/{org_id}/acs/", {"SAMLResponse": "x"}).status_code == 404


def test_metadata_that_cannot_be_read_or_names_another_entity_is_a_clear_error(saml_idp):
    from governance.services.sso import SSOError

    with pytest.raises(SSOError) as caught:
        saml_metadata_entity("garbage <<")
    assert "metadata could not be read" in caught.value.message
    with pytest.raises(SSOError) as caught:
        saml_metadata_entity(saml_idp.metadata(), "https://someone-else.example/idp")
    assert "no identity provider with that entity ID" in caught.value.message
    assert saml_metadata_entity(saml_idp.metadata()) == saml_idp.entity_id


def _settings_form(**changes):
    data = {
        "protocol": "saml",
        "display_name": "Kaupungin SAML",
        "allowed_domains": "example.org",
        "groups_claim": "groups",
        "role_mapping": "comms-editors = editor",
        "default_role": "",
        "trust_provider_mfa": "on",
        "saml_email_attribute": "mail",
        "enabled": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_sets_up_saml_from_the_metadata_address_and_a_member_signs_in(
    client, personas, login, saml_idp
):
    login(client, personas.alice)
    page = client.get("/governance/settings/sso/")
    org_id = personas.org.pk
    assert f"http://localhost:8000/auth/sso/saml/{org_id}/acs/" in page.content.decode()

    response = client.post(
        "/governance/settings/sso/", _settings_form(saml_metadata_url=saml_idp.metadata_url)
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    provider = OIDCProvider.objects.get(organization=personas.org)
    assert provider.protocol == "saml"
    assert provider.saml_idp_entity_id == saml_idp.entity_id
    assert "EntityDescriptor" in provider.saml_metadata_xml
    event = AuditEvent.objects.get(action="sso.provider_created")
    assert event.new_values["protocol"] == "saml"
    assert len(event.new_values["saml_metadata_sha256"]) == 64

    member = client.__class__()
    saml_idp.add_account(
        "ola", email="ola@example.org", groups=["comms-editors"], authn_context=REFEDS_MFA
    )
    assert _sign_in(member, saml_idp, "ola")["Location"] == "/"
    assert Membership.objects.get(user__email="ola@example.org").role == Role.EDITOR


def test_admin_uploads_the_metadata_file(client, personas, login, saml_idp):
    from django.core.files.uploadedfile import SimpleUploadedFile

    login(client, personas.alice)
    upload = SimpleUploadedFile("idp.xml", saml_idp.metadata().encode(), "application/xml")
    response = client.post("/governance/settings/sso/", _settings_form(saml_metadata_file=upload))
    assert response.status_code == 302
    provider = OIDCProvider.objects.get(organization=personas.org)
    assert provider.saml_idp_entity_id == saml_idp.entity_id
    assert provider.saml_metadata_url == ""


def test_metadata_that_is_not_metadata_is_refused_on_the_form(client, personas, login):
    from django.core.files.uploadedfile import SimpleUploadedFile

    login(client, personas.alice)
    upload = SimpleUploadedFile("idp.xml", b"<html>not metadata</html>", "application/xml")
    response = client.post("/governance/settings/sso/", _settings_form(saml_metadata_file=upload))
    assert response.status_code == 400
    assert "The metadata describes no identity provider." in response.content.decode()
    assert not OIDCProvider.objects.exists()

    nothing = client.post("/governance/settings/sso/", _settings_form())
    assert nothing.status_code == 400
    assert "Enter the metadata address or upload the metadata file." in nothing.content.decode()


def test_saml_only_refuses_passwords_but_lets_a_break_glass_admin_in(client, provider, personas):
    from tests.factories import DEFAULT_PASSWORD, TOTPDeviceFactory

    provider.sso_only = True
    provider.save()
    provider.break_glass_users.add(personas.alice)
    TOTPDeviceFactory.create(user=personas.alice)

    refused = client.post(
        "/auth/login/", {"username": "bob@example.org", "password": DEFAULT_PASSWORD}
    )
    text = refused.content.decode()
    assert "City of Example signs in with Example SAML only." in text
    assert "Sign in with Example SAML" in text
    assert "_auth_user_id" not in client.session

    admin = client.__class__()
    step = admin.post(
        "/auth/login/", {"username": "alice@example.org", "password": DEFAULT_PASSWORD}
    )
    assert step["Location"].startswith("/auth/2fa/verify/")


def test_a_plain_http_metadata_address_is_refused_outside_test_machines(
    client, personas, login, settings
):
    settings.SSO_ALLOW_INSECURE_ISSUERS = False
    login(client, personas.alice)
    response = client.post(
        "/governance/settings/sso/",
        _settings_form(saml_metadata_url="http://idp.example.org/metadata"),
    )
    assert response.status_code == 400
    assert "The metadata address must start with https://." in response.content.decode()


def test_members_linked_over_openid_connect_sign_in_after_the_switch_to_saml(
    client, provider, saml_idp, personas
):
    from governance.services.sso import ProviderData, sso_provider_save

    provider.protocol = OIDCProvider.Protocol.OIDC
    provider.save()
    OIDCIdentity.objects.create(provider=provider, user=personas.bob, subject="oidc-sub-of-bob")
    sso_provider_save(
        organization=personas.org,
        actor=personas.alice,
        data=ProviderData(
            display_name="Example SAML",
            issuer="",
            client_id="",
            allowed_domains=["example.org"],
            role_mapping=provider.role_mapping,
            protocol="saml",
            saml_metadata_url=provider.saml_metadata_url,
            saml_idp_entity_id=provider.saml_idp_entity_id,
            saml_email_attribute="mail",
        ),
    )
    saml_idp.add_account("bob", email="bob@example.org", authn_context=REFEDS_MFA)
    assert _sign_in(client, saml_idp, "bob")["Location"] == "/"
    assert OIDCIdentity.objects.get(provider=provider).subject == "subject-bob"


def test_metadata_given_by_address_is_read_again_once_a_day(client, provider, saml_idp):
    from datetime import timedelta

    from django.utils import timezone

    old = timezone.now() - timedelta(days=2)
    provider.saml_metadata_xml += "<!-- the copy from two days ago -->"
    provider.saml_metadata_fetched_at = old
    provider.save()
    assert client.get("/auth/sso/example/start/").status_code == 302
    provider.refresh_from_db()
    assert "two days ago" not in provider.saml_metadata_xml
    assert provider.saml_metadata_fetched_at > old

    # When the address fails, the stored copy stays in use and sign-in still starts.
    provider.saml_metadata_url = f"{saml_idp.base}/gone"
    provider.saml_metadata_xml += "<!-- kept -->"
    provider.saml_metadata_fetched_at = old
    provider.save()
    start = client.get("/auth/sso/example/start/")
    assert start.status_code == 302 and start["Location"].startswith(f"{saml_idp.base}/sso?")
    provider.refresh_from_db()
    assert provider.saml_metadata_xml.endswith("<!-- kept -->")


def test_an_oversized_answer_is_not_kept(client, provider):
    org_id = provider.organization_id
    response = client.post(f"/auth/sso/saml/{org_id}/acs/", {"SAMLResponse": "A" * 300_000})
    assert response.status_code == 400
    assert "could not be verified" in response.content.decode()
