"""A readable page where Django would answer with an empty body.

Many addresses only take a form's submission (``require_POST``). Opened directly (a
bookmark, a link pasted from a browser's history, a reload after a form), Django
answers 405 with an empty page, which tells a person nothing. Pages outside the API
get a page that says what happened and where to go instead; the status and the
``Allow`` header stay, so scripts and tests see the same 405.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve


def _back_to(request: HttpRequest) -> str:
    """The nearest address above this one that is a page (``/governance/members/`` for
    ``/governance/members/invite/``), else the home page."""
    path = request.path
    while path.rstrip("/"):
        path = path.rstrip("/").rsplit("/", 1)[0] + "/"
        try:
            resolve(path)
        except Resolver404:
            continue
        return path
    return "/"


class MethodNotAllowedPageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code != 405
            or request.path.startswith("/api/")
            or request.method not in ("GET", "HEAD")
            or response.content
        ):
            return response
        page = HttpResponse(
            render_to_string("errors/405.html", {"back_to": _back_to(request)}, request=request),
            status=405,
        )
        if "Allow" in response:
            page["Allow"] = response["Allow"]
        return page
