"""The access layer: who may see and do what, inside which organization.

Every view, API endpoint and task reads org-owned objects through selectors that
take the user. An object of another organization is a 404 (``Http404``), never a
403 that would confirm it exists; a permitted object with a forbidden action is a
403 (``PermissionDenied``).
"""

from __future__ import annotations

from typing import TypeVar

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest
from rest_framework.request import Request

from governance.models import Membership, Organization, Role, User

M = TypeVar("M", bound=models.Model)

# What each role may do. One table, read by views, the API and tasks alike.
PERMISSIONS: dict[str, frozenset[str]] = {
    "org.view": frozenset(Role.values),
    "org.manage": frozenset({Role.ADMIN}),
    "members.view": frozenset({Role.ADMIN, Role.MANAGER, Role.AUDITOR}),
    "members.manage": frozenset({Role.ADMIN}),
    "audit.view": frozenset({Role.ADMIN, Role.AUDITOR}),
    "accounts.view": frozenset(Role.values),
    "accounts.manage": frozenset({Role.ADMIN, Role.MANAGER}),
    "posts.view": frozenset(Role.values),
    "posts.write": frozenset({Role.ADMIN, Role.MANAGER, Role.EDITOR}),
    "posts.approve": frozenset({Role.ADMIN, Role.MANAGER, Role.REVIEWER}),
    "publishing.pause": frozenset({Role.ADMIN, Role.MANAGER}),
    # The organization's important dates on the calendar; publishing on a quiet one.
    "dates.manage": frozenset({Role.ADMIN, Role.MANAGER}),
    "posts.publish_on_quiet_day": frozenset({Role.ADMIN, Role.MANAGER}),
    "inbox.view": frozenset({Role.ADMIN, Role.MANAGER, Role.EDITOR, Role.REVIEWER, Role.AUDITOR}),
    "inbox.reply": frozenset({Role.ADMIN, Role.MANAGER, Role.EDITOR}),
    # Approving replies held for approval; the inbox's rules (response policy, signature,
    # watch words, saved replies).
    "inbox.approve": frozenset({Role.ADMIN, Role.MANAGER, Role.REVIEWER}),
    "inbox.manage": frozenset({Role.ADMIN, Role.MANAGER}),
    "analytics.view": frozenset({Role.ADMIN, Role.MANAGER, Role.AUDITOR}),
    # Goals and scheduled e-mail reports.
    "analytics.manage": frozenset({Role.ADMIN, Role.MANAGER}),
    # Listening: reading watches' streams, and keeping watches and misinformation cases.
    "listening.view": frozenset(
        {Role.ADMIN, Role.MANAGER, Role.EDITOR, Role.REVIEWER, Role.AUDITOR}
    ),
    "listening.manage": frozenset({Role.ADMIN, Role.MANAGER, Role.EDITOR}),
    "registry.view": frozenset({Role.ADMIN, Role.MANAGER, Role.AUDITOR}),
    "registry.manage": frozenset({Role.ADMIN}),
    "vault.reveal": frozenset({Role.ADMIN, Role.MANAGER}),
    # Seeing that secrets exist (names, rotation dates, reveal history), not their values.
    "vault.view": frozenset({Role.ADMIN, Role.MANAGER, Role.AUDITOR}),
    "vault.manage": frozenset({Role.ADMIN}),
    "policies.manage": frozenset({Role.ADMIN, Role.MANAGER}),
    "tokens.manage": frozenset(Role.values),
    # Handover of a leaving member's responsibilities; a manager or admin signs it off.
    "handover.view": frozenset({Role.ADMIN, Role.MANAGER, Role.AUDITOR}),
    "handover.manage": frozenset({Role.ADMIN, Role.MANAGER}),
    "handover.sign_off": frozenset({Role.ADMIN, Role.MANAGER}),
    # Records: retention rules and legal holds (admins), records-request exports.
    "records.view": frozenset({Role.ADMIN, Role.MANAGER, Role.AUDITOR}),
    "records.manage": frozenset({Role.ADMIN}),
    "records.export": frozenset({Role.ADMIN, Role.MANAGER}),
}


def membership_for_user(
    user: User | AnonymousUser, organization_id: int | None = None
) -> Membership:
    """The user's active membership (in the given organization, or their first one).

    Raises Http404 when there is none: an organization the user is not part of
    does not exist for them.
    """
    if not isinstance(user, User) or not user.is_active:
        raise Http404
    memberships = Membership.objects.select_related("organization").filter(
        user=user, is_active=True
    )
    if organization_id is not None:
        memberships = memberships.filter(organization_id=organization_id)
    membership = memberships.order_by("joined_at", "pk").first()
    if membership is None:
        raise Http404
    return membership


def request_membership(request: HttpRequest) -> Membership:
    """The membership the middleware chose for this request (404 without one)."""
    membership: Membership | None = getattr(request, "membership", None)
    if membership is None:
        raise Http404
    return membership


def request_user(request: HttpRequest | Request) -> User:
    """The person behind a request that login (or DRF's IsAuthenticated) already admitted."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def request_membership_with_perm(request: HttpRequest | Request, perm: str) -> Membership:
    """The request's membership, if its role grants ``perm`` (404 without one, else 403)."""
    membership = request_membership(request)
    require_perm(membership, perm)
    return membership


def has_perm(membership: Membership | None, perm: str) -> bool:
    if membership is None or not membership.is_active:
        return False
    if perm not in PERMISSIONS:
        raise KeyError(f"Unknown permission {perm!r}")
    return membership.role in PERMISSIONS[perm]


def require_perm(membership: Membership | None, perm: str) -> None:
    """Raise PermissionDenied (403) unless the membership's role grants ``perm``."""
    if not has_perm(membership, perm):
        raise PermissionDenied


def org_scoped(queryset: models.QuerySet[M], organization: Organization) -> models.QuerySet[M]:
    """Limit a queryset of org-owned objects to one organization."""
    return queryset.filter(organization=organization)


def get_in_org(queryset: models.QuerySet[M], organization: Organization, **lookup: object) -> M:
    """Fetch one org-owned object; another organization's object is a 404."""
    try:
        return org_scoped(queryset, organization).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
