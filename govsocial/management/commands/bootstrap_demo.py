"""Create the demo organization, its admin and a Sandbox account, once.

`make run` calls this on every start. The first run creates "Demo Municipality",
an admin with a generated password, and a Sandbox channel account (the training
network inside the app), and prints the password: it is shown this one time and
stored only as a hash. Later runs change nothing and say how to set a new password.

It lives in the top-level package because it wires governance and accounts together.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import ChannelAccount
from accounts.services import channel_account_connect_sandbox
from governance.models import Membership, Organization, Role, User
from governance.services.audit import audit_record

DEMO_ORG_NAME = "Demo Municipality"
DEMO_ORG_SLUG = "demo"
DEMO_ADMIN_EMAIL = "admin@demo.example"
DEMO_SANDBOX_HANDLE = "demo-training"
# Who the audit log names for what this command creates: nobody logged in did it.
ACTOR_LABEL = "system (bootstrap_demo)"


@dataclass(frozen=True)
class DemoResult:
    organization: Organization
    admin: User
    # The generated password when the admin was created by this call, else None.
    password: str | None
    sandbox: ChannelAccount


def demo_bootstrap(
    *,
    org_name: str = DEMO_ORG_NAME,
    org_slug: str = DEMO_ORG_SLUG,
    admin_email: str = DEMO_ADMIN_EMAIL,
) -> DemoResult:
    """Ensure the demo organization, its admin and the admin's membership exist.

    Idempotent: whatever already exists is left as it is (a password is never
    reset here). Each thing created is written to the audit log. The organization
    gets a Sandbox account so a fresh install has something to publish to.
    """
    with transaction.atomic():
        organization, org_created = Organization.objects.get_or_create(
            slug=org_slug, defaults={"name": org_name}
        )
        if org_created:
            audit_record(
                action="organization.created",
                organization=organization,
                target=organization,
                new={"name": organization.name, "slug": organization.slug},
                actor_label=ACTOR_LABEL,
            )
        password: str | None = None
        admin = User.objects.filter(email=admin_email).first()
        if admin is None:
            # 18 random bytes: 24 URL-safe characters, well past the 12-character minimum.
            password = secrets.token_urlsafe(18)
            admin = User.objects.create_user(
                admin_email, password, full_name="Demo Admin", preferred_language="en"
            )
            audit_record(
                action="user.created",
                organization=organization,
                target=admin,
                new={"email": admin.email},
                actor_label=ACTOR_LABEL,
            )
        membership, membership_created = Membership.objects.get_or_create(
            organization=organization, user=admin, defaults={"role": Role.ADMIN}
        )
        if membership_created:
            audit_record(
                action="member.added",
                organization=organization,
                target=membership,
                new={"email": admin.email, "role": membership.role},
                actor_label=ACTOR_LABEL,
            )
        sandbox = ChannelAccount.objects.filter(
            organization=organization, network="sandbox"
        ).first() or channel_account_connect_sandbox(
            organization=organization, actor=admin, handle=DEMO_SANDBOX_HANDLE
        )
    return DemoResult(organization=organization, admin=admin, password=password, sandbox=sandbox)


class Command(BaseCommand):
    help = "Create the demo organization and its admin (idempotent); print a new admin's password."

    def handle(self, *args: Any, **options: Any) -> None:
        result = demo_bootstrap()
        site = settings.SITE_URL.rstrip("/")
        if result.password is not None:
            rule = "=" * 64
            self.stdout.write(rule)
            self.stdout.write(f"Demo organization: {result.organization.name}")
            self.stdout.write(f"Log in at {site}/auth/login/ with")
            self.stdout.write(f"  e-mail:   {result.admin.email}")
            self.stdout.write(f"  password: {result.password}")
            self.stdout.write(f"Sandbox (training) account: {result.sandbox.handle}")
            self.stdout.write("The password is shown only now. Two-factor enrolment follows.")
            self.stdout.write(rule)
            return
        self.stdout.write(
            f"Demo admin {result.admin.email} already exists in "
            f'"{result.organization.name}"; its password is unchanged.'
        )
        self.stdout.write(
            "To choose a new one, run: "
            f".venv/bin/python manage.py changepassword {result.admin.email}"
        )
