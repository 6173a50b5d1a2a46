import re

from governance.models import AuditEvent

SHORTCUTS_TICKED = re.compile(r'<input type="checkbox" name="keyboard_shortcuts"[^>]* checked>')


def test_profile_shows_name_and_security_links(client, personas, login):
    login(client, personas.bob)
    response = client.get("/me/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<h1>Your profile</h1>" in body
    assert 'value="Bob Editor"' in body
    assert "City of Example (Editor)" in body
    assert 'href="/me/tokens/"' in body
    assert "backup-codes" in body


def test_profile_change_is_saved_and_audited(client, personas, login):
    login(client, personas.bob)
    response = client.post(
        "/me/",
        {
            "full_name": "Robert Editor",
            "preferred_language": "sv",
            "time_zone": "Europe/Stockholm",
            "keyboard_shortcuts": "on",
        },
    )
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "sv"
    personas.bob.refresh_from_db()
    assert personas.bob.full_name == "Robert Editor"
    assert personas.bob.preferred_language == "sv"
    assert personas.bob.time_zone == "Europe/Stockholm"
    event = AuditEvent.objects.get(action="user.profile_changed")
    assert event.actor == personas.bob
    assert event.organization == personas.org
    assert event.old_values == {
        "full_name": "Bob Editor",
        "preferred_language": "",
        "time_zone": "Europe/Helsinki",
    }
    assert event.new_values["full_name"] == "Robert Editor"


def test_keyboard_shortcuts_are_on_until_turned_off_on_the_profile(client, personas, login):
    login(client, personas.bob)
    assert SHORTCUTS_TICKED.search(client.get("/me/").content.decode())
    assert 'data-inbox-shortcuts="on"' in client.get("/inbox/").content.decode()

    # An unticked box is not sent: the shortcuts are off.
    response = client.post("/me/", {"full_name": "Bob Editor", "time_zone": "Europe/Helsinki"})
    assert response.status_code == 302
    personas.bob.refresh_from_db()
    assert personas.bob.keyboard_shortcuts is False
    event = AuditEvent.objects.get(action="user.profile_changed")
    assert (event.old_values, event.new_values) == (
        {"keyboard_shortcuts": True},
        {"keyboard_shortcuts": False},
    )
    assert not SHORTCUTS_TICKED.search(client.get("/me/").content.decode())
    inbox = client.get("/inbox/").content.decode()
    assert 'data-inbox-shortcuts="off"' in inbox
    assert "Keyboard shortcuts are off." in inbox


def test_profile_needs_a_name(client, personas, login):
    login(client, personas.bob)
    response = client.post("/me/", {"full_name": "", "time_zone": "Europe/Helsinki"})
    assert response.status_code == 400
    assert 'id="id_full_name_error"' in response.content.decode()
    personas.bob.refresh_from_db()
    assert personas.bob.full_name == "Bob Editor"


def test_profile_needs_login(client, db):
    response = client.get("/me/")
    assert response.status_code == 302
    assert response["Location"].startswith("/auth/login/")
