"""Meta's webhook endpoint, one per organization's Meta app (no login: every delivery
is verified against the app secret before anything is read or stored)."""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from inbox.services.webhooks import (
    SignatureInvalid,
    meta_app_keys,
    meta_webhook_accept,
    meta_webhook_challenge,
)

logger = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024


@csrf_exempt
@require_http_methods(["GET", "POST"])
def meta_webhook(request: HttpRequest, app_id: int) -> HttpResponse:
    keys = meta_app_keys(app_id)
    if keys is None:
        raise Http404
    if request.method == "GET":
        try:
            challenge = meta_webhook_challenge(
                keys=keys,
                mode=request.GET.get("hub.mode", ""),
                verify_token=request.GET.get("hub.verify_token", ""),
                challenge=request.GET.get("hub.challenge", ""),
            )
        except SignatureInvalid:
            logger.warning("Meta webhook subscription check refused for app %s", app_id)
            return HttpResponseForbidden("verify token does not match")
        return HttpResponse(challenge, content_type="text/plain")
    body = request.body[: MAX_BODY_BYTES + 1]
    if len(body) > MAX_BODY_BYTES:
        return HttpResponse("too large", status=413, content_type="text/plain")
    try:
        meta_webhook_accept(
            keys=keys, body=body, signature=request.headers.get("X-Hub-Signature-256", "")
        )
    except SignatureInvalid:
        logger.warning(
            "Meta webhook delivery with a missing or bad signature refused for app %s from %s",
            app_id,
            request.META.get("REMOTE_ADDR", ""),
        )
        return HttpResponseForbidden("bad signature")
    except (ValueError, TypeError):
        return HttpResponse("not a delivery", status=400, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")
