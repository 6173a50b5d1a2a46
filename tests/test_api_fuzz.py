"""The API does what its OpenAPI schema says, for any input: a bounded schemathesis run.

Every operation in /api/schema/ is called with generated input (valid and invalid),
authenticated with a personal API token of an organization admin, and every response
is checked: no 5xx, status code, content type, headers and body as documented.

No network look-up leaves the machine: connect endpoints resolve the instance or
handle they are given, and here every name resolves to a loopback port that refuses
connections.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from datetime import timedelta

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from accounts import http as accounts_http
from accounts.connectors.base import FoundPost
from governance.models import ApiToken, Membership, Role
from governance.services.tokens import api_token_create
from inbox.tests.helpers import make_item
from listening.models import ListeningPost, Watch, WatchAlert
from listening.services import listening_store_posts
from publishing.models import MediaAsset, MediaKind, VideoCopyJob, VideoCopyKind
from tests.factories import ChannelAccountFactory

# Bounds for the run: examples per operation (half valid, half invalid input, as
# schemathesis mixes them). 89 operations x this stays within a few minutes on 2 cores.
# FUZZ_EXAMPLES=100 runs deeper by hand.
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "10"))

# Destroying the test's own credentials (revoking its token, deactivating or demoting
# its admin) would turn every later call into a 401/403 and test nothing. Rather than
# leave those operations out (POST tokens/{id}/revoke/, POST members/{id}/deactivate/,
# PATCH members/{id}/), the credentials are put back before each call: none is excluded.
EXCLUDED_OPERATIONS: list[str] = []


# Every other check runs (not_a_server_error, status_code_conformance,
# content_type_conformance, response_headers_conformance, response_schema_conformance,
# missing_required_header, unsupported_method, allow_header_conformance, use_after_free,
# ensure_resource_availability, ignored_auth, ...). These two judge the input side:
# - positive_data_acceptance wants every schema-valid body accepted, but rules the
#   schema cannot state answer 400 by design (end after start, a known time zone, an
#   account of this organization, a handle not yet in the registry);
# - negative_data_rejection wants every schema-invalid input refused, but DRF reads a
#   JSON number given for a text field as its digits, and an empty query parameter as
#   absent; neither loses anything nor errs.
EXCLUDED_CHECKS = [positive_data_acceptance, negative_data_rejection]


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port that is bound but not listening: connecting is refused at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


@pytest.fixture
def local_resolver(monkeypatch, refused_port) -> list[str]:
    """Every host name (and address) resolves to the refused loopback port, never via DNS."""
    looked_up: list[str] = []

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        looked_up.append(str(host))
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", refused_port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    # A refused connection is retried after a back-off; here it would only add waiting.
    monkeypatch.setattr(accounts_http, "sleep", lambda seconds: None)
    return looked_up


@pytest.fixture
def admin_token(personas) -> tuple[str, ApiToken, Membership]:
    token, raw = api_token_create(user=personas.alice, organization=personas.org, name="fuzz")
    return raw, token, personas.membership(personas.alice)


@pytest.fixture
def seeded(personas, admin_token) -> dict[str, int]:
    """Objects for the operations on one object to find, made through the API itself,
    with the empty values real data has (no display name, no e-mail, no server URL).
    Keyed by the collection path the object's operations start with."""
    raw = admin_token[0]
    api = Client(headers={"Authorization": f"Bearer {raw}"})

    def create(path: str, body: dict) -> int:
        response = api.post(path, body, content_type="application/json")
        assert response.status_code in (200, 201), (path, response.content)
        return int(response.json()["id"])

    today = timezone.localdate()
    account = personas.bob_account
    item = make_item(account, author_name="", author_handle="citizen")
    searchable = ChannelAccountFactory.create(
        organization=personas.org, network="bluesky", handle="city.bsky.social"
    )
    watch_id = create(
        "/api/v1/listening/watches/",
        {"name": "Pool", "terms": ["uimahalli"], "channel_accounts": [searchable.pk]},
    )
    watch = Watch.objects.get(pk=watch_id)
    found = FoundPost(
        remote_id="at://did:plc:aino/app.bsky.feed.post/1",
        url="",
        author_handle="aino.bsky.social",
        author_name="",
        text="uimahalli kiinni",
        created_at=timezone.now(),
    )
    listening_store_posts(
        watch=watch, account=searchable, network="bluesky", found=[(found, ["uimahalli"])]
    )
    alert = WatchAlert.objects.create(watch=watch, hour=timezone.now(), count=40, baseline=0)
    _other_token, _ = api_token_create(
        user=personas.alice, organization=personas.org, name="another"
    )
    # A library video (its row is all the copy operations read; no worker runs here)
    # and a copy job of it.
    video = MediaAsset.objects.create(
        organization=personas.org,
        file="media/clip.mp4",
        original_name="clip.mp4",
        kind=MediaKind.VIDEO,
        mime_type="video/mp4",
        size_bytes=100_000,
        width=320,
        height=240,
        sha256="0" * 64,
        duration_ms=3000,
    )
    copy_job = VideoCopyJob.objects.create(
        organization=personas.org, source=video, kind=VideoCopyKind.TRANSCODE
    )
    return {
        "/api/v1/channel-accounts/": account.pk,
        "/api/v1/members/": personas.membership(personas.bob).pk,
        "/api/v1/tokens/": _other_token.pk,
        "/api/v1/inbox/items/": item.pk,
        "/api/v1/media/": video.pk,
        "/api/v1/video-copies/": copy_job.pk,
        "/api/v1/posts/": create(
            "/api/v1/posts/",
            {
                "title": "Library",
                "variants": [
                    {"channel_account": account.pk, "language": "fi", "text": "Kirjasto."}
                ],
            },
        ),
        "/api/v1/registry-entries/": create(
            "/api/v1/registry-entries/",
            {
                "network": "instagram",
                "handle": "cityofexample",
                "login_identity": "",
                "native_admins": [{"name": "Pat Agency", "email": ""}],
            },
        ),
        "/api/v1/analytics/goals/": create(
            "/api/v1/analytics/goals/",
            {
                "name": "",
                "metric": "followers",
                "account": account.pk,
                "target": "1000",
                "period_start": (today - timedelta(days=5)).isoformat(),
                "period_end": (today + timedelta(days=25)).isoformat(),
            },
        ),
        "/api/v1/analytics/reports/": create(
            "/api/v1/analytics/reports/",
            {
                "name": "Board",
                "cadence": "monthly",
                "recipients": ["board@city.example"],
                "language": "fi",
            },
        ),
        "/api/v1/listening/watches/": watch_id,
        "/api/v1/listening/posts/": ListeningPost.objects.get(watch=watch).pk,
        "/api/v1/listening/cases/": create("/api/v1/listening/cases/", {"claim": "Pool closed"}),
        "/api/v1/listening/alerts/": alert.pk,
        "/api/v1/policies/": create(
            "/api/v1/policies/", {"title": "Tone", "kind": "other", "body": "Be kind."}
        ),
    }


