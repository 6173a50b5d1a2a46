"""Every API error is JSON with a clear message, never an HTML page or a traceback."""

import logging

import pytest
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView


def _view(exc):
    class Raising(APIView):
        authentication_classes = []
        permission_classes = [AllowAny]

        def get(self, request):
            raise exc
            return Response()

    return Raising.as_view()


def _call(exc):
    return _view(exc)(APIRequestFactory().get("/api/v1/boom/"))


def test_unexpected_exception_is_500_json_without_traceback(caplog):
    with caplog.at_level(logging.ERROR, logger="govsocial.api"):
        response = _call(RuntimeError("secret internals: db password hunter2"))
    response.render()
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.data == {
        "detail": "Server error. The error has been logged.",
        "code": "server_error",
    }
    body = response.content.decode()
    assert "Traceback" not in body
    assert "hunter2" not in body
    # ...but the error is in the log, with its traceback, for whoever runs the site.
    record = next(r for r in caplog.records if r.name == "govsocial.api")
    assert record.exc_info is not None
    assert "hunter2" in str(record.exc_info[1])


def test_django_404_becomes_json():
    response = _call(Http404("no such thing"))
    assert response.status_code == 404
    assert response.data == {"detail": "Not found.", "code": "not_found"}


def test_django_permission_denied_becomes_json_403():
    response = _call(PermissionDenied())
    assert response.status_code == 403
    assert response.data["code"] == "permission_denied"
    assert response.data["detail"]


def test_service_validation_error_becomes_400_with_errors():
    response = _call(DjangoValidationError("That will not do.", code="nope"))
    assert response.status_code == 400
    assert response.data == {
        "detail": "Invalid input.",
        "code": "invalid",
        "errors": {"non_field_errors": ["That will not do."]},
    }


def test_validation_error_body_shape(client, personas, login):
    login(client, personas.alice)
    member = personas.membership(personas.bob)
    response = client.patch(
        f"/api/v1/members/{member.pk}/",
        {"role": "boss", "leaving_on": "someday"},
        content_type="application/json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Invalid input."
    assert body["code"] == "invalid"
    assert set(body["errors"]) == {"role", "leaving_on"}
    assert body["errors"]["role"] == ['"boss" is not a valid choice.']
    assert all(isinstance(m, str) for m in body["errors"]["leaving_on"])


def test_malformed_json_is_400_json(client, personas, login):
    login(client, personas.alice)
    response = client.patch("/api/v1/organization/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_wrong_method_is_405_json(client, personas, login):
    login(client, personas.alice)
    response = client.delete("/api/v1/me/")
    assert response.status_code == 405
    assert response.json() == {
        "detail": 'Method "DELETE" not allowed.',
        "code": "method_not_allowed",
    }


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_api_url_is_json_404(client, personas, login, settings, debug):
    settings.DEBUG = debug
    login(client, personas.alice)
    for path in ("/api/v1/no-such-thing/", "/api/nothing", "/api/v1/members/abc/"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json", path
        assert response.json()["code"] == "not_found"


def test_unknown_api_url_without_slash_says_where_to_go(client, personas, login):
    login(client, personas.alice)
    response = client.get("/api/v1/me")
    assert response.status_code == 404
    assert "/api/v1/me/" in response.json()["detail"]


def test_unknown_api_url_is_json_even_without_login(client, db):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
