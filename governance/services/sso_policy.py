"""Whether a password may still be used, where an organization signs in only through its
identity provider; and the loud record of a break-glass login.

Kept apart from ``governance.services.sso`` (the OpenID Connect flow) because the
password login in ``governance.services.auth`` reads it, and the flow reads that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from governance.models import Membership, OIDCProvider, Organization, User
from governance.selectors.sso import sso_organization_admins
from governance.services.audit import audit_record
from governance.services.notifications import notification_send

# The organizations whose single-sign-on-only rule this session's password login got
# past as a break-glass administrator; the login is recorded loudly once the second
# factor is proved.
BREAK_GLASS_SESSION_KEY = "govsocial_break_glass_org_ids"
BREAK_GLASS_NOTICE_KIND = "sso.break_glass_login"


@dataclass(frozen=True)
class PasswordPolicy:
    """``refused_by``: a provider whose organization allows no password for this person.
    ``break_glass``: organizations where they may, as a break-glass administrator."""

    refused_by: OIDCProvider | None = None
    break_glass: list[Organization] = field(default_factory=list)


def sso_password_policy(user: User) -> PasswordPolicy:
    """Whether ``user`` may log in with a password at all.

    Each active membership in an organization whose enabled provider is the only way
    in must be a break-glass administrator's: an admin named on the provider's
    settings. Anyone else there signs in through the provider.
    """
    memberships = Membership.objects.filter(
        user=user,
        is_active=True,
        organization__oidc_provider__sso_only=True,
        organization__oidc_provider__enabled=True,
    ).select_related("organization__oidc_provider")
    break_glass: list[Organization] = []
    for membership in memberships:
        provider = membership.organization.oidc_provider
        allowed = (
            membership.role == "admin" and provider.break_glass_users.filter(pk=user.pk).exists()
        )
        if not allowed:
            return PasswordPolicy(refused_by=provider)
        break_glass.append(membership.organization)
    return PasswordPolicy(break_glass=break_glass)


def sso_break_glass_login_record(*, request: HttpRequest, user: User) -> None:
    """Record a completed break-glass login in each organization's audit log and tell
    every admin there (in-app and by e-mail)."""
    org_ids = request.session.pop(BREAK_GLASS_SESSION_KEY, None)
    if not org_ids:
        return
    with transaction.atomic():
        for organization in Organization.objects.filter(pk__in=org_ids):
            audit_record(
                action="sso.break_glass_login",
                organization=organization,
                actor=user,
                target=user,
                new={
                    "email": user.email,
                    "source": "password and second factor",
                    "note": "single sign-on is the only way in; break-glass login used",
                },
                request=request,
            )
            for admin in sso_organization_admins(organization):
                language = (
                    admin.user.preferred_language
                    or organization.default_language
                    or settings.LANGUAGE_CODE
                )
                with translation.override(language):
                    message = _(
                        "Break-glass login: %(person)s logged in to %(org)s with a password "
                        "and a second factor, bypassing single sign-on. If this was not "
                        "expected, check the audit log now."
                    ) % {"person": user.email, "org": organization.name}
                notification_send(
                    user=admin.user,
                    organization=organization,
                    kind=BREAK_GLASS_NOTICE_KIND,
                    message=message,
                    link=reverse("governance:audit") + "?action=sso.break_glass_login",
                )
