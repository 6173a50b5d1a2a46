from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.cache import never_cache

from governance.models import WorkerHeartbeat
from govsocial.today import today_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Today: what needs the member now, each line linking to its action."""
    membership = getattr(request, "membership", None)
    today = today_for(membership) if membership is not None else None
    return render(request, "home.html", {"today": today})


@login_required
def coming_soon(request: HttpRequest, area: str, description: str) -> HttpResponse:
    return render(request, "coming_soon.html", {"area": area, "description": description})


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": _("Not found."), "code": "not_found"}, status=404)
    return render(request, "errors/404.html", status=404)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            {
                "detail": _("You do not have permission to perform this action."),
                "code": "permission_denied",
            },
            status=403,
        )
    return render(request, "errors/403.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            {"detail": _("Server error. The error has been logged."), "code": "server_error"},
            status=500,
        )
    return render(request, "errors/500.html", status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused CSRF check: JSON under /api/ (a script sent a session cookie without
    the CSRF token), Django's own page for forms."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "detail": _(
                    "CSRF check failed. A browser session must send the X-CSRFToken header; "
                    "scripts should use an API token instead of a session cookie."
                ),
                "code": "csrf_failed",
            },
            status=403,
        )
    return django_csrf_failure(request, reason=reason)


def _check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "down"; the reason is reported
        return False, exc.__class__.__name__
    return True, connection.vendor


def _check_broker() -> tuple[bool, str]:
    from govsocial.celery import app

    try:
        with app.connection_for_write(connect_timeout=2) as conn:
            # One attempt, no back-off sleep: the prober polling /healthz is the retry.
            conn.ensure_connection(max_retries=0, timeout=2)
            transport = conn.transport_cls
    except Exception as exc:  # any failure means "down"
        return False, exc.__class__.__name__
    return True, str(transport)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Database, broker and the last worker heartbeat, as JSON; 503 when something is down."""
    db_ok, db_detail = _check_database()
    broker_ok, broker_detail = _check_broker()
    beat = None
    if db_ok:
        beat = WorkerHeartbeat.objects.filter(name="worker").first()
    beat_age = (timezone.now() - beat.beat_at).total_seconds() if beat else None
    worker_ok = beat_age is not None and beat_age <= settings.HEARTBEAT_STALE_SECONDS
    healthy = db_ok and broker_ok and worker_ok
    body = {
        "status": "ok" if healthy else "down",
        "database": {"ok": db_ok, "detail": db_detail},
        "broker": {"ok": broker_ok, "detail": broker_detail},
        "worker": {
            "ok": worker_ok,
            "last_heartbeat": beat.beat_at.isoformat() if beat else None,
            "age_seconds": round(beat_age, 1) if beat_age is not None else None,
        },
    }
    return JsonResponse(body, status=200 if healthy else 503)


def favicon(request: HttpRequest) -> HttpResponse:
    return redirect(static("govsocial/favicon.svg"), permanent=True)
