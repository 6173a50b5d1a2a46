"""Video: a 200 MB video sent in chunks to the library through gunicorn, then to YouTube.

In a throwaway PostgreSQL database (``<DATABASE_URL's name>_video``; the benchmark needs
DATABASE_URL and REDIS_URL, as the web and worker processes share it):

- Makes a real clip with ffmpeg (10 s of 1280x720 test picture with sound, moov first)
  and pads it with an MP4 ``free`` box to ``BENCH_VIDEO_MB`` (default 200) MB: a valid
  file that ffprobe reads, as large as asked, without minutes of encoding.
- Starts gunicorn with the production settings and 2 sync workers (as
  ``bench/load.py``), and sends the file as the library page's script does: an upload
  session, then ``PUT``s of 8 MB with ``Content-Range``; the last one has the server
  probe the video and take its poster. The unpadded clip is uploaded twice first, to
  warm the workers up.
- Starts a Celery worker and beat (``publishing/tests/processes.py``, the end-to-end
  tests' processes) and the YouTube test server (``tests/youtube_server``) in this
  process; a post with the video, approved and scheduled, is published by the worker
  through the YouTube connector's resumable upload.
- Prints ``video_upload_mb_per_s`` (file size over the time from opening the session to
  the last answer, probe included), ``video_connector_mb_per_s`` (file size over the
  publish attempt's duration), and the peak resident memory of the web and worker
  processes (``VmHWM`` from /proc, the largest process of each; ``..._before_mb`` is
  the same before the video, so the difference is what the video cost).
Goal (issue 18): memory flat, whatever the file's size; never the whole file in memory.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

from bench import Figure, django_setup

MB = 1024 * 1024
CHUNK = 8 * MB
SRT = "1\n00:00:00,500 --> 00:00:02,000\nBenchmark video.\n"


def make_padded_video(path: Path, megabytes: float) -> Path:
    """A real 10 s H.264/AAC clip with its index first, padded with a ``free`` box (which
    players and ffprobe skip) to ``megabytes``."""
    ffmpeg = shutil.which("ffmpeg") or "ffmpeg"
    subprocess.run(
        [
            ffmpeg, "-v", "error",
            "-f", "lavfi", "-i", "testsrc=duration=10:size=1280x720:rate=30",
            "-f", "lavfi", "-i", "sine=duration=10",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-shortest", "-movflags", "+faststart", "-y", str(path),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )  # fmt: skip
    pad = int(megabytes * MB) - path.stat().st_size - 8
    if pad > 0:
        with path.open("ab") as out:
            out.write(pad.to_bytes(4, "big") + b"free")
            zeros = bytes(MB)
            left = pad - 8
            while left > 0:
                out.write(zeros[: min(MB, left)])
                left -= MB
    return path


def _peak_rss_mb(root_pid: int) -> float:
    """The largest peak resident memory (VmHWM) of ``root_pid`` and its children."""
    largest = 0.0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        pid = fields.get("Pid", "").strip()
        if pid == str(root_pid) or fields.get("PPid", "").strip() == str(root_pid):
            largest = max(largest, int(fields.get("VmHWM", "0 kB").split()[0]) / 1024)
    return largest


def _seed() -> SimpleNamespace:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django_otp import DEVICE_ID_SESSION_KEY

    from governance.middleware import SESSION_ORG_KEY
    from governance.models import Membership, Organization, Role, TOTPDevice, User

    organization = Organization.objects.create(
        name="Bench City", slug="bench-video", time_zone="Europe/Helsinki", country="FI"
    )
    editor = User.objects.create_user("editor@bench.example", None, full_name="Bench Editor")
    reviewer = User.objects.create_user("review@bench.example", None, full_name="Bench Review")
    membership = Membership.objects.create(organization=organization, user=editor, role=Role.ADMIN)
    reviewing = Membership.objects.create(
        organization=organization, user=reviewer, role=Role.MANAGER
    )
    device = TOTPDevice.objects.create(user=editor, name="bench", confirmed=True)
    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(editor.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = editor.get_session_auth_hash()
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store[SESSION_ORG_KEY] = organization.pk
    store.save()
    return SimpleNamespace(
        org=organization,
        alice=editor,
        membership=membership,
        reviewing=reviewing,
        session_key=store.session_key,
    )


def _upload(port: int, session_key: str, path: Path) -> tuple[int, float]:
    """The page's script, in Python: open a session, send 8 MB chunks. Returns the new
    asset's id and the seconds it took."""
    from django.conf import settings

    csrf = secrets.token_hex(16)  # the cookie's secret, sent back as the header
    cookie = f"{settings.SESSION_COOKIE_NAME}={session_key}; {settings.CSRF_COOKIE_NAME}={csrf}"
    headers = {"Host": "127.0.0.1", "Cookie": cookie, "X-CSRFToken": csrf}
    size = path.stat().st_size
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.perf_counter()
    conn.request(
        "POST",
        "/publishing/media/uploads/",
        body=urlencode({"video-name": path.name, "video-size": size}),
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    response = conn.getresponse()
    state = json.loads(response.read())
    if response.status != 201:
        raise RuntimeError(f"opening the upload answered {response.status}: {state}")
    offset = 0
    with path.open("rb") as handle:
        while offset < size:
            handle.seek(offset)
            data = handle.read(CHUNK)
            conn.request(
                "PUT",
                state["url"],
                body=data,
                headers={
                    **headers,
                    "Content-Type": "application/octet-stream",
                    "Content-Range": f"bytes {offset}-{offset + len(data) - 1}/{size}",
                },
            )
            response = conn.getresponse()
            state = json.loads(response.read())
            if response.status != 200:
                raise RuntimeError(f"a chunk at {offset} answered {response.status}: {state}")
            offset = state["offset"]
    elapsed = time.perf_counter() - started
    conn.close()
    if "location" not in state:
        raise RuntimeError(f"the upload ended without a video: {state}")
    return int(state["location"].rstrip("/").rsplit("/", 1)[-1]), elapsed


def _publish(seeded: SimpleNamespace, asset_id: int, server: Any, folder: Path) -> float:
    """Schedule a post with the video to YouTube; a real worker publishes it. Returns
    the publish attempt's seconds."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from accounts.connectors.registry import get_connector
    from publishing.languages import organization_language_codes
    from publishing.models import MediaAsset, Post, PostStatus, PublishAttempt
    from publishing.services.approval import post_approve
    from publishing.services.posts import (
        MediaSlot,
        post_create,
        post_schedule,
        post_submit_for_review,
        variant_save,
    )
    from publishing.services.video import media_caption_set
    from publishing.tests.processes import CeleryProcesses
    from publishing.validation import organization_publishing_rules
    from tests.youtube_server.helpers import connect

    youtube = connect(seeded, server, get_connector("youtube"))
    asset = MediaAsset.objects.get(pk=asset_id)
    language = organization_language_codes(organization_publishing_rules(seeded.org))[0]
    media_caption_set(
        asset=asset,
        membership=seeded.membership,
        language=language,
        file=SimpleUploadedFile("captions.srt", SRT.encode()),
    )
    post = post_create(membership=seeded.membership, title="Benchmark video")
    variant_save(
        post=post,
        membership=seeded.membership,
        channel_account=youtube,
        language=language,
        text="A benchmark video.",
        media=[MediaSlot(asset)],
        network_options={
            "title": "Benchmark video",
            "made_for_kids": False,
            "privacy_status": "unlisted",
        },
    )
    post_submit_for_review(post=post, membership=seeded.membership)
    post_approve(post=post, membership=seeded.reviewing)
    with CeleryProcesses(folder, broker_url=os.environ["REDIS_URL"], concurrency=1) as celery:
        celery.start_worker()
        celery.start_beat()
        post_schedule(
            post=post, membership=seeded.membership, at=timezone.now() + timedelta(seconds=2)
        )
        assert celery.worker is not None
        worker_pid = celery.worker.pid
        worker_before = _peak_rss_mb(worker_pid)
        celery.wait_for(
            lambda: Post.objects.filter(
                pk=post.pk, status__in=[PostStatus.PUBLISHED, PostStatus.FAILED]
            ).exists(),
            "the video to be published to YouTube",
            seconds=900,
        )
        worker_peak = _peak_rss_mb(worker_pid)
    if not Post.objects.filter(pk=post.pk, status=PostStatus.PUBLISHED).exists():
        raise RuntimeError(f"the post failed; see the logs in {folder}")
    attempt = PublishAttempt.objects.filter(job__post=post).latest("started_at")
    assert attempt.finished_at is not None
    seconds = (attempt.finished_at - attempt.started_at).total_seconds()
    seeded.worker_before, seeded.worker_peak = worker_before, worker_peak
    return seconds


def run() -> list[Figure]:
    from tests.youtube_server.server import YouTubeTestServer

    megabytes = float(os.environ.get("BENCH_VIDEO_MB", "200"))
    server = YouTubeTestServer().start()
    folder = Path(tempfile.mkdtemp(prefix="govsocial-bench-video-"))
    os.environ.update(
        {
            "DEBUG": "false",
            "OAUTHLIB_INSECURE_TRANSPORT": "1",
            "CONNECTORS_ALLOW_PRIVATE_NETWORKS": "true",
            "YOUTUBE_API_URL": server.base_url,
            "YOUTUBE_AUTHORIZE_URL": server.authorize_url,
            "YOUTUBE_TOKEN_URL": server.base_url,
            "MEDIA_ROOT": str(folder / "media"),
            "VIDEO_UPLOAD_DIR": str(folder / "uploads"),
        }
    )
    django_setup()
    from django.db import connection

    from bench.load import _free_port, _start_gunicorn

    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        raise RuntimeError("the video benchmark needs DATABASE_URL (PostgreSQL) and REDIS_URL")
    settings_dict = connection.settings_dict
    name = f"{settings_dict['NAME']}_video"
    settings_dict.setdefault("TEST", {})["NAME"] = name
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    process: subprocess.Popen[bytes] | None = None
    try:
        video = make_padded_video(folder / "bench-video.mp4", megabytes)
        size_mb = video.stat().st_size / MB
        seeded = _seed()
        port = _free_port()
        connection.close()
        process = _start_gunicorn(name, port, folder / "gunicorn.log")
        # Each worker loads the app and the upload's code on its first uploads: the
        # unpadded clip, twice, not counted (the "before" figures are after these).
        warm = make_padded_video(folder / "warm-up.mp4", 0)
        for _ in range(2):
            _upload(port, seeded.session_key, warm)
        web_before = _peak_rss_mb(process.pid)
        asset_id, upload_seconds = _upload(port, seeded.session_key, video)
        web_peak = _peak_rss_mb(process.pid)
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        process = None
        connector_seconds = _publish(seeded, asset_id, server, folder)
        [uploaded] = server.videos.values()
        if len(uploaded.content) != video.stat().st_size:
            raise RuntimeError("YouTube received a different file")
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        server.stop()
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)
        shutil.rmtree(folder, ignore_errors=True)
    return [
        ("video_size_mb", size_mb, "MB"),
        ("video_upload_seconds", upload_seconds, "s"),
        ("video_upload_mb_per_s", size_mb / upload_seconds, "MB/s"),
        ("video_connector_seconds", connector_seconds, "s"),
        ("video_connector_mb_per_s", size_mb / connector_seconds, "MB/s"),
        ("video_web_peak_rss_before_mb", web_before, "MB"),
        ("video_web_peak_rss_mb", web_peak, "MB"),
        ("video_worker_peak_rss_before_mb", seeded.worker_before, "MB"),
        ("video_worker_peak_rss_mb", seeded.worker_peak, "MB"),
    ]
