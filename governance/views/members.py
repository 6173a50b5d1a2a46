from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse


@login_required
def settings_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("settings")


@login_required
def profile_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("profile")
