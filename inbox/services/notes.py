"""Internal notes on inbox items: for the team only, never sent to the network."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from governance.models import Membership, User
from governance.selectors.access import require_perm
from governance.services.audit import audit_record
from inbox.models import InboxItem, InboxNote

MAX_NOTE_LENGTH = 5000


def inbox_note_add(
    *,
    item: InboxItem,
    body: str,
    actor: User,
    membership: Membership,
    request: HttpRequest | None = None,
) -> InboxNote:
    """Keep a note on ``item`` for the team. The note is audited with its text; nothing
    is sent anywhere."""
    require_perm(membership, "inbox.reply")
    text = body.strip()
    if not text:
        raise ValidationError(_("Write the note first."), code="body")
    if len(text) > MAX_NOTE_LENGTH:
        raise ValidationError(
            _("A note can be at most %(limit)d characters long.") % {"limit": MAX_NOTE_LENGTH},
            code="body",
        )
    with transaction.atomic():
        note = InboxNote.objects.create(
            organization_id=item.organization_id, item=item, author=actor, body=text
        )
        audit_record(
            action="inbox_note.added",
            organization=item.organization,
            actor=actor,
            target=item,
            new={"note": note.pk, "text": text},
            request=request,
        )
    return note
