"""The risk report: what in the registry and the vault needs fixing, each line with a
link to the page where it is fixed.

Risks known only to the apps above governance (channel-account sign-ins about to
end, connected accounts missing from the registry) come from providers registered
under ``RISK_PROVIDER``: each takes ``organization`` and ``today`` (the
organization's local date) and returns an iterable of ``RiskLine``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.models import Organization, RegistryEntry, VaultSecret
from governance.providers import get_providers
from governance.selectors.registry import (
    local_today,
    login_identity_check,
    registry_entries_for_org,
    registry_people_choices,
)

RISK_PROVIDER = "risks.lines"

# Every kind of line the report can hold, in the order the report shows them.
RISK_KINDS: dict[str, Promise] = {
    "single_person": gettext_lazy("Depends on one person"),
    "no_backup_owner": gettext_lazy("No backup owner"),
    "personal_login": gettext_lazy("Login on a personal e-mail address"),
    "review_overdue": gettext_lazy("Access review overdue"),
    "credentials_expiring": gettext_lazy("Sign-in ending soon"),
    "secret_past_rotation": gettext_lazy("Vault secret past its rotation date"),
    "unregistered_account": gettext_lazy("Connected account missing from the registry"),
}


@dataclass(frozen=True)
class RiskLine:
    kind: str
    subject: str
    detail: str
    fix_url: str
    fix_label: str

    @property
    def kind_label(self) -> str:
        label = RISK_KINDS.get(self.kind)
        return str(label) if label is not None else self.kind


def _entry_edit(entry: RegistryEntry) -> str:
    return reverse("governance:registry_edit", args=[entry.pk])


def _people_of(entry: RegistryEntry) -> set[int]:
    return {
        pk
        for pk in (entry.business_owner_id, entry.technical_custodian_id, entry.backup_owner_id)
        if pk is not None
    }


def _registry_lines(organization: Organization, today: date) -> list[RiskLine]:
    lines: list[RiskLine] = []
    members = list(registry_people_choices(organization))
    for entry in registry_entries_for_org(organization):
        subject = str(entry)
        people = _people_of(entry)
        native_count: int = getattr(entry, "native_admin_count", 0)
        if len(people) == 1 or native_count == 1:
            if len(people) == 1 and entry.backup_owner_id is not None:
                detail = _(
                    "The business owner, technical custodian and backup owner are the same person."
                )
            elif len(people) == 1:
                detail = _("Only one person holds any of the account's roles.")
            else:
                detail = _("Only one person has access to the account on the network.")
            lines.append(
                RiskLine("single_person", subject, detail, _entry_edit(entry), _("Add people"))
            )
        if entry.backup_owner_id is None:
            lines.append(
                RiskLine(
                    "no_backup_owner",
                    subject,
                    _("Nobody can step in when the owner is away."),
                    _entry_edit(entry),
                    _("Name a backup owner"),
                )
            )
        check = login_identity_check(entry.login_identity, members)
        if check.looks_personal:
            lines.append(
                RiskLine(
                    "personal_login",
                    subject,
                    f"{entry.login_identity}: {check.reason}",
                    _entry_edit(entry),
                    _("Change the login to a role mailbox"),
                )
            )
        if entry.next_review_due < today:
            lines.append(
                RiskLine(
                    "review_overdue",
                    subject,
                    _("The access review was due on %(date)s.")
                    % {"date": date_format(entry.next_review_due, "DATE_FORMAT")},
                    reverse("governance:registry_review", args=[entry.pk]),
                    _("Review access"),
                )
            )
    return lines


def _vault_lines(organization: Organization, today: date) -> list[RiskLine]:
    secrets = (
        VaultSecret.objects.defer("value")
        .filter(organization=organization, rotate_by__lt=today)
        .order_by("rotate_by", "name", "pk")
    )
    return [
        RiskLine(
            "secret_past_rotation",
            secret.name,
            _("Should have been rotated by %(date)s.")
            % {"date": date_format(secret.rotate_by, "DATE_FORMAT")},
            reverse("governance:vault_edit", args=[secret.pk]),
            _("Rotate the secret"),
        )
        for secret in secrets
        if secret.rotate_by is not None
    ]


def risk_report_for_org(organization: Organization, today: date | None = None) -> list[RiskLine]:
    """Every risk line of the organization, grouped by kind in ``RISK_KINDS`` order."""
    today = today or local_today(organization)
    lines = _registry_lines(organization, today) + _vault_lines(organization, today)
    provider: Callable[..., list[RiskLine]]
    for provider in get_providers(RISK_PROVIDER):
        lines.extend(provider(organization=organization, today=today))
    order = {kind: index for index, kind in enumerate(RISK_KINDS)}
    return sorted(lines, key=lambda line: (order.get(line.kind, len(order)), line.subject))


def risk_counts(lines: list[RiskLine]) -> list[tuple[str, str, int]]:
    """(kind, label, count) for every kind, zero counts included, in report order."""
    counts = Counter(line.kind for line in lines)
    return [(kind, str(label), counts.get(kind, 0)) for kind, label in RISK_KINDS.items()]
