"""The organization and its settings through the API."""

from governance.models import AuditEvent, Organization


def test_member_reads_own_organization(client, personas, login):
    login(client, personas.bob)
    response = client.get("/api/v1/organization/")
    assert response.status_code == 200
    assert response.json()["name"] == "City of Example"
    assert response.json()["require_2fa"] is True


def test_admin_changes_settings_and_it_is_audited(client, personas, login):
    login(client, personas.alice)
    response = client.patch(
        "/api/v1/organization/",
        {"time_zone": "Europe/Stockholm", "default_language": "sv"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["time_zone"] == "Europe/Stockholm"
    assert response.json()["name"] == "City of Example"
    event = AuditEvent.objects.get(action="org.settings_changed")
    assert event.new_values == {"time_zone": "Europe/Stockholm", "default_language": "sv"}


def test_turning_2fa_off_needs_the_name_as_confirmation(client, personas, login):
    login(client, personas.alice)
    response = client.patch(
        "/api/v1/organization/", {"require_2fa": False}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "disable_2fa_confirmation" in response.json()["errors"]
    assert Organization.objects.get(pk=personas.org.pk).require_2fa is True

    response = client.patch(
        "/api/v1/organization/",
        {"require_2fa": False, "disable_2fa_confirmation": "City of Example"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["require_2fa"] is False


def test_editor_cannot_change_settings(client, personas, login):
    login(client, personas.bob)
    response = client.patch(
        "/api/v1/organization/", {"name": "Mine now"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert Organization.objects.get(pk=personas.org.pk).name == "City of Example"


def test_unknown_time_zone_is_a_field_error(client, personas, login):
    login(client, personas.alice)
    response = client.patch(
        "/api/v1/organization/", {"time_zone": "Mars/Olympus"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"time_zone": ["Unknown time zone."]}
