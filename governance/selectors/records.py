"""Reads about records management: rules, holds, the disposal log and exports."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from governance.models import (
    DisposalLog,
    LegalHold,
    Organization,
    RecordsExport,
    RetentionAction,
    RetentionRule,
)
from governance.providers import records_provider, records_providers
from governance.selectors.access import get_in_org
from governance.selectors.members import channel_account_label, organization_channel_accounts

DISPOSAL_LOG_SHOWN = 50


def record_type_label(key: str) -> str:
    """A record type's name (its code, when no provider offers it now)."""
    provider = records_provider(key)
    return str(provider.label) if provider is not None else key


@dataclass(frozen=True)
class RecordTypeRow:
    key: str
    label: str
    actions: list[str]
    rule: RetentionRule | None

    @property
    def archive_only(self) -> bool:
        return self.actions == [str(RetentionAction.ARCHIVE.label)]


def record_type_rows(organization: Organization) -> list[RecordTypeRow]:
    """Every record type with the organization's rule for it (None: kept indefinitely)."""
    rules = {
        rule.record_type: rule for rule in RetentionRule.objects.filter(organization=organization)
    }
    rows = [
        RecordTypeRow(
            key=provider.key,
            label=str(provider.label),
            actions=[str(RetentionAction(action).label) for action in sorted(provider.actions)],
            rule=rules.pop(provider.key, None),
        )
        for provider in records_providers()
    ]
    # A rule whose record type no provider offers any more is still shown.
    rows.extend(RecordTypeRow(key, key, [], rule) for key, rule in sorted(rules.items()))
    return rows


def retention_rule_get_for_org(organization: Organization, pk: int | str) -> RetentionRule:
    return get_in_org(RetentionRule.objects.all(), organization, pk=pk)


def legal_holds_for_org(organization: Organization) -> QuerySet[LegalHold]:
    return LegalHold.objects.filter(organization=organization).select_related(
        "placed_by", "released_by"
    )


def legal_hold_get_for_org(organization: Organization, pk: int | str) -> LegalHold:
    return get_in_org(legal_holds_for_org(organization), organization, pk=pk)


def scope_labels(
    organization: Organization, record_types: list[str], account_ids: list[int]
) -> dict[str, list[str]]:
    """A hold's or an export's scope in words, for pages and the API."""
    accounts = (
        [
            channel_account_label(account)
            for account in organization_channel_accounts(organization).filter(pk__in=account_ids)
        ]
        if account_ids
        else []
    )
    return {
        "record_types": [record_type_label(key) for key in record_types],
        "channel_accounts": accounts,
    }


def disposal_logs_for_org(organization: Organization) -> QuerySet[DisposalLog]:
    return DisposalLog.objects.filter(organization=organization).order_by("-ran_at", "-id")


def records_exports_for_org(organization: Organization) -> QuerySet[RecordsExport]:
    return RecordsExport.objects.filter(organization=organization).select_related("requested_by")


def records_export_get_for_org(organization: Organization, pk: int | str) -> RecordsExport:
    return get_in_org(records_exports_for_org(organization), organization, pk=pk)
