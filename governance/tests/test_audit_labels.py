"""Every audit action the code base records has a readable, translated label."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.utils import translation

from governance.audit_labels import AUDIT_CATEGORIES, AUDIT_LABELS
from governance.selectors.audit import audit_changes
from governance.services.audit import audit_record

URL = "/governance/audit/"

# `action="post.scheduled"`, `audit_action_add = "org.created"`,
# `action = "a.b" if x else "c.d"`, `EXPIRY_NOTICE_ACTION = "..."`.
CODE = r'"([a-z][a-z_0-9]*\.[a-z_0-9.]+)"'
ACTION_PATTERN = re.compile(
    r"(?:action|ACTION)\w*\s*[=:]\s*\(?\s*" + CODE + r"(?:\s+if\s+[^\n]*?\s+else\s+" + CODE + ")?"
)
SKIPPED_FOLDERS = {".venv", "node_modules", "tests", "migrations", "bench"}


def _actions_in_code() -> dict[str, str]:
    found: dict[str, str] = {}
    root = Path(settings.BASE_DIR)
    for path in root.rglob("*.py"):
        parts = set(path.relative_to(root).parts)
        if parts & SKIPPED_FOLDERS or path.name.startswith("test_"):
            continue
        for match in ACTION_PATTERN.finditer(path.read_text(encoding="utf-8")):
            for code in match.groups():
                if code:
                    found.setdefault(code, str(path.relative_to(root)))
    return found


def test_it_finds_the_actions_the_code_records():
    actions = _actions_in_code()
    # A sample from each app, so the search itself cannot silently find nothing.
    for code in ("post.scheduled", "publishing.paused", "inbox_reply.sent", "member.invited"):
        assert code in actions


def test_it_labels_every_action_the_code_records():
    actions = _actions_in_code()
    missing = {code: where for code, where in actions.items() if code not in AUDIT_LABELS}
    assert missing == {}


def test_it_names_the_category_of_every_labelled_action():
    assert {code.split(".", 1)[0] for code in AUDIT_LABELS} <= set(AUDIT_CATEGORIES)


def test_it_shows_publishing_and_inbox_actions_in_words_in_finnish(client, personas, login):
    audit_record(action="publishing.paused", organization=personas.org, actor=personas.alice)
    audit_record(action="inbox_reply.sent", organization=personas.org, actor=personas.alice)
    personas.alice.preferred_language = "fi"
    personas.alice.save(update_fields=["preferred_language"])
    login(client, personas.alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fi"  # as the profile page sets it
    body = client.get(URL).content.decode()
    with translation.override("fi"):
        for code in ("publishing.paused", "inbox_reply.sent"):
            label = str(AUDIT_LABELS[code])
            assert label in body
            assert label != code


def test_it_shows_a_posts_status_in_words(personas):
    event = audit_record(
        action="post.scheduled",
        organization=personas.org,
        actor=personas.alice,
        target_type="publishing.post",
        target_id="1",
        target_label="Opening hours",
        old={"status": "approved"},
        new={"status": "scheduled"},
    )
    with translation.override("en"):
        (change,) = audit_changes(event)
    assert change.field.lower() == "status"
    assert change.old == "Approved"
    assert change.new == "Scheduled"


def test_it_puts_the_table_in_its_own_focusable_scroll_region(client, personas, login):
    audit_record(action="post.scheduled", organization=personas.org, actor=personas.alice)
    login(client, personas.alice)
    body = client.get(URL).content.decode()
    region = body.index('class="table-scroll" tabindex="0" role="region"')
    assert region < body.index('<table class="audit-table">')
