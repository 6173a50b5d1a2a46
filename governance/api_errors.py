"""Every API error as JSON: ``{"detail": ..., "code": ...}``, never an HTML page or a traceback."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler, set_rollback

logger = logging.getLogger("govsocial.api")


def _plain(detail: Any) -> Any:
    """ErrorDetail objects (str subclasses) as plain strings, keeping the nesting."""
    if isinstance(detail, dict):
        return {str(key): _plain(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_plain(item) for item in detail]
    return str(detail)


def _field_errors(detail: Any) -> dict[str, Any]:
    # A serializer-wide error arrives as a bare list; name it the way DRF does.
    if isinstance(detail, dict):
        return {
            key: value if isinstance(value, list | dict) else [value]
            for key, value in _plain(detail).items()
        }
    if isinstance(detail, list):
        return {"non_field_errors": _plain(detail)}
    return {"non_field_errors": [str(detail)]}


def _code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def json_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's exception handler, with one body shape for every error.

    Services raise Django's ``ValidationError``, ``PermissionDenied`` and ``Http404``;
    they become 400, 403 and 404 here. Anything else is a bug: it is logged with its
    traceback and the caller gets a plain 500 that gives nothing away.
    """
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    if not isinstance(exc, exceptions.APIException):
        request = context.get("request")
        logger.error(
            "Unhandled exception in API view %s %s",
            getattr(request, "method", "?"),
            getattr(request, "path", "?"),
            exc_info=exc,
        )
        set_rollback()
        return Response(
            {"detail": _("Server error. The error has been logged."), "code": "server_error"},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    # DRF's own handler sets WWW-Authenticate, Retry-After and rolls back the transaction.
    response = exception_handler(exc, context)
    assert response is not None  # DRF handles every APIException
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "detail": _("Invalid input."),
            "code": "invalid",
            "errors": _field_errors(exc.detail),
        }
    else:
        response.data = {"detail": _plain(exc.detail), "code": _code(exc)}
    return response


def api_not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """The last route under /api/: an unknown API address is a JSON 404, with DEBUG on or off.

    Django's slash-appending redirect cannot reach past this route, so a request
    for ``/api/v1/me`` says where the endpoint is instead of redirecting a script.
    """
    detail = _("Not found.")
    if not request.path_info.endswith("/"):
        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            detail = _("Not found. API addresses end with a slash: %(path)s") % {
                "path": request.path + "/"
            }
    return JsonResponse({"detail": detail, "code": "not_found"}, status=404)
