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
    assert '<option value="Europe/Helsinki" selected>Helsinki</option>' in body
    assert 'value="US/Eastern"' not in body
    assert "Require two-factor authentication" in body


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
