"""Scheduled reports: when they go out, what period they cover, the PDF they carry
(read back with pypdf), one message per recipient, audited; a failed send is tried
again later, and a doubled tick sends once."""

from __future__ import annotations

import io
import smtplib
import zoneinfo
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from pypdf import PdfReader

from analytics import tasks
from analytics.models import Cadence, DailyAccountRollup, ScheduledReport
from analytics.services.reports import (
    next_send_at,
    report_period,
    scheduled_report_save,
    scheduled_report_send,
)
from governance.models import AuditEvent

pytestmark = pytest.mark.django_db

HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")
# Monday 3 June 2030, 07:30 in Helsinki.
MONDAY_MORNING = datetime(2030, 6, 3, 7, 30, tzinfo=HELSINKI)


def test_weekly_reports_go_out_on_mondays_and_monthly_ones_on_the_first():
    wednesday = datetime(2030, 6, 5, 15, 0, tzinfo=HELSINKI)

    assert next_send_at(cadence=Cadence.WEEKLY, zone=HELSINKI, after=wednesday) == datetime(
        2030, 6, 10, 7, 0, tzinfo=HELSINKI
    )
    assert next_send_at(cadence=Cadence.MONTHLY, zone=HELSINKI, after=wednesday) == datetime(
        2030, 7, 1, 7, 0, tzinfo=HELSINKI
    )
    just_before = datetime(2030, 6, 10, 6, 59, tzinfo=HELSINKI)
    assert next_send_at(cadence=Cadence.WEEKLY, zone=HELSINKI, after=just_before).day == 10


def test_a_report_covers_the_last_whole_week_or_month():
    assert report_period(cadence=Cadence.WEEKLY, zone=HELSINKI, at=MONDAY_MORNING) == (
        date(2030, 5, 27),
        date(2030, 6, 2),
    )
    assert report_period(cadence=Cadence.MONTHLY, zone=HELSINKI, at=MONDAY_MORNING) == (
        date(2030, 5, 1),
        date(2030, 5, 31),
    )


@pytest.fixture
def weekly(personas):
    with time_machine.travel(datetime(2030, 5, 30, 12, 0, tzinfo=HELSINKI), tick=False):
        report = scheduled_report_save(
            membership=personas.membership(personas.alice),
            name="Weekly for the mayor",
            cadence=Cadence.WEEKLY,
            channel_account=None,
            campaign=None,
            recipients=["mayor@city.example", "press@city.example"],
            language="en",
        )
    assert report.next_send_at == datetime(2030, 6, 3, 7, 0, tzinfo=HELSINKI)
    for offset, (posts, likes) in enumerate([(3, 120), (4, 215), (2, 64)]):
        DailyAccountRollup.objects.create(
            organization=personas.org,
            channel_account=personas.bob_account,
            day=date(2030, 5, 28) + timedelta(days=offset),
            followers=4321 + offset,
            posts_published=posts,
            likes=likes,
            engagement=likes,
            inbox_received=6,
            inbox_answered=5,
            sla_measured=5,
            sla_met=4,
        )
    return report


def test_a_due_report_is_sent_with_the_pdf_to_each_recipient(weekly):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        outcome = scheduled_report_send(report_id=weekly.pk)

    assert outcome == "sent"
    assert [message.to for message in mail.outbox] == [
        ["mayor@city.example"],
        ["press@city.example"],
    ]
    message = mail.outbox[0]
    assert message.subject.startswith("Weekly for the mayor: 27 May\u00a0\u2013\u00a02 Jun 2030")
    assert "Posts published: 9" in message.body
    ((filename, content, mime),) = message.attachments
    assert (filename, mime) == ("example-2030-05-27-2030-06-02.pdf", "application/pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    for figure in ("Weekly for the mayor", "27 May", "2 Jun 2030", "4,323", "399", "80.0 %", "215"):
        assert figure in text, figure
    weekly.refresh_from_db()
    assert weekly.next_send_at == datetime(2030, 6, 10, 7, 0, tzinfo=HELSINKI)
    assert weekly.last_sent_at == MONDAY_MORNING
    event = AuditEvent.objects.get(action="analytics.report_sent")
    assert event.new_values["recipients"] == ["mayor@city.example", "press@city.example"]
    assert event.new_values["period_start"] == "2030-05-27"


def test_a_doubled_tick_sends_once(weekly):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        assert scheduled_report_send(report_id=weekly.pk) == "sent"
        assert scheduled_report_send(report_id=weekly.pk) == "not_due"

    assert len(mail.outbox) == 2


def test_a_report_not_yet_due_or_switched_off_is_not_sent(weekly):
    with time_machine.travel(MONDAY_MORNING - timedelta(hours=1), tick=False):
        assert scheduled_report_send(report_id=weekly.pk) == "not_due"
    ScheduledReport.objects.filter(pk=weekly.pk).update(is_active=False)
    with time_machine.travel(MONDAY_MORNING, tick=False):
        assert scheduled_report_send(report_id=weekly.pk) == "not_due"
    assert mail.outbox == []


def test_a_failed_send_is_tried_again_later(weekly, monkeypatch):
    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected("mail server went away")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    with time_machine.travel(MONDAY_MORNING, tick=False):
        outcome = scheduled_report_send(report_id=weekly.pk)

    assert outcome == "failed"
    weekly.refresh_from_db()
    assert weekly.failures == 1 and "went away" in weekly.last_error
    assert weekly.next_send_at == MONDAY_MORNING + timedelta(hours=1)
    assert weekly.last_sent_at is None
    assert AuditEvent.objects.filter(action="analytics.report_failed").exists()


def test_the_tick_sends_what_is_due(weekly, monkeypatch):
    sent = []
    monkeypatch.setattr(
        tasks.send_report, "apply_async", lambda args, **options: sent.append(args[0])
    )
    with time_machine.travel(MONDAY_MORNING - timedelta(hours=1), tick=False):
        assert tasks.send_due_reports() == 0
    with time_machine.travel(MONDAY_MORNING, tick=False):
        assert tasks.send_due_reports() == 1
        assert tasks.send_report(weekly.pk) == "sent"

    assert sent == [weekly.pk]
    assert len(mail.outbox) == 2


def test_changing_the_cadence_moves_the_next_send(weekly, personas):
    with time_machine.travel(datetime(2030, 6, 4, 9, 0, tzinfo=HELSINKI), tick=False):
        report = scheduled_report_save(
            membership=personas.membership(personas.alice),
            report=weekly,
            name=weekly.name,
            cadence=Cadence.MONTHLY,
            channel_account=None,
            campaign=None,
            recipients=weekly.recipients,
            language="fi",
        )

    assert report.next_send_at == datetime(2030, 7, 1, 7, 0, tzinfo=HELSINKI)
    assert AuditEvent.objects.filter(action="analytics.report_changed").exists()
