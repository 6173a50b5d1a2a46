"""Login, logout and two-factor views. (Skeleton: replaced by the full flow.)"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse

login_view = auth_views.LoginView.as_view(template_name="governance/auth/login.html")
logout_view = auth_views.LogoutView.as_view()


def enrol_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("enrol")


def verify_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("verify")


def lockout_response(request: HttpRequest, credentials: Any, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponse("locked", status=429)
