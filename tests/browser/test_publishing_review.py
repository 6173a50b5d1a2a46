"""A post whose first try got no answer, on an account that has posted more since than
the look-up may read: GovSocial neither sends it again nor calls it failed. The admin
sees the target "needs review" on the post page with what was found, goes to Held posts,
checks the account and publishes it; it goes out once, with its key."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine

from accounts.models import SandboxPost
from publishing.models import HoldReason, JobStatus, PublishJob
from tests.browser.conftest import settle, visit
from tests.browser.test_publishing_compose import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_target_that_needs_review_is_shown_and_decided(
    page: Any, personas: Any, team: Any, run_due: Any, settings: Any
) -> None:
    settings.PUBLISHING_IDEMPOTENCY_MARGIN_SECONDS = 8 * 24 * 3600  # the key's window passed
    settings.PUBLISHING_LOOKUP_MAX_POSTS = 40
    from publishing.tests.fixtures import scheduled

    post = scheduled(team, text="Library opens at 9.")
    job = PublishJob.objects.get(post=post)
    account = team.account
    account.credentials = {"sandbox_fail_mode": "timeout"}  # published, answer lost
    account.save(update_fields=["credentials"])
    with time_machine.travel(job.due_at, tick=False):
        assert run_due() == ["retry"]
    account.credentials = {}
    account.save(update_fields=["credentials"])
    for n in range(45):
        SandboxPost.objects.create(
            account=account, remote_id=f"sbx_busy_{n}", author_handle=account.handle,
            text=f"Another update {n}", created_at=job.due_at + timedelta(seconds=1 + n),
        )  # fmt: skip
    job.refresh_from_db()
    with time_machine.travel(job.next_attempt_at + timedelta(seconds=1), tick=False):
        assert run_due() == ["needs review"]
    assert PublishJob.objects.get(pk=job.pk).hold_reason == HoldReason.REVIEW

    log_in(page, personas.alice)
    visit(page, f"/publishing/posts/{post.pk}/")
    targets = page.locator(".targets-table").inner_text()
    assert "Needs review: we could not tell whether it was published" in targets
    assert "We read the 40 newest posts" in targets
    page.get_by_role("link", name="Decide in Held posts").click()
    settle(page)
    assert "We read the 40 newest posts" in page.locator(".held-job").inner_text()
    page.get_by_role("button", name="Publish now").click()
    settle(page)
    assert run_due() == ["published"]
    job.refresh_from_db()
    assert job.status == JobStatus.PUBLISHED
    # The Sandbox knew the key: the post that had landed is the one recorded, once.
    own = SandboxPost.objects.filter(account=account, text="Library opens at 9.")
    assert own.count() == 1 and job.remote_id == own.get().remote_id
