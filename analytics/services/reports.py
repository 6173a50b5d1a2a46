"""Scheduled reports: a dashboard view e-mailed as a PDF, weekly or monthly.

A weekly report goes out on Mondays at 07:00 and a monthly one on the 1st at
07:00, in the organization's time zone, and covers the last whole week
(Monday to Sunday) or calendar month before it is sent. The send time lives
in the database (``next_send_at``); the beat's tick sends what is due.

Sending claims the report first (a conditional update of its lease: a doubled
tick or a second worker finds it taken), builds the PDF, sends one message per
recipient (addresses outside the app are not shown to each other), and only
then moves ``next_send_at`` on. A failed send is retried later with back-off.
Each send and each failure is audited.
"""

from __future__ import annotations

import logging
import smtplib
import zoneinfo
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import ChannelAccount
from accounts.selectors import channel_accounts_for_membership
from analytics.models import Cadence, ScheduledReport
from analytics.schedule import local_day, month_start, next_month, week_start, zone_of
from governance.models import Membership
from governance.selectors.access import require_perm
from governance.services.audit import audit_record
from publishing.models import Campaign

logger = logging.getLogger(__name__)

SEND_AT = time(7, 0)
MAX_RECIPIENTS = 50
SEND_LEASE = timedelta(minutes=10)
RETRY_BASE = timedelta(hours=1)
RETRY_MAX = timedelta(hours=24)


# --- when ------------------------------------------------------------------------------------


def next_send_at(*, cadence: str, zone: zoneinfo.ZoneInfo, after: datetime) -> datetime:
    """The first send time strictly after ``after``: a Monday (weekly) or the 1st
    (monthly), at 07:00 local time."""
    day = local_day(after, zone)
    candidate = week_start(day) if cadence == Cadence.WEEKLY else month_start(day)
    while datetime.combine(candidate, SEND_AT, tzinfo=zone) <= after:
        candidate = (
            candidate + timedelta(days=7) if cadence == Cadence.WEEKLY else next_month(candidate)
        )
    return datetime.combine(candidate, SEND_AT, tzinfo=zone)


def report_period(*, cadence: str, zone: zoneinfo.ZoneInfo, at: datetime) -> tuple[date, date]:
    """The last whole week (Monday to Sunday) or month before ``at``."""
    day = local_day(at, zone)
    if cadence == Cadence.WEEKLY:
        monday = week_start(day)
        return monday - timedelta(days=7), monday - timedelta(days=1)
    first = month_start(day)
    return month_start(first - timedelta(days=1)), first - timedelta(days=1)


# --- saving ------------------------------------------------------------------------------------


def clean_recipients(values: Sequence[str]) -> list[str]:
    """Addresses checked, lower-cased and without repeats; a ValidationError names the
    first one that is not an e-mail address."""
    cleaned: list[str] = []
    for raw in values:
        address = raw.strip().lower()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(
                _("“%(address)s” is not an e-mail address.") % {"address": raw.strip()},
                code="recipients",
            ) from None
        if address not in cleaned:
            cleaned.append(address)
    if not cleaned:
        raise ValidationError(_("Add at least one e-mail address."), code="recipients")
    if len(cleaned) > MAX_RECIPIENTS:
        raise ValidationError(
            _("A report goes to at most %(count)d addresses.") % {"count": MAX_RECIPIENTS},
            code="recipients",
        )
    return cleaned


def _facts(report: ScheduledReport) -> dict[str, Any]:
    return {
        "name": report.name,
        "cadence": report.cadence,
        "account": report.channel_account_id,
        "campaign": report.campaign_id,
        "recipients": list(report.recipients),
        "language": report.language,
        "is_active": report.is_active,
    }


