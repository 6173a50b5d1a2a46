"""An address that only takes a form, opened directly, explains itself instead of
answering with an empty page."""

from __future__ import annotations


def test_a_form_only_address_opened_directly_explains_itself(client, personas, login):
    login(client, personas.alice)
    response = client.get("/governance/members/invite/")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    body = response.content.decode()
    assert "<h1>This address takes a form</h1>" in body
    assert 'href="/governance/members/"' in body


def test_a_deeper_form_only_address_links_to_the_nearest_page(client, personas, login):
    login(client, personas.alice)
    response = client.get("/governance/records/exports/new/")
    assert response.status_code == 405
    assert 'href="/governance/records/' in response.content.decode()


def test_the_api_keeps_its_own_answers(client, personas, login):
    login(client, personas.alice)
    response = client.get("/governance/members/invite/", HTTP_ACCEPT="text/html")
    assert response.status_code == 405
    response = client.put("/governance/members/invite/")
    assert response.status_code == 405
    assert b"This address takes a form" not in response.content


def test_the_publishing_area_address_opens_the_posts(client, personas, login):
    login(client, personas.alice)
    response = client.get("/publishing/")
    assert response.status_code == 302
    assert response["Location"] == "/publishing/posts/"


def test_browsers_asking_for_favicon_ico_get_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("govsocial/favicon.svg")
