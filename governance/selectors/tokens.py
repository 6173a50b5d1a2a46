"""Reads of personal API tokens. A person sees only their own tokens."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from governance.models import ApiToken, Membership


def api_tokens_for_membership(membership: Membership) -> QuerySet[ApiToken]:
    """The member's own tokens in this organization, newest first, revoked ones included."""
    return ApiToken.objects.filter(
        user_id=membership.user_id, organization_id=membership.organization_id
    ).order_by("-created_at", "-pk")


def api_token_get_for_membership(membership: Membership, pk: int | str) -> ApiToken:
    """One of the member's own tokens; anybody else's token is a 404."""
    try:
        return (
            api_tokens_for_membership(membership).select_related("organization", "user").get(pk=pk)
        )
    except (ApiToken.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
