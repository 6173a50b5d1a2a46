"""A count is followed by the right form of its noun in every language: "1 hour", "1
record", never "1 hours" (ngettext, or blocktranslate count, for every count)."""

from __future__ import annotations

from types import SimpleNamespace

from django.template.loader import render_to_string
from django.utils import translation

from governance.models import Role


def test_an_invitation_that_lasts_one_hour_says_one_hour(client, personas, login, settings):
    settings.SITE_URL = "http://testserver"
    settings.INVITATION_TTL_HOURS = 1
    login(client, personas.alice)
    response = client.post(
        "/governance/members/invite/",
        {"email": "dana@example.org", "role": Role.EDITOR},
        follow=True,
    )
    assert "Invitation sent to dana@example.org. The link works for 1 hour." in (
        response.content.decode()
    )


def test_export_progress_counts_one_record_and_many_records():
    def progress(processed: int, total: int, language: str = "en") -> str:
        export = SimpleNamespace(
            pk=1, status="done", progress=100, processed=processed, total=total
        )
        with translation.override(language):
            return render_to_string(
                "governance/records/_export_progress.html", {"export": export, "finished": True}
            )

    assert "100 %: 1 of 1 record</p>" in progress(1, 1)
    assert "100 %: 2 of 2 records</p>" in progress(2, 2)
    assert "100 %: 1/1 tietue</p>" in progress(1, 1, "fi")
    assert "100 %: 2/2 tietuetta</p>" in progress(2, 2, "fi")