def _use_seeded_object(case, seeded: dict[str, int]) -> None:
    """Half the generated ids (the even ones) become an object that exists, so the
    answers about real objects are checked too, not only 404s."""
    parameters = case.path_parameters or {}
    generated = parameters.get("id")
    if not isinstance(generated, int) or generated % 2:
        return
    collection = case.path.split("{id}")[0]
    if collection in seeded:
        parameters["id"] = seeded[collection]


@pytest.fixture(autouse=True)
def _keep_test_connection(db):
    # As Django's test client does: the WSGI handler must not close the test's
    # database connection (and with it the transaction holding the test data).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# The schema /api/schema/ serves (the same generator), with the site's WSGI application:
# each operation becomes one test item.
schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = get_wsgi_application()


def _restore_credentials(token: ApiToken, membership: Membership) -> None:
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=None)
    Membership.objects.filter(pk=membership.pk).update(
        role=Role.ADMIN, is_active=True, all_accounts=True
    )
    membership.user.__class__.objects.filter(pk=membership.user_id).update(is_active=True)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_matches_its_schema(case, admin_token, seeded, local_resolver):
    raw, token, membership = admin_token
    _restore_credentials(token, membership)
    _use_seeded_object(case, seeded)
    # Django's test client (used to seed) connects these again after each request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    case.call_and_validate(
        headers={"Authorization": f"Bearer {raw}"}, excluded_checks=EXCLUDED_CHECKS
    )


def test_the_run_covers_every_operation_of_the_schema():
    documented = {
        f"{method.upper()} {path}"
        for path, item in schema.raw_schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    loaded = {f"{operation.method.upper()} {operation.path}" for operation in operations}
    assert len(documented) >= 89
    assert loaded == documented - set(EXCLUDED_OPERATIONS)


def test_resolver_stub_answers_every_name_locally(local_resolver, refused_port):
    # The stub itself: a name that only a real DNS could answer comes back as loopback,
    # and connecting there is refused rather than leaving the machine.
    info = socket.getaddrinfo("mastodon.social", 443)
    assert info[0][4] == ("127.0.0.1", refused_port)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("mastodon.social", 443), timeout=2)
    assert "mastodon.social" in local_resolver
