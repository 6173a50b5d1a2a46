"""The OpenAPI schema and the documentation pages, within the site's CSP."""

import pytest
from django.core.management import call_command
from drf_spectacular.validation import validate_schema

ENDPOINTS = {
    "/api/v1/me/": {"get"},
    "/api/v1/organization/": {"get", "patch"},
    "/api/v1/members/": {"get"},
    "/api/v1/members/{id}/": {"get", "patch"},
    "/api/v1/members/{id}/deactivate/": {"post"},
    "/api/v1/invitations/": {"get", "post"},
    "/api/v1/audit-events/": {"get"},
    "/api/v1/tokens/": {"get", "post"},
    "/api/v1/tokens/{id}/revoke/": {"post"},
}


def test_schema_is_valid_openapi_listing_the_endpoints(client, db):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    for path, methods in ENDPOINTS.items():
        assert path in schema["paths"], path
        assert methods <= set(schema["paths"][path]), path
    schemes = schema["components"]["securitySchemes"]
    assert schemes["apiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "gs_…",
        "description": schemes["apiToken"]["description"],
    }


def test_schema_generation_has_no_warnings(tmp_path):
    # The same check CI can run: `manage.py spectacular --validate --fail-on-warn`.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )
    assert "/api/v1/me/" in (tmp_path / "schema.yml").read_text()


def test_created_token_is_in_the_schema_but_not_in_the_list(client, db):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    assert "token" in components["ApiTokenCreated"]["properties"]
    assert "token" not in components["ApiToken"]["properties"]


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_scripts_only_from_the_site(client, db, path):
    response = client.get(path)
    assert response.status_code == 200
    body = response.content.decode()
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "<script>" not in body  # no inline script: the CSP would block it
    assert "<style>" not in body
    assert "cdn." not in body and "googleapis" not in body
    assert "/static/drf_spectacular_sidecar/" in body


def test_swagger_start_up_script_is_served_as_a_file(client, db):
    response = client.get("/api/docs/", {"script": ""})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in response.content.decode()
    assert "/api/schema/" in response.content.decode()
