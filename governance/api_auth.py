"""API authentication: personal tokens, and the browser session once 2FA is satisfied."""

from __future__ import annotations

from rest_framework.authentication import SessionAuthentication


class OTPSessionAuthentication(SessionAuthentication):
    pass


class ApiTokenAuthentication(SessionAuthentication):
    pass
