"""A compatible copy of a library video is made by a real Celery worker process (Redis,
PostgreSQL, ffmpeg), and the task is routed to the media queue, never the publish queue."""

from __future__ import annotations

import pytest
from django.core.files.base import File

from govsocial.celery import app
from publishing.models import VideoCopyJob, VideoCopyKind, VideoCopyStatus
from publishing.services.video import media_video_upload, probe_video
from publishing.services.video_copies import video_copy_request
from publishing.tasks import make_video_copy
from publishing.tests.fixtures import Team
from publishing.tests.processes import CeleryProcesses, require_postgres_and_redis
from publishing.tests.video_files import make_video


def test_video_copies_go_to_the_media_queue_not_the_publish_queue() -> None:
    route = app.amqp.router.route({}, "publishing.tasks.make_video_copy")
    assert route["queue"].name == "media"
    assert app.amqp.router.route({}, "publishing.tasks.publish_job")["queue"].name == "publish"
    assert "media" in {queue.name for queue in app.conf.task_queues}


@pytest.mark.django_db(transaction=True)
def test_a_worker_makes_the_copy_asked_for_in_the_library(
    team: Team, tmp_path, monkeypatch, settings
) -> None:
    broker_url = require_postgres_and_redis()
    media_root = tmp_path / "media"
    settings.MEDIA_ROOT = str(media_root)
    monkeypatch.setenv("MEDIA_ROOT", str(media_root))  # the worker reads it from its env
    path = make_video(tmp_path / "tiedote.mp4", seconds=3)
    with path.open("rb") as handle:
        video = media_video_upload(membership=team.eddie, file=File(handle, name=path.name))

    with CeleryProcesses(tmp_path, broker_url=broker_url) as celery:
        # The worker listens on the test's own queue (worker_settings route every
        # publishing task there); the request enqueues as it would in production.
        monkeypatch.setattr(
            make_video_copy,
            "delay",
            lambda job_id: make_video_copy.apply_async((job_id,), queue=celery.queue),
        )
        celery.start_worker()
        job = video_copy_request(
            asset=video, membership=team.eddie, kind=VideoCopyKind.TRANSCODE, crop="9:16"
        )
        celery.wait_for(
            lambda: VideoCopyJob.objects.filter(
                pk=job.pk, status__in=[VideoCopyStatus.DONE, VideoCopyStatus.FAILED]
            ).exists(),
            "the worker to make the copy",
        )

    job.refresh_from_db()
    assert job.status == VideoCopyStatus.DONE, job.error
    assert job.progress_percent == 100 and job.started_at and job.finished_at
    assert job.result is not None
    probe = probe_video(job.result.file.path)
    assert (probe.video_codec, probe.audio_codec) == ("h264", "aac")
    assert (probe.width, probe.height) == (134, 240)  # the middle 9:16 of 320x240, even
