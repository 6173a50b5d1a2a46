"""The browser side of connecting an account, shared by the pages and the API.

A Mastodon connect starts here (a page, or the API) and ends at the callback
page when the instance sends the person back. Between the two, the state and
the PKCE verifier wait server-side: in the person's session when a page
started the flow, in the cache (bound to the person) when the API did, since
an API client's session is not the browser's. Each waits at most
``FLOW_TTL_SECONDS`` and is used once.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.connectors.base import (
    AuthError,
    ConnectorError,
    RateLimited,
    Rejected,
)

SESSION_KEY = "accounts_mastodon_flows"
CACHE_PREFIX = "accounts:mastodon-flow:"
FLOW_TTL_SECONDS = 15 * 60
# A person may have a few connects open in tabs; older ones are dropped.
MAX_FLOWS_PER_SESSION = 5


@dataclass(frozen=True)
class PendingFlow:
    """A Mastodon sign-in in progress."""

    state: str
    code_verifier: str
    server_url: str
    organization_id: int
    user_id: int
    # The account being reconnected, to tell the person if they signed in as another.
    reconnect_account_id: int | None = None
    started_at: float = 0.0

    def expired(self) -> bool:
        return time.time() - self.started_at > FLOW_TTL_SECONDS


def mastodon_redirect_uri(request: HttpRequest) -> str:
    """The callback's absolute address. ``SITE_URL`` gives the canonical scheme when the
    person is on the site's own host (a proxy may hide https from us); on any other
    host the request's own address, so the instance sends them back where their
    session cookie lives."""
    path = reverse("accounts:mastodon_callback")
    site = urlsplit(settings.SITE_URL)
    if site.scheme and site.netloc and site.netloc == request.get_host():
        return f"{site.scheme}://{site.netloc}{path}"
    return request.build_absolute_uri(path)


def send_to_sign_in(request: HttpRequest, authorization_url: str, server_url: str) -> HttpResponse:
    """The page that sends the browser on to the instance's sign-in page.

    Not a redirect: the site's CSP (``form-action 'self'``) also governs where a form
    submission may be redirected, so a POST answered with a redirect to the instance
    is blocked by the browser. A page of our own that moves on by itself (a meta
    refresh, which CSP does not govern, with a link for anyone it does not move)
    is a new navigation, not the form's.
    """
    return render(
        request,
        "accounts/mastodon_continue.html",
        {
            "authorization_url": authorization_url,
            "server_host": urlsplit(server_url).netloc or server_url,
        },
    )


def _cache_key(state: str) -> str:
    return CACHE_PREFIX + hashlib.sha256(state.encode()).hexdigest()


def pending_flow_keep(request: HttpRequest, flow: PendingFlow, *, in_session: bool = True) -> None:
    flow = PendingFlow(**{**asdict(flow), "started_at": flow.started_at or time.time()})
    if not in_session:
        cache.set(_cache_key(flow.state), asdict(flow), timeout=FLOW_TTL_SECONDS)
        return
    flows: list[dict[str, Any]] = [
        item for item in request.session.get(SESSION_KEY, []) if not PendingFlow(**item).expired()
    ]
    flows.append(asdict(flow))
    request.session[SESSION_KEY] = flows[-MAX_FLOWS_PER_SESSION:]


def pending_flow_take(request: HttpRequest, state: str) -> PendingFlow | None:
    """The flow this ``state`` belongs to, removed so it cannot be used again; None when
    there is none for this person (wrong, used or expired state)."""
    if not state:
        return None
    found: PendingFlow | None = None
    flows = request.session.get(SESSION_KEY, [])
    kept = []
    for item in flows:
        flow = PendingFlow(**item)
        if found is None and flow.state == state:
            found = flow
        elif not flow.expired():
            kept.append(item)
    if len(kept) != len(flows):
        request.session[SESSION_KEY] = kept
    if found is None:
        cached = cache.get(_cache_key(state))
        # Someone else's state is left alone: they may still finish their own connect.
        if cached is not None and cached.get("user_id") == request.user.pk:
            cache.delete(_cache_key(state))
            found = PendingFlow(**cached)
    if found is None or found.expired() or found.user_id != request.user.pk:
        return None
    return found


def connect_error_message(error: ConnectorError, *, server: str = "") -> str:
    """What to tell the person when connecting failed, by kind of failure.

    Refusals and sign-in failures carry their own words; for the others the
    connector's default ("we will try again") does not fit a person waiting at a
    form, so they are told what to do instead.
    """
    where = server or _("the server")
    if isinstance(error, AuthError):
        return error.message
    if isinstance(error, Rejected):
        return _("GovSocial cannot connect to %(server)s: %(reason)s") % {
            "server": where,
            "reason": error.reason or error.message,
        }
    if isinstance(error, RateLimited):
        return _("%(server)s asks us to slow down. Wait a few minutes and try again.") % {
            "server": where
        }
    return _(
        "We could not reach %(server)s, or it did not answer properly. Check the address, "
        "or try again later."
    ) % {"server": where}


def x_redirect_uri(request: HttpRequest) -> str:
    """The X callback's absolute address (entered as the app's callback URI at X)."""
    path = reverse("accounts:x_callback")
    site = urlsplit(settings.SITE_URL)
    if site.scheme and site.netloc and site.netloc == request.get_host():
        return f"{site.scheme}://{site.netloc}{path}"
    return request.build_absolute_uri(path)


def x_canonical_redirect_uri() -> str:
    """The callback address on the site's own host, to show on the setup page."""
    return settings.SITE_URL.rstrip("/") + reverse("accounts:x_callback")


def tiktok_redirect_uri(request: HttpRequest) -> str:
    """The TikTok callback's absolute address (registered in Login Kit's settings)."""
    path = reverse("accounts:tiktok_callback")
    site = urlsplit(settings.SITE_URL)
    if site.scheme and site.netloc and site.netloc == request.get_host():
        return f"{site.scheme}://{site.netloc}{path}"
    return request.build_absolute_uri(path)
