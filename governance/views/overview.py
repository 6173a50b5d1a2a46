from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse


@login_required
def index_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("governance")


@login_required
def notifications_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("notifications")