def scheduled_report_save(
    *,
    membership: Membership,
    report: ScheduledReport | None = None,
    name: str,
    cadence: str,
    channel_account: ChannelAccount | None,
    campaign: Campaign | None,
    recipients: Sequence[str],
    language: str,
    is_active: bool = True,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ScheduledReport:
    """Schedule a report, or change one. Managers and admins only (403 otherwise)."""
    require_perm(membership, "analytics.manage")
    now = now or timezone.now()
    errors: list[ValidationError] = []
    if not name.strip():
        errors.append(ValidationError(_("Give the report a name."), code="name"))
    if cadence not in Cadence.values:
        errors.append(ValidationError(_("Choose how often it is sent."), code="cadence"))
    if language not in dict(settings.LANGUAGES):
        errors.append(ValidationError(_("Choose a language."), code="language"))
    if channel_account is not None and (
        channel_account.organization_id != membership.organization_id
        or not channel_accounts_for_membership(membership).filter(pk=channel_account.pk).exists()
    ):
        errors.append(ValidationError(_("Choose one of your accounts."), code="account"))
    if channel_account is None and not membership.all_accounts:
        errors.append(
            ValidationError(
                _("You work with some accounts only: choose one of them."), code="account"
            )
        )
    if campaign is not None and campaign.organization_id != membership.organization_id:
        errors.append(
            ValidationError(_("Choose one of the organization's campaigns."), code="campaign")
        )
    try:
        addresses = clean_recipients(recipients)
    except ValidationError as exc:
        errors.append(exc)
        addresses = []
    if errors:
        raise ValidationError(errors)
    zone = zone_of(membership.organization.time_zone)
    with transaction.atomic():
        old = _facts(report) if report is not None else None
        reschedule = (
            report is None or report.cadence != cadence or (is_active and not report.is_active)
        )
        if report is None:
            report = ScheduledReport(
                organization=membership.organization, created_by=membership.user
            )
        report.name = name.strip()[:200]
        report.cadence = cadence
        report.channel_account = channel_account
        report.campaign = campaign
        report.recipients = addresses
        report.language = language
        report.is_active = is_active
        report.updated_at = now
        if reschedule:
            report.next_send_at = next_send_at(cadence=cadence, zone=zone, after=now)
            report.failures = 0
            report.last_error = ""
        report.save()
        audit_record(
            action="analytics.report_scheduled" if old is None else "analytics.report_changed",
            organization=membership.organization,
            actor=membership.user,
            target=report,
            old=old,
            new={**_facts(report), "next_send_at": report.next_send_at.isoformat()},
            request=request,
        )
    return report


def scheduled_report_delete(
    *, membership: Membership, report: ScheduledReport, request: HttpRequest | None = None
) -> None:
    require_perm(membership, "analytics.manage")
    if report.organization_id != membership.organization_id:
        raise ValidationError(_("This report belongs to another organization."), code="report")
    with transaction.atomic():
        audit_record(
            action="analytics.report_removed",
            organization=membership.organization,
            actor=membership.user,
            target=report,
            old=_facts(report),
            request=request,
        )
        report.delete()


# --- sending -----------------------------------------------------------------------------------


def _retry_after(failures: int) -> timedelta:
    return min(RETRY_BASE * (2 ** max(failures - 1, 0)), RETRY_MAX)


def scheduled_report_send(*, report_id: int, now: datetime | None = None) -> str:
    """Send one due report; returns "sent", "failed" or "not_due" (not due, inactive,
    or being sent by another worker)."""
    # Imported here: the PDF and the dashboard pull in reportlab, which tasks that
    # never send a report need not load.
    from analytics.pdf import dashboard_pdf
    from analytics.presentation import key_figures, range_label, scope_label
    from analytics.selectors import DashboardFilters, Scope, dashboard_build

    now = now or timezone.now()
    claimed = (
        ScheduledReport.objects.filter(pk=report_id, is_active=True, next_send_at__lte=now)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .update(leased_until=now + SEND_LEASE)
    )
    if not claimed:
        return "not_due"
    report = ScheduledReport.objects.select_related(
        "organization", "channel_account", "campaign"
    ).get(pk=report_id)
    organization = report.organization
    zone = zone_of(organization.time_zone)
    start, end = report_period(cadence=report.cadence, zone=zone, at=now)
    filters = DashboardFilters(
        start=start, end=end, account=report.channel_account, campaign=report.campaign
    )
    scope = Scope(organization=organization, account=report.channel_account)
    with translation.override(report.language):
        dashboard = dashboard_build(scope=scope, filters=filters, today=local_day(now, zone))
        pdf = dashboard_pdf(dashboard, title=report.name)
        period = range_label(dashboard)
        subject = _("%(report)s: %(period)s") % {"report": report.name, "period": period}
        body = render_to_string(
            "analytics/email/report.txt",
            {
                "report": report,
                "organization": organization,
                "period": period,
                "scope": scope_label(dashboard),
                "figures": key_figures(dashboard),
                "goals": dashboard.goals,
            },
        )
        filename = f"{organization.slug or 'report'}-{start.isoformat()}-{end.isoformat()}.pdf"
    messages = []
    for address in report.recipients:
        message = EmailMessage(subject=subject, body=body, to=[address])
        message.attach(filename, pdf, "application/pdf")
        messages.append(message)
    try:
        get_connection().send_messages(messages)
    except (smtplib.SMTPException, OSError) as exc:
        failures = report.failures + 1
        with transaction.atomic():
            ScheduledReport.objects.filter(pk=report.pk).update(
                leased_until=None,
                failures=F("failures") + 1,
                last_error=str(exc)[:2000],
                next_send_at=now + _retry_after(failures),
            )
            audit_record(
                action="analytics.report_failed",
                organization=organization,
                target=report,
                new={"error": str(exc)[:500], "failures": failures},
            )
        logger.warning("Scheduled report %s could not be sent: %s", report.pk, exc)
        return "failed"
    with transaction.atomic():
        ScheduledReport.objects.filter(pk=report.pk).update(
            leased_until=None,
            last_sent_at=now,
            failures=0,
            last_error="",
            next_send_at=next_send_at(cadence=report.cadence, zone=zone, after=now),
        )
        audit_record(
            action="analytics.report_sent",
            organization=organization,
            target=report,
            new={
                "period_start": start.isoformat(),
                "period_end": end.isoformat(),
                "recipients": list(report.recipients),
                "pdf_bytes": len(pdf),
            },
        )
    return "sent"
