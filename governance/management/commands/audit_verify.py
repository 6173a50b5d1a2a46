"""Walk the whole audit chain; exit 1 naming the first entry that does not hold."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from governance.services.audit import audit_verify_chain


class Command(BaseCommand):
    help = (
        "Check every audit entry's hash and its link to the one before. "
        "Exit status 1 names the first broken entry."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_verify_chain()
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS(f"Audit chain intact: {report.checked} entries checked.")
            )
            return
        self.stderr.write(f"Audit chain broken at entry #{report.first_broken_id}: {report.reason}")
        self.stderr.write(f"Intact entries before it: {report.checked}.")
        sys.exit(1)
