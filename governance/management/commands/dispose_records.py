"""Apply the retention rules now, as the daily beat task does; --dry-run only reports."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.models import Organization
from governance.selectors.records import record_type_label
from governance.services.records import records_dispose


class Command(BaseCommand):
    help = (
        "Delete or anonymize records past their retention period, except those under a "
        "legal hold, and log what went (disposal log and audit log). Audit entries are "
        "never deleted. With --dry-run, nothing changes: the command says what would go."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Report what would be disposed of; change nothing.",
        )
        parser.add_argument(
            "--organization", metavar="SLUG", help="Only this organization (its short name)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organization = None
        if options["organization"]:
            organization = Organization.objects.filter(slug=options["organization"]).first()
            if organization is None:
                raise CommandError(f"No organization with short name {options['organization']!r}.")
        dry_run: bool = options["dry_run"]
        outcomes = records_dispose(dry_run=dry_run, organization=organization)
        if not outcomes:
            self.stdout.write("No retention rules: nothing to dispose of.")
            return
        verb = "would be" if dry_run else "were"
        for outcome in outcomes:
            line = (
                f"{outcome.organization.slug}: {record_type_label(outcome.record_type)} older than "
                f"{outcome.older_than:%Y-%m-%d %H:%M} UTC: {outcome.removed} {verb} "
                f"{outcome.action}d, {outcome.held} kept under a legal hold."
            )
            if outcome.note:
                line += f" {outcome.note}"
            self.stdout.write(line)
        total = sum(outcome.removed for outcome in outcomes)
        summary = f"{'Dry run: ' if dry_run else ''}{total} records {verb} disposed of."
        self.stdout.write(self.style.SUCCESS(summary))
