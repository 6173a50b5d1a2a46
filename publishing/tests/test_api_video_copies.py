"""Compatible copies of library videos through the API: list with progress, ask for one
(202 with the job to poll), poll it; the same access layer, service and audit as the page."""

from __future__ import annotations

import pytest
from django.core.files.base import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from governance.models import AuditEvent
from governance.services.tokens import api_token_create
from publishing.models import MediaAsset, VideoCopyJob, VideoCopyStatus
from publishing.services.video import media_caption_set, media_video_upload
from publishing.services.video_copies import video_copy_run
from publishing.tests.fixtures import make_image
from publishing.tests.video_files import make_video

pytestmark = pytest.mark.django_db

SRT = "1\n00:00:00,500 --> 00:00:01,500\nTervetuloa kirjastoon.\n"


@pytest.fixture
def video(team, media_root, tmp_path) -> MediaAsset:
    path = make_video(tmp_path / "avajaiset.mp4", seconds=2, size="160x120")
    asset = media_video_upload(membership=team.alice, file=File(path.open("rb"), name=path.name))
    media_caption_set(
        asset=asset,
        membership=team.alice,
        language="fi",
        file=SimpleUploadedFile("fi.srt", SRT.encode()),
    )
    return asset


def copies(pk: int) -> str:
    return f"/api/v1/media/{pk}/copies/"


def test_ask_for_a_9x16_copy_poll_it_and_find_it_in_the_list(
    client, personas, login, video, django_capture_on_commit_callbacks
):
    login(client, personas.alice)
    assert client.get(copies(video.pk)).json() == []
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            copies(video.pk), {"kind": "transcode", "crop": "9:16"}, content_type="application/json"
        )
    assert response.status_code == 202
    job = response.json()
    assert job["status"] == "queued" and job["progress_percent"] == 0
    assert (job["source"], job["kind"], job["crop"], job["language"]) == (
        video.pk,
        "transcode",
        "9:16",
        "",
    )
    assert job["url"] == f"/api/v1/video-copies/{job['id']}/"
    assert response["Location"] == job["url"]
    assert len(callbacks) == 1  # the worker's message, sent once the job is saved
    # Asked again while it is being made: the same job.
    again = client.post(copies(video.pk), {"crop": "9:16"}, content_type="application/json")
    assert again.status_code == 202 and again.json()["id"] == job["id"]
    # Audited as the library page's button is.
    event = AuditEvent.objects.get(action="media.copy_requested")
    assert event.actor == personas.alice and event.new_values["job"] == job["id"]
    assert event.target_id == str(video.pk)

    video_copy_run(job_id=job["id"])  # the worker
    done = client.get(job["url"]).json()
    assert done["status"] == "done" and done["progress_percent"] == 100, done["error"]
    made = MediaAsset.objects.get(pk=done["result"])
    assert done["result_name"] == made.original_name == "avajaiset-h264-9x16.mp4"
    assert made.height > made.width
    listed = client.get(copies(video.pk)).json()
    assert [(item["id"], item["status"], item["result"]) for item in listed] == [
        (job["id"], "done", made.pk)
    ]


def test_burn_in_needs_a_language_with_captions(client, personas, login, video):
    login(client, personas.alice)
    missing = client.post(
        copies(video.pk), {"kind": "burn_captions"}, content_type="application/json"
    )
    assert missing.status_code == 400
    assert missing.json()["errors"] == {
        "language": ["Choose the language whose captions to burn in."]
    }
    swedish = client.post(
        copies(video.pk),
        {"kind": "burn_captions", "language": "sv"},
        content_type="application/json",
    )
    assert swedish.status_code == 400
    assert swedish.json()["errors"] == {
        "language": ["This video has no captions in that language to burn in."]
    }
    assert VideoCopyJob.objects.count() == 0
    finnish = client.post(
        copies(video.pk),
        {"kind": "burn_captions", "language": "fi"},
        content_type="application/json",
    )
    assert finnish.status_code == 202
    assert (finnish.json()["kind"], finnish.json()["language"]) == ("burn_captions", "fi")


def test_bad_input_is_a_400_that_says_what_is_wrong(client, personas, login, team, video):
    login(client, personas.alice)
    crop = client.post(copies(video.pk), {"crop": "4:5"}, content_type="application/json")
    assert crop.status_code == 400
    assert crop.json()["code"] == "invalid"
    assert crop.json()["errors"]["crop"] == ['"4:5" is not a valid choice.']
    kind = client.post(copies(video.pk), {"kind": "gif"}, content_type="application/json")
    assert kind.json()["errors"]["kind"] == ['"gif" is not a valid choice.']
    image = make_image(team.alice)
    response = client.post(copies(image.pk), {}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "non_field_errors": ["Only videos can be copied this way."]
    }
    assert client.get(copies(image.pk)).json() == []
    assert VideoCopyJob.objects.count() == 0


def test_another_organizations_video_and_job_are_404(client, personas, login, team, video):
    job = VideoCopyJob.objects.create(
        organization=personas.org, source=video, kind="transcode", requested_by=personas.alice
    )
    login(client, personas.charlie)
    assert client.get(copies(video.pk)).status_code == 404
    response = client.post(copies(video.pk), {}, content_type="application/json")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
    assert client.get(f"/api/v1/video-copies/{job.pk}/").status_code == 404
    assert VideoCopyJob.objects.count() == 1


def test_an_auditor_sees_copies_but_gets_403_for_asking(client, personas, login, team, video):
    job = VideoCopyJob.objects.create(
        organization=personas.org,
        source=video,
        kind="transcode",
        status=VideoCopyStatus.RUNNING,
        progress_percent=42,
        requested_by=personas.alice,
    )
    login(client, personas.carol)
    listed = client.get(copies(video.pk)).json()
    assert [(item["status"], item["progress_percent"]) for item in listed] == [("running", 42)]
    assert client.get(f"/api/v1/video-copies/{job.pk}/").json()["progress_percent"] == 42
    response = client.post(copies(video.pk), {}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert VideoCopyJob.objects.count() == 1


def test_a_personal_api_token_works_and_no_credentials_is_401(client, personas, video):
    _token, raw = api_token_create(user=personas.alice, organization=personas.org, name="ci")
    assert client.get(copies(video.pk)).status_code == 401
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    response = api.post(copies(video.pk), {}, content_type="application/json")
    assert response.status_code == 202
    assert api.get(response.json()["url"]).json()["kind"] == "transcode"
