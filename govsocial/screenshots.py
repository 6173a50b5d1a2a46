"""`make screenshots`: the everyday screens as PNG files, on a desktop and on a phone.

Run as ``python scripts/screenshots.py`` (what the Makefile target does). In a folder of
its own (``var/screenshots/demo/``, made anew each run: its own SQLite database, media
and secrets, no Redis, so the development database and caches are never touched) it:

1. migrates a fresh database and runs ``bootstrap_demo``'s setup, then fills the demo
   organization with a few weeks of content (``govsocial.demo_content``);
2. starts the app (``manage.py runserver``) on a free loopback port;
3. signs the demo admin in (a session with a verified second factor, as a login makes);
4. opens each screen in Debian's Chromium through Playwright at 1366x900 and 390x844 and
   writes ``var/screenshots/<screen>-<size>.png`` (what fits in the window; ``--full-page``
   for the whole page).

``--quick`` takes only the home page at both sizes (for a fast check); ``--reuse`` keeps
the demo database of the last run; ``--only NAME`` takes one screen.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "var" / "screenshots"
CHROMIUM = os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


@dataclass(frozen=True)
class Screen:
    name: str
    path: str


@dataclass(frozen=True)
class Size:
    name: str
    width: int
    height: int


SCREENS = (
    Screen("home", "/"),
    Screen("composer", "/publishing/posts/new/"),
    Screen("inbox", "/inbox/"),
    Screen("dashboard", "/analytics/"),
    Screen("calendar", "/publishing/calendar/week/"),
)
SIZES = (Size("1366x900", 1366, 900), Size("390x844", 390, 844))


def demo_environment(demo_dir: Path) -> dict[str, str]:
    """The environment of both the seeding and the server: everything under ``demo_dir``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ENCRYPTION_KEYS"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "govsocial.settings.base",
            "GOVSOCIAL_ENV_FILE": str(demo_dir / "no.env"),
            "GOVSOCIAL_VAR_DIR": str(demo_dir),
            "DATABASE_URL": f"sqlite:///{demo_dir / 'demo.sqlite3'}",
            "REDIS_URL": "",
            "STATIC_ROOT": str(demo_dir / "static"),
            "DEBUG": "true",
            "SANDBOX_AUDIENCE_REACTS": "false",
        }
    )
    return env


def verified_session(user: Any, organization: Any) -> str:
    """A signed-in session with a confirmed second factor, stored as a login stores it;
    returns its key."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django_otp import DEVICE_ID_SESSION_KEY

    from governance.middleware import SESSION_ORG_KEY
    from governance.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Screenshots", confirmed=True)
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store[SESSION_ORG_KEY] = organization.pk
    store.save()
    return str(store.session_key)


def prepare(*, seed: bool = True) -> str:
    """Migrate, create the demo organization and its content; the admin's session key.
    Django must be configured for the demo database (``demo_environment``). With
    ``seed`` false the database made by an earlier run is used as it is."""
    from django.core.management import call_command

    from govsocial.demo_content import demo_content_seed
    from govsocial.management.commands.bootstrap_demo import demo_bootstrap

    if seed:
        call_command("migrate", verbosity=0, interactive=False)
    demo = demo_bootstrap()
    if seed:
        demo_content_seed(organization=demo.organization, admin=demo.admin, sandbox=demo.sandbox)
    return verified_session(demo.admin, demo.organization)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(env: Mapping[str, str], port: int, log: Path) -> Iterator[str]:
    """``manage.py runserver`` on 127.0.0.1:``port`` until the block ends; yields its URL."""
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and manage.py)
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=dict(env),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"the app did not start; see {log}") from None
                    time.sleep(0.3)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def capture(
    browser: Any,
    base_url: str,
    session_key: str,
    out_dir: Path,
    *,
    screens: Iterable[Screen] = SCREENS,
    sizes: Iterable[Size] = SIZES,
    full_page: bool = False,
    session_cookie: str = "sessionid",
) -> list[Path]:
    """Each screen at each size as ``<screen>-<size>.png`` in ``out_dir``; the files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    screens = list(screens)
    for size in sizes:
        context = browser.new_context(
            base_url=base_url,
            viewport={"width": size.width, "height": size.height},
            locale="en-GB",
            timezone_id="Europe/Helsinki",
        )
        context.add_cookies([{"name": session_cookie, "value": session_key, "url": base_url}])
        page = context.new_page()
        try:
            for screen in screens:
                response = page.goto(screen.path)
                if response is None or response.status != 200 or "/auth/" in page.url:
                    status = response.status if response is not None else "no answer"
                    raise RuntimeError(f"{screen.path} answered {status} at {page.url}")
                page.wait_for_load_state("networkidle")
                path = out_dir / f"{screen.name}-{size.name}.png"
                page.screenshot(path=str(path), full_page=full_page)
                written.append(path)
        finally:
            context.close()
    return written


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG file's header."""
    header = path.read_bytes()[:24]
    if header[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG file")
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="where the PNG files go")
    parser.add_argument("--quick", action="store_true", help="only the home page")
    parser.add_argument("--full-page", action="store_true", help="the whole page, not a window")
    parser.add_argument(
        "--only", action="append", choices=[s.name for s in SCREENS], help="one screen"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep the demo database of the last run"
    )
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"Chromium not found at {CHROMIUM}: apt-get install chromium", file=sys.stderr)
        return 1

    out_dir: Path = args.out.resolve()
    demo_dir = out_dir / "demo"
    reuse = args.reuse and (demo_dir / "demo.sqlite3").exists()
    if not reuse:
        shutil.rmtree(demo_dir, ignore_errors=True)
        demo_dir.mkdir(parents=True)
    env = demo_environment(demo_dir)
    os.environ.clear()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    if not reuse:
        print(f"Setting up the demo organization in {demo_dir} ...", flush=True)
    session_key = prepare(seed=not reuse)
    screens = [s for s in SCREENS if not args.only or s.name in args.only]
    if args.quick:
        screens = screens[:1]
    from playwright.sync_api import sync_playwright

    with (
        serve(env, free_port(), demo_dir / "runserver.log") as base_url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            written = capture(
                browser,
                base_url,
                session_key,
                out_dir,
                screens=screens,
                full_page=args.full_page,
                session_cookie=settings.SESSION_COOKIE_NAME,
            )
        finally:
            browser.close()
    for path in written:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0
