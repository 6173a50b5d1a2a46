"""Views routed through ``lazy_view`` keep their own CSRF choice (issue 14: memory)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_lazily_imported_form_view_still_refuses_a_post_without_the_csrf_token():
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("governance:scim_token"))

    assert response.status_code == 403
    assert b"CSRF" in response.content


def test_a_lazily_imported_csrf_exempt_endpoint_answers_without_a_csrf_token():
    client = Client(enforce_csrf_checks=True)

    response = client.post("/scim/v2/Users", data="{}", content_type="application/scim+json")

    assert response.status_code == 401
    assert response.json()["status"] == "401"


def test_a_lazily_imported_view_is_found_by_its_name():
    assert reverse("governance:sso_settings") == "/governance/settings/sso/"
