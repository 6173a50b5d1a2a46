"""`manage.py bootstrap_demo`: the demo organization and admin that `make run` creates."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import ChannelAccount
from governance.models import AuditEvent, Membership, Organization, Role, User
from governance.services.audit import audit_verify_chain
from govsocial.management.commands.bootstrap_demo import demo_bootstrap

pytestmark = pytest.mark.django_db


def bootstrap() -> str:
    out = StringIO()
    call_command("bootstrap_demo", stdout=out)
    return out.getvalue()


def printed_password(output: str) -> str:
    match = re.search(r"password: (\S+)", output)
    assert match, output
    return match.group(1)


def test_first_run_creates_the_demo_admin_and_prints_the_password():
    output = bootstrap()
    assert "admin@demo.example" in output
    admin = User.objects.get(email="admin@demo.example")
    assert admin.check_password(printed_password(output))
    membership = Membership.objects.get(user=admin)
    assert membership.organization.name == "Demo Municipality"
    assert membership.role == Role.ADMIN
    assert membership.is_active
    sandbox = ChannelAccount.objects.get(organization=membership.organization)
    assert sandbox.network == "sandbox"
    assert sandbox.status == "active"
    assert "Sandbox (training) account: demo-training" in output


def test_second_run_changes_nothing_and_says_how_to_reset_the_password():
    first_password = printed_password(bootstrap())
    output = bootstrap()
    assert "password:" not in output
    assert "already exists" in output
    assert "manage.py changepassword admin@demo.example" in output
    assert Organization.objects.filter(name="Demo Municipality").count() == 1
    assert User.objects.filter(email="admin@demo.example").count() == 1
    assert Membership.objects.count() == 1
    assert ChannelAccount.objects.filter(network="sandbox").count() == 1
    assert User.objects.get(email="admin@demo.example").check_password(first_password)


def test_generated_passwords_differ_between_installations():
    first = printed_password(bootstrap())
    # Another installation: the same command against an empty database would make a
    # new admin; a different address stands in for that here.
    second = demo_bootstrap(admin_email="admin2@demo.example").password
    assert second is not None
    assert first != second
    assert len(second) >= 12


def test_what_it_creates_is_in_the_audit_log():
    bootstrap()
    bootstrap()
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == [
        "organization.created",
        "user.created",
        "member.added",
        "channel_account.connected",
    ]
    # What no person did is the system's; the Sandbox is connected in the admin's name
    # so that its notices reach them.
    labels = list(AuditEvent.objects.order_by("id").values_list("actor_label", flat=True))
    assert labels == ["system (bootstrap_demo)"] * 3 + ["admin@demo.example"]
    assert audit_verify_chain().ok
