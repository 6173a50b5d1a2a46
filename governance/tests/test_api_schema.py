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
    "/api/v1/media/{id}/copies/": {"get", "post"},
    "/api/v1/video-copies/{id}/": {"get"},
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


@pytest.mark.parametrize("path", ["/api/docs/", "/api/swagger/"])
def test_docs_pages_load_scripts_only_from_the_site(client, db, path):
    response = client.get(path)
    assert response.status_code == 200
    body = response.content.decode()
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "<script>" not in body  # no inline script: the CSP would block it
    assert "<style>" not in body
    assert "cdn." not in body and "googleapis" not in body
    assert '<script src="/' in body


def test_the_docs_are_redoc_and_its_bundle_asks_nothing_of_other_sites(client, db):
    body = client.get("/api/docs/").content.decode()
    assert '<redoc spec-url="/api/schema/"></redoc>' in body
    assert '<script src="/api/docs/?script"></script>' in body
    bundle = client.get("/api/docs/", {"script": ""})
    assert bundle.status_code == 200
    assert bundle["Content-Type"].startswith("application/javascript")
    script = b"".join(bundle.streaming_content) if bundle.streaming else bundle.content
    assert b"Redoc" in script
    assert b"https://cdn.redoc.ly" not in script
    # The old address of the Redoc page leads to the docs.
    moved = client.get("/api/redoc/")
    assert (moved.status_code, moved["Location"]) == (301, "/api/docs/")


def test_swagger_start_up_script_is_served_as_a_file(client, db):
    response = client.get("/api/swagger/", {"script": ""})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in response.content.decode()
    assert "/api/schema/" in response.content.decode()


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def test_every_error_of_every_operation_has_the_one_error_body(client, db):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["detail", "code"]
    assert set(error["properties"]) == {"detail", "code", "errors"}
    assert error["properties"]["errors"]["additionalProperties"] == {
        "type": "array",
        "items": {"type": "string"},
    }
    # There was a second shape for 400s; now one component serves every error.
    assert "ValidationError" not in schema["components"]["schemas"]
    operations = list(_operations(schema))
    assert len(operations) >= 89
    for path, method, operation in operations:
        responses = operation["responses"]
        # Any operation can answer these (a NUL in the query string is a 400 anywhere).
        assert {"400", "401", "403", "404"} <= set(responses), (method, path)
        for status, response in responses.items():
            if int(status) >= 400:
                body = response["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/Error"}, (method, path, status)
        if "requestBody" in operation:
            assert "415" in responses, (method, path)


def test_text_fields_that_can_be_empty_allow_the_empty_string(client, db):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    account = schema["components"]["schemas"]["ChannelAccount"]["properties"]
    # A sandbox account has no server address: "" was "not a uri".
    assert {"type": "string", "enum": [""]} in account["server_url"]["anyOf"]
    assert {"type": "string", "format": "uri"} in account["server_url"]["anyOf"]
    # An account with no error has no error kind: "" was outside the enum.
    assert {"$ref": "#/components/schemas/BlankEnum"} in account["last_error_kind"]["oneOf"]


def test_request_bodies_are_json(client, db):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    for path, method, operation in _operations(schema):
        if "requestBody" in operation:
            expected = {"multipart/form-data"} if path == "/api/v1/media/" else {"application/json"}
            assert set(operation["requestBody"]["content"]) == expected, (method, path)


def test_video_copy_operations_are_named_and_asking_answers_202(client, db):
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]
    copies = paths["/api/v1/media/{id}/copies/"]
    assert copies["get"]["operationId"] == "media_copies_list"
    assert copies["post"]["operationId"] == "media_copies_create"
    assert "202" in copies["post"]["responses"] and "201" not in copies["post"]["responses"]
    assert paths["/api/v1/video-copies/{id}/"]["get"]["operationId"] == "video_copies_retrieve"
