"""Every API error as JSON: ``{"detail": ..., "code": ...}``, never an HTML page or a traceback."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler, set_rollback

logger = logging.getLogger("govsocial.api")


def _text(detail: Any) -> str:
    """An error's message as one string (the envelope's ``detail``)."""
    if isinstance(detail, str):
        return str(detail)
    messages: dict[str, list[str]] = {}
    _flatten(detail, "", messages)
    return " ".join(message for group in messages.values() for message in group)


def _flatten(detail: Any, path: str, out: dict[str, list[str]]) -> None:
    if isinstance(detail, dict):
        for key, value in detail.items():
            _flatten(value, f"{path}.{key}" if path else str(key), out)
    elif isinstance(detail, list):
        for index, item in enumerate(detail):
            if isinstance(item, dict | list):
                # One entry per item of a list of objects (many=True): its index is the path.
                _flatten(item, f"{path}.{index}" if path else str(index), out)
            else:
                out.setdefault(path or "non_field_errors", []).append(str(item))
    else:
        out.setdefault(path or "non_field_errors", []).append(str(detail))


def _field_errors(detail: Any) -> dict[str, list[str]]:
    """Every error as ``{field: [message, ...]}``, the one shape the schema documents.

    An error about one item of a list, or a field of a nested object, is keyed by its
    path: ``channel_accounts.2``, ``targets.0.account``. A serializer-wide error is
    under ``non_field_errors``, as DRF names it.
    """
    out: dict[str, list[str]] = {}
    _flatten(detail, "", out)
    return out or {"non_field_errors": [str(_("Invalid input."))]}


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
        response.data = {"detail": _text(exc.detail), "code": _code(exc)}
    return response


@csrf_exempt  # nothing here changes anything: an unknown address is a 404 for every method
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
