"""Views whose module is imported on their first request, not when the URLs load.

A web worker loads every URL module at start-up. Views built on heavy libraries that
few requests need (SCIM's pydantic models, the OpenID Connect client) would otherwise
sit in every worker's memory; routing to them through ``lazy_view`` keeps them out
until a request needs them (issue 14: memory).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import import_module
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt, csrf_protect

View = Callable[..., HttpResponse]


def lazy_view(dotted: str) -> View:
    """A view that imports ``dotted`` ("package.module.view_name") when first called.

    Django's CSRF middleware reads ``csrf_exempt`` from the routed function before the
    target exists, so the stand-in is exempt and applies the CSRF check itself unless
    the target is exempt too: the target's own choice holds either way.
    """
    module_name, name = dotted.rsplit(".", 1)

    @cache
    def target() -> View:
        found: View = getattr(import_module(module_name), name)
        return found if getattr(found, "csrf_exempt", False) else csrf_protect(found)

    @csrf_exempt
    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return target()(request, *args, **kwargs)

    view.__name__ = view.__qualname__ = name
    view.__module__ = module_name
    return view
