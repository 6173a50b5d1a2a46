import re

from django.conf import settings

from governance.dates import sort_key
from governance.models import AuditEvent, Organization


def _form(org: Organization, **changes):
    data = {
        "name": org.name,
        "time_zone": org.time_zone,
        "default_language": org.default_language,
        "require_2fa": "on" if org.require_2fa else "",
        "disable_2fa_confirmation": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_admin_changes_settings_and_the_change_is_audited(client, personas, login):
    login(client, personas.alice)
    response = client.post(
        "/governance/settings/",
        _form(personas.org, name="City of Example Comms", time_zone="Europe/Stockholm"),
    )
    assert response.status_code == 302
    personas.org.refresh_from_db()
    assert personas.org.name == "City of Example Comms"
    assert personas.org.time_zone == "Europe/Stockholm"
    event = AuditEvent.objects.get(action="org.settings_changed")
    assert event.old_values == {"name": "City of Example", "time_zone": "Europe/Helsinki"}
    assert event.new_values == {"name": "City of Example Comms", "time_zone": "Europe/Stockholm"}
    assert event.organization == personas.org


def test_saving_without_changes_writes_no_audit_entry(client, personas, login):
    login(client, personas.alice)
    client.post("/governance/settings/", _form(personas.org))
    assert not AuditEvent.objects.filter(action="org.settings_changed").exists()


def test_turning_off_2fa_needs_the_confirmation_text(client, personas, login):
    login(client, personas.alice)
    response = client.post("/governance/settings/", _form(personas.org, require_2fa=""))
    assert response.status_code == 400
    body = response.content.decode()
    assert "type the organization&#x27;s name (City of Example) to confirm" in body
    assert 'id="id_disable_2fa_confirmation_error"' in body
    personas.org.refresh_from_db()
    assert personas.org.require_2fa

    response = client.post(
        "/governance/settings/",
        _form(personas.org, require_2fa="", disable_2fa_confirmation="City of Example"),
    )
    assert response.status_code == 302
    personas.org.refresh_from_db()
    assert not personas.org.require_2fa
    event = AuditEvent.objects.get(action="org.settings_changed")
    assert event.old_values == {"require_2fa": True}
    assert event.new_values == {"require_2fa": False}


def test_settings_page_offers_time_zones_grouped_by_region(client, personas, login):
    login(client, personas.alice)
    body = client.get("/governance/settings/").content.decode()
    assert '<optgroup label="Europe">' in body
    assert '<option value="Europe/Helsinki" selected>Finland</option>' in body
    assert '<option value="Europe/Kyiv">Ukraine (Kyiv)</option>' in body
    assert 'value="US/Eastern"' not in body
    assert 'value="Europe/Kiev"' not in body  # the old name of Kyiv, listed once
    assert "Require two-factor authentication" in body


def _time_zone_options(body: str, region: str) -> list[str]:
    group = body.split(f'<optgroup label="{region}">', 1)[1].split("</optgroup>", 1)[0]
    return re.findall(r"<option [^>]*>([^<]*)</option>", group)


def test_settings_page_names_time_zones_in_finnish(client, personas, login):
    login(client, personas.alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fi"
    body = client.get("/governance/settings/").content.decode()
    assert '<option value="Europe/Helsinki" selected>Suomi</option>' in body
    assert '<option value="Europe/Kyiv">Ukraina (Kiova)</option>' in body
    assert '<option value="Europe/Isle_of_Man">Mansaari</option>' in body
    assert "Isle of Man" not in body and "Kiev" not in body
    europe = _time_zone_options(body, "Eurooppa")
    assert europe == sorted(europe, key=lambda name: sort_key(name, "fi"))
    # Finnish files å, ä and ö after z: Åland (Ahvenanmaa) is an A, Austria (Itävalta) an I.
    assert europe.index("Ahvenanmaa") < europe.index("Itävalta") < europe.index("Venäjä (Moskova)")
    assert "Tyynimeri" in body  # the Pacific's region


def test_profile_page_names_time_zones_in_swedish(client, personas, login):
    login(client, personas.bob)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
    body = client.get("/me/").content.decode()
    assert '<option value="Europe/Isle_of_Man">Isle of Man</option>' in body
    assert '<option value="Europe/Kyiv">Ukraina (Kiev)</option>' in body
    europe = _time_zone_options(body, "Europa")
    # Swedish ends its alphabet with å, ä, ö: Österrike comes after Vatikanstaten.
    assert europe.index("Vatikanstaten") < europe.index("Åland") < europe.index("Österrike")


def test_unknown_time_zone_is_refused(client, personas, login):
    login(client, personas.alice)
    response = client.post("/governance/settings/", _form(personas.org, time_zone="Mars/Olympus"))
    assert response.status_code == 400
    personas.org.refresh_from_db()
    assert personas.org.time_zone == "Europe/Helsinki"


def test_everyone_can_view_settings_but_only_admins_edit(client, personas, login):
    login(client, personas.bob)
    response = client.get("/governance/settings/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Only admins can change these settings." in body
    assert "Required for every member" in body
    assert '<form method="post" action="/governance/settings/"' not in body
    assert (
        client.post("/governance/settings/", _form(personas.org, name="Hijacked")).status_code
        == 403
    )
    personas.org.refresh_from_db()
    assert personas.org.name == "City of Example"


def test_charlie_edits_only_his_own_org(client, personas, login):
    login(client, personas.charlie)
    client.post("/governance/settings/", _form(personas.other_org, name="Other Agency Renamed"))
    personas.org.refresh_from_db()
    personas.other_org.refresh_from_db()
    assert personas.org.name == "City of Example"
    assert personas.other_org.name == "Other Agency Renamed"
