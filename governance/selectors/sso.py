"""Reads for single sign-on: which provider serves an address or organization."""

from __future__ import annotations

from django.db.models import QuerySet

from governance.models import Membership, OIDCPendingMember, OIDCProvider, Organization, Role


def sso_provider_for_organization(organization: Organization) -> OIDCProvider | None:
    return OIDCProvider.objects.filter(organization=organization).first()


def sso_provider_for_slug(slug: str) -> OIDCProvider | None:
    """The enabled provider of the organization with this short name (None if none)."""
    return (
        OIDCProvider.objects.select_related("organization")
        .filter(organization__slug=slug.strip().lower(), enabled=True)
        .first()
    )


def sso_providers_for_email(email: str) -> list[OIDCProvider]:
    """The enabled providers that accept this address's domain (usually one)."""
    domain = email.strip().lower().rpartition("@")[2]
    if not domain:
        return []
    providers = OIDCProvider.objects.select_related("organization").filter(enabled=True)
    # allowed_domains is a short JSON list; filtering in Python works on every database.
    return [provider for provider in providers if domain in provider.allowed_domains]


def sso_pending_members(organization: Organization) -> QuerySet[OIDCPendingMember]:
    return OIDCPendingMember.objects.filter(organization=organization).select_related("user")


def sso_organization_admins(organization: Organization) -> list[Membership]:
    return list(
        Membership.objects.filter(organization=organization, role=Role.ADMIN, is_active=True)
        .select_related("user")
        .order_by("user__email")
    )
