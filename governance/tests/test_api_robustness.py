"""Odd input to the API is a 400 with a JSON error, never a 500; every /api/ answer is JSON.

Each case here was a 500, an HTML page or a silently ignored value before.
"""

import json
import socket

import pytest
from django.test import Client, RequestFactory
from drf_spectacular.generators import SchemaGenerator

MAX_PAGE_SIZE = 200


def _list_paths():
    """Every GET operation that pages with ``limit`` (and most with ``offset``), with the
    paging parameters it has, as the schema lists them."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = {}
    for path, item in schema["paths"].items():
        names = {p["name"] for p in item.get("get", {}).get("parameters", [])}
        if "limit" in names:
            paths[path] = names & {"limit", "offset"}
    return paths


PAGED = _list_paths()
LIST_PATHS = sorted(PAGED)
BAD_PAGES = [
    ("offset=99999999999999999999", "offset"),  # was bigint out of range: a 500
    ("limit=1000000000", "limit"),  # was accepted
    ("limit=-1", "limit"),  # was ignored
    ("limit=abc", "limit"),  # was ignored
    ("offset=-5", "offset"),
    ("limit=0", "limit"),
]


def test_there_are_list_endpoints_to_check():
    assert len(LIST_PATHS) >= 14
    assert "/api/v1/members/" in LIST_PATHS
    assert "/api/v1/analytics/goals/" in LIST_PATHS
    assert "/api/v1/inbox/items/" in LIST_PATHS


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        (path, query, field)
        for path in LIST_PATHS
        for query, field in BAD_PAGES
        if field in PAGED[path]
    ],
)
def test_every_list_refuses_a_page_outside_its_range(client, personas, login, path, query, field):
    login(client, personas.alice)
    # A list under one object (a watch's stream) checks its page before the object: any
    # id shows whether the page is refused.
    response = client.get(f"{path.replace('{id}', '1')}?{query}")
    assert response.status_code == 400, (path, query, response.content[:200])
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == [field]
    assert all(isinstance(message, str) for message in body["errors"][field])


def test_the_error_says_the_range(client, personas, login):
    login(client, personas.alice)
    body = client.get("/api/v1/members/?limit=500").json()
    assert body["errors"] == {"limit": ["Give a whole number from 1 to 200."]}


@pytest.mark.parametrize("path", ["/api/v1/members/", "/api/v1/analytics/goals/"])
def test_the_largest_page_is_served(client, personas, login, path):
    login(client, personas.alice)
    response = client.get(f"{path}?limit={MAX_PAGE_SIZE}&offset=1000000000")
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_the_audit_log_page_size_is_validated_too(client, personas, login):
    login(client, personas.alice)
    for value in ("abc", "0", "-1", "100000000000000000000", "201"):
        response = client.get(f"/api/v1/audit-events/?page_size={value}")
        assert response.status_code == 400, value
        assert list(response.json()["errors"]) == ["page_size"]
    assert client.get("/api/v1/audit-events/?page_size=200").status_code == 200


def test_the_schema_documents_the_range_of_every_page_parameter(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path in LIST_PATHS:
        parameters = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert parameters["limit"]["schema"]["maximum"] == MAX_PAGE_SIZE, path
        assert parameters["limit"]["schema"]["minimum"] == 1, path
        if "offset" in parameters:
            assert parameters["offset"]["schema"]["minimum"] == 0, path
            assert parameters["offset"]["schema"]["maximum"] <= 2**63 - 1, path
    audit = {p["name"]: p for p in schema["paths"]["/api/v1/audit-events/"]["get"]["parameters"]}
    assert audit["page_size"]["schema"]["maximum"] == MAX_PAGE_SIZE


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/inbox/saved-replies/?language=%00",  # was a 500 (PostgreSQL refuses NUL)
        "/api/v1/members/?x%00=1",
        "/api/v1/posts/?status=%00draft",
    ],
)
def test_nul_in_a_query_string_is_a_json_400(client, personas, login, url):
    login(client, personas.alice)
    response = client.get(url)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"]
    assert all(
        messages == ["This value cannot contain NUL characters."]
        for messages in body["errors"].values()
    )


def test_nul_in_a_page_query_string_is_a_400_too(client, personas, login):
    login(client, personas.alice)
    response = client.get("/inbox/?q=%00")
    assert response.status_code == 400


@pytest.mark.parametrize("depth", [100_000, 40])
def test_deeply_nested_json_is_a_json_400(client, personas, login, depth):
    # 100,000 levels was a RecursionError (a 500) inside the JSON parser.
    login(client, personas.alice)
    body = "[" * depth + "]" * depth
    response = client.patch("/api/v1/organization/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert "nested more than 32 levels" in response.json()["detail"]


def test_json_nested_within_the_limit_is_read(client, personas, login):
    login(client, personas.alice)
    response = client.patch(
        "/api/v1/organization/",
        json.dumps({"name": "City of Example", "extra": [[[["deep enough"]]]]}),
        content_type="application/json",
    )
    assert response.status_code == 200


def test_unsafe_method_on_an_unknown_api_path_is_a_json_404(personas, login):
    # A logged-in browser session without a CSRF token: Django's HTML CSRF page before.
    client = Client(enforce_csrf_checks=True)
    login(client, personas.carol)
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)("/api/v1/no-such-thing/")
        assert response.status_code == 404, method
        assert response["Content-Type"] == "application/json", method
        assert response.json()["code"] == "not_found"


def test_a_failed_csrf_check_under_api_is_json(rf: RequestFactory):
    from govsocial.views import csrf_failure

    response = csrf_failure(rf.post("/api/v1/anything/"), reason="CSRF cookie not set.")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["code"] == "csrf_failed"


def test_a_failed_csrf_check_on_a_page_stays_a_page(rf: RequestFactory):
    from govsocial.views import csrf_failure

    response = csrf_failure(rf.post("/settings/"), reason="CSRF cookie not set.")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")


def test_list_field_errors_are_keyed_by_path_not_nested(client, personas, login):
    login(client, personas.alice)
    response = client.post(
        "/api/v1/invitations/",
        {"email": "new@example.org", "role": "editor", "channel_accounts": ["abc"]},
        content_type="application/json",
    )
    assert response.status_code == 400
    # Was {"channel_accounts": {"0": [...]}}: an object the schema did not describe.
    assert response.json()["errors"] == {"channel_accounts.0": ["A valid integer is required."]}


@pytest.fixture
def refused_address():
    """An address on this machine where nothing listens: connecting is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def test_an_instance_where_no_server_answers_is_a_400_on_the_field(
    client, personas, login, refused_address, monkeypatch
):
    # Nothing was sent: the address the person typed is wrong, not a failing network (502).
    from accounts import http

    monkeypatch.setattr(http, "sleep", lambda seconds: None)
    login(client, personas.alice)
    response = client.post(
        "/api/v1/channel-accounts/connect/mastodon/",
        {"instance": refused_address},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "We could not reach" in response.json()["errors"]["instance"][0]


def test_an_instance_name_urllib3_cannot_encode_is_a_400(client, personas, login):
    # A 64-character DNS label was a LocationParseError from urllib3: a 500.
    login(client, personas.alice)
    response = client.post(
        "/api/v1/channel-accounts/connect/mastodon/",
        {"instance": "a" * 70 + ".example.org"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "this server address is not allowed" in response.json()["errors"]["instance"][0]


@pytest.mark.parametrize(
    ("language", "message"),
    [("fi", "Anna kokonaisluku väliltä 1\u2013200."), ("sv", "Ange ett heltal från 1 till 200.")],
)
def test_the_page_error_is_in_the_callers_language(client, personas, login, language, message):
    login(client, personas.alice)
    response = client.get("/api/v1/members/?limit=abc", headers={"Accept-Language": language})
    assert response.json()["errors"] == {"limit": [message]}
