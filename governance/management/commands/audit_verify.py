"""Walk every organization's audit chain and its signed checkpoints; exit 1 naming the
first entry that does not hold."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from governance.services.audit import audit_verify_chain


class Command(BaseCommand):
    help = (
        "Check every audit entry's HMAC and its link to the one before, each chain's "
        "head, and the signed checkpoint files. Exit status 1 names the first broken entry."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_verify_chain()
        if report.ok:
            chains = ngettext("%(n)d chain", "%(n)d chains", report.chains) % {"n": report.chains}
            line = f"Audit chain intact: {report.checked} entries checked in {chains}"
            if report.checkpoints:
                line += f", {report.checkpoints} signed checkpoints matched"
            self.stdout.write(self.style.SUCCESS(line + "."))
            return
        where = (
            f"entry #{report.first_broken_id}"
            if report.first_broken_id is not None
            else f"chain {report.chain}"
        )
        self.stderr.write(f"Audit chain broken at {where}: {report.reason}")
        self.stderr.write(f"Chain: {report.chain}. Intact entries before it: {report.checked}.")
        sys.exit(1)
