"""The short-link redirect's fast path.

A click on ``/l/<code>`` needs no session, user, two-factor check, messages or CSP: it
is a cached look-up, one counter increment and a 302. This middleware sits right after
SecurityMiddleware (so HTTPS redirects and HSTS still apply) and answers known codes
before the rest of the stack runs. Unknown codes go on to the ordinary view, which
renders the friendly "not found" page with the full stack.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from publishing.services.links import SHORT_PATH
from publishing.views.links import short_link_response


class ShortLinkMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith(SHORT_PATH) and request.method in ("GET", "HEAD"):
            response = short_link_response(request, path[len(SHORT_PATH) :])
            if response is not None:
                return response
        return self.get_response(request)
