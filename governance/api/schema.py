"""How the API's authentication appears in the OpenAPI schema.

Kept apart from ``governance.api.auth``: drf-spectacular imports DRF's views, which
import the authentication classes named in settings, so the two cannot share a module.
Imported by ``governance.api.organization`` so the extensions exist before the schema is built.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _
from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import serializers


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Describes personal tokens in the OpenAPI schema as HTTP bearer auth."""

    target_class = "governance.api.auth.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "gs_…",
            "description": str(
                _("A personal API token made on the 'API tokens' page: Authorization: Bearer gs_…")
            ),
        }


class OTPSessionScheme(OpenApiAuthenticationExtension):
    target_class = "governance.api.auth.OTPSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}


# One error body for every operation and status (governance.api.errors makes it).
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error answer of the API, whatever the status.",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, in the caller's language."},
        "code": {
            "type": "string",
            "description": "A stable, machine-readable reason, such as `invalid`, "
            "`not_authenticated`, `permission_denied`, `not_found` or `throttled`.",
        },
        "errors": {
            "type": "object",
            "description": "With `invalid` (400): the messages for each input field. An "
            "error about one item of a list or a field of a nested object is keyed by its "
            "path (`channel_accounts.2`); one about the input as a whole by "
            "`non_field_errors`.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["detail", "code"],
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}
# Answers any operation can give: bad input (a query parameter out of range, a NUL
# character, a body that is not JSON), no or a bad credential, no permission, no such
# object (another organization's objects are 404s too).
COMMON_ERRORS = {
    "400": "Invalid input: see `errors`.",
    "401": "No credentials, or a token that is unknown, revoked or expired.",
    "403": "The caller's role or account access does not allow this.",
    "404": "No such object in the caller's organization.",
}
BODY_TYPE_ERROR = "The body is not of a type this operation reads (see the request body)."
_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}


def error_envelope_hook(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular post-processing: every operation documents the common error
    statuses, and every error status has the one ``Error`` body."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    schemas.pop("ValidationError", None)
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            body = operation.get("requestBody", {}).get("content", {})
            if "application/json" in body:
                # The API is JSON: a form can say neither null nor a list, so forms
                # are read for old clients but not offered (media uploads stay multipart).
                operation["requestBody"]["content"] = {"application/json": body["application/json"]}
            responses = operation.setdefault("responses", {})
            for status, description in COMMON_ERRORS.items():
                responses.setdefault(status, {"description": description})
            if "requestBody" in operation:
                responses.setdefault("415", {"description": BODY_TYPE_ERROR})
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400:
                    if not response.get("description"):
                        response["description"] = COMMON_ERRORS.get(status, "Error.")
                    response["content"] = {"application/json": {"schema": ERROR_REF}}
    return result


def _model_field_blank(field: serializers.Field[Any, Any, Any, Any]) -> bool:
    """Whether the model field behind a ModelSerializer field may hold ""."""
    meta = getattr(getattr(field, "parent", None), "Meta", None)
    model = getattr(meta, "model", None)
    source = getattr(field, "source", "") or ""
    if model is None or not source or "." in source or source == "*":
        return False
    try:
        model_field = model._meta.get_field(source)
    except FieldDoesNotExist:
        return False
    return bool(getattr(model_field, "blank", False)) and not getattr(model_field, "null", False)


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema, with "" allowed where the API really returns it.

    A model text field with ``blank=True`` holds "" when it is empty (a sandbox account
    has no server address, an account with no error has no error kind); without this the
    schema says "an URI" or "one of these values" and "" breaks a strict client.
    """

    def _map_serializer_field(
        self, field: Any, direction: str, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction != "response" or not isinstance(
            field, serializers.CharField | serializers.ChoiceField
        ):
            return schema
        if not (getattr(field, "allow_blank", False) or _model_field_blank(field)):
            return schema
        if "enum" in schema:
            if "" not in schema["enum"]:
                schema["enum"] = [*schema["enum"], ""]
            return schema
        if "format" in schema:
            keep = ("readOnly", "writeOnly", "title", "description", "nullable")
            outer = {key: schema.pop(key) for key in keep if key in schema}
            return {"anyOf": [schema, {"type": "string", "enum": [""]}], **outer}
        return schema
