"""How the API's authentication appears in the OpenAPI schema.

Kept apart from ``governance.api_auth``: drf-spectacular imports DRF's views, which
import the authentication classes named in settings, so the two cannot share a module.
Imported by ``governance.api`` so the extensions exist before the schema is built.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Describes personal tokens in the OpenAPI schema as HTTP bearer auth."""

    target_class = "governance.api_auth.ApiTokenAuthentication"
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
    target_class = "governance.api_auth.OTPSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}
