"""The two-factor layer reads nothing from the database on a signed-in request once
its answers are cached, and every change that matters drops the cached answer."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.services.members import organization_update_settings


def _queries_of(client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def test_it_reads_no_session_or_device_row_on_a_verified_members_next_request(
    client, personas, login
):
    login(client, personas.alice)
    client.get("/inbox/")
    sql = _queries_of(client, "/inbox/")
    assert not [q for q in sql if "django_session" in q]
    assert not [q for q in sql if "otp_totp" in q or "otp_static" in q]


def test_it_ends_verification_on_the_next_request_once_the_device_is_deleted(
    client, personas, login
):
    device = login(client, personas.alice)
    assert client.get("/inbox/").status_code == 200
    device.delete()
    response = client.get("/inbox/")
    assert response.status_code == 302
    assert response["Location"] == "/auth/2fa/enrol/"


def test_it_asks_for_a_second_factor_as_soon_as_the_organization_requires_one(client, personas):
    personas.org.require_2fa = False
    personas.org.save()
    client.force_login(personas.bob)
    assert client.get("/inbox/").status_code == 200
    # The answer "no second factor needed" is cached now.
    assert client.get("/inbox/").status_code == 200
    organization_update_settings(
        organization=personas.org,
        actor=personas.alice,
        name=personas.org.name,
        time_zone=personas.org.time_zone,
        default_language=personas.org.default_language,
        require_2fa=True,
    )
    response = client.get("/inbox/")
    assert response.status_code == 302
    assert response["Location"] == "/auth/2fa/enrol/"


def test_it_keeps_the_authenticators_secret_key_out_of_the_cache(client, personas, login):
    from django.core.cache import cache

    from governance.middleware import _device_cache_key

    device = login(client, personas.alice)
    client.get("/inbox/")
    cached = cache.get(_device_cache_key(device.persistent_id))
    assert cached.pk == device.pk
    assert "key" in cached.get_deferred_fields()
    assert device.key not in repr(cached.__dict__)
