"""``manage.py rebuild_rollups --since 2030-01-01 [--until …] [--organization slug]``:
rebuild the daily rollups of those days from the raw snapshots and the inbox.
Safe to run at any time, as often as wanted: each day is replaced whole."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.services.rollups import rollups_rebuild
from governance.models import Organization


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Rebuild the analytics daily rollups from --since (to --until, default today)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--until", help="last day, YYYY-MM-DD (default: today)")
        parser.add_argument(
            "--organization", help="the organization's slug (default: every organization)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        since = _date(options["since"])
        until = _date(options["until"]) if options["until"] else None
        if until is not None and until < since:
            raise CommandError("--until is before --since")
        organizations = Organization.objects.order_by("pk")
        if options["organization"]:
            organizations = organizations.filter(slug=options["organization"])
            if not organizations.exists():
                raise CommandError(f"no organization with the slug {options['organization']!r}")
        for organization in organizations:
            result = rollups_rebuild(organization=organization, since=since, until=until)
            self.stdout.write(
                f"{organization.slug}: {result.days} days rebuilt, "
                f"{result.account_rows} account rows"
            )
