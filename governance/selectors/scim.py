"""Reads for SCIM 2.0 provisioning, and the SCIM shape of our people and groups.

The resource classes below are what ``/scim/v2/Schemas`` publishes: only the
attributes GovSocial keeps. They are built on scim2-models (RFC 7643/7644), which
validates what an identity provider sends, applies PATCH operations and filters,
and writes the responses.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from scim2_models import (
    Meta,
    NotFoundException,
    ResourceType,
    Schema,
    ScimFilter,
    ScimPolicy,
    ServiceProviderConfig,
)
from scim2_models.path import (
    AttrPath,
    CompareOperator,
    Comparison,
    FilterNode,
    LogicalExpr,
    LogicalOperator,
)

from governance.models import (
    Organization,
    ProvisionedUser,
    ScimGroup,
    ScimSettings,
    ScimToken,
)
from governance.selectors.scim_resources import (
    GROUP_SCHEMA,
    USER_SCHEMA,
    Group,
    User,
)

# What we tolerate from identity providers: Microsoft Entra ID sends attributes we
# do not keep (title, the enterprise extension …), "remove" operations carrying the
# value to remove, and replaces through filters that match no entry yet.
SCIM_POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)

DEFAULT_COUNT = 100
MAX_COUNT = 200


# ---------------------------------------------------------------------------
# The resources we publish


def _named(schema: Schema, name: str, description: str) -> Schema:
    return schema.model_copy(update={"name": name, "description": description})


def scim_schemas(base_url: str) -> list[Schema]:
    """Every schema ``/Schemas`` lists: ours, and the three that describe the service."""
    schemas = [
        _named(User.to_schema(), "User", "User Account"),
        _named(Group.to_schema(), "Group", "Group"),
        ServiceProviderConfig.to_schema(),
        ResourceType.to_schema(),
        Schema.to_schema(),
    ]
    for schema in schemas:
        schema.meta = Meta(resource_type="Schema", location=f"{base_url}/Schemas/{schema.id}")
    return schemas


def scim_resource_types(base_url: str) -> list[ResourceType]:
    return [
        ResourceType.model_validate(
            {
                "id": name,
                "name": name,
                "description": description,
                "endpoint": f"/{name}s",
                "schema": schema,
                "meta": {
                    "resourceType": "ResourceType",
                    "location": f"{base_url}/ResourceTypes/{name}",
                },
            }
        )
        for name, description, schema in (
            ("User", "User Account", USER_SCHEMA),
            ("Group", "Group", GROUP_SCHEMA),
        )
    ]


def scim_service_provider_config(base_url: str, documentation: str) -> ServiceProviderConfig:
    return ServiceProviderConfig.model_validate(
        {
            "documentationUri": documentation or None,
            "patch": {"supported": True},
            "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": True, "maxResults": MAX_COUNT},
            "changePassword": {"supported": False},
            "sort": {"supported": False},
            "etag": {"supported": False},
            "authenticationSchemes": [
                {
                    "type": "oauthbearertoken",
                    "name": "Bearer token",
                    "description": "The organization's SCIM token, made on its SCIM settings page.",
                    "primary": True,
                }
            ],
            "meta": {
                "resourceType": "ServiceProviderConfig",
                "location": f"{base_url}/ServiceProviderConfig",
            },
        }
    )


# ---------------------------------------------------------------------------
# Tokens and settings


def scim_token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def scim_token_authenticate(raw: str) -> ScimToken | None:
    """The token in use whose SHA-256 matches ``raw``, with its organization."""
    if not raw:
        return None
    return (
        ScimToken.objects.select_related("organization")
        .filter(token_hash=scim_token_hash(raw), revoked_at__isnull=True)
        .first()
    )


def scim_token_in_use(organization: Organization) -> ScimToken | None:
    return (
        ScimToken.objects.select_related("created_by")
        .filter(organization=organization, revoked_at__isnull=True)
        .first()
    )


def scim_settings_for(organization: Organization) -> ScimSettings:
    """The organization's SCIM settings (unsaved defaults when never changed)."""
    found = ScimSettings.objects.filter(organization=organization).first()
    return found or ScimSettings(organization=organization)


# ---------------------------------------------------------------------------
# Provisioned people and groups


def provisioned_users(organization: Organization) -> QuerySet[ProvisionedUser]:
    """The organization's SCIM users (not those the provider deleted), oldest first."""
    return (
        ProvisionedUser.objects.filter(organization=organization, removed_at__isnull=True)
        .select_related("membership__user")
        .prefetch_related("groups")
        .order_by("created_at", "pk")
    )


def scim_uuid(value: str) -> uuid.UUID | None:
    """``value`` as a UUID, or None when it is not one (then it names nothing here)."""
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None


def provisioned_user_get(organization: Organization, scim_id: str) -> ProvisionedUser:
    """One SCIM user of the organization; anyone else's (or a bad id) is a SCIM 404."""
    key = scim_uuid(scim_id)
    found = provisioned_users(organization).filter(scim_id=key).first() if key else None
    if found is None:
        raise NotFoundException(detail=f"No user {scim_id} here.")
    return found


def scim_groups(organization: Organization) -> QuerySet[ScimGroup]:
    return (
        ScimGroup.objects.filter(organization=organization)
        .prefetch_related("members__membership__user")
        .order_by("created_at", "pk")
    )


def scim_group_get(organization: Organization, scim_id: str) -> ScimGroup:
    """One SCIM group of the organization; anyone else's (or a bad id) is a SCIM 404."""
    key = scim_uuid(scim_id)
    found = scim_groups(organization).filter(scim_id=key).first() if key else None
    if found is None:
        raise NotFoundException(detail=f"No group {scim_id} here.")
    return found


def scim_groups_for_settings(organization: Organization) -> list[str]:
    """The display names of the organization's provisioned groups, for the settings page."""
    return list(
        ScimGroup.objects.filter(organization=organization)
        .order_by(Lower("display_name"))
        .values_list("display_name", flat=True)
    )


# ---------------------------------------------------------------------------
# Rows as SCIM resources


def user_resource(user: ProvisionedUser, base_url: str) -> User:
    attributes = dict(user.attributes or {})
    active = attributes.get("active")
    payload: dict[str, Any] = {
        "id": str(user.scim_id),
        "externalId": user.external_id or None,
        "userName": user.user_name,
        "name": attributes.get("name") or None,
        "displayName": attributes.get("displayName") or None,
        # The membership is the truth (an admin may deactivate someone in the app);
        # None when the provider removed the attribute.
        "active": None if active is None else user.membership.is_active,
        "emails": attributes.get("emails") or [{"value": user.membership.user.email}],
        "groups": [
            {
                "value": str(group.scim_id),
                "$ref": f"{base_url}/Groups/{group.scim_id}",
                "display": group.display_name,
            }
            for group in user.groups.all()
        ]
        or None,
        "meta": {
            "resourceType": "User",
            "created": user.created_at,
            "lastModified": user.updated_at,
            "location": f"{base_url}/Users/{user.scim_id}",
        },
    }
    return User.model_validate(payload)


def group_resource(group: ScimGroup, base_url: str) -> Group:
    members = [member for member in group.members.all() if member.removed_at is None]
    payload: dict[str, Any] = {
        "id": str(group.scim_id),
        "externalId": group.external_id or None,
        "displayName": group.display_name,
        "members": [
            {
                "value": str(member.scim_id),
                "$ref": f"{base_url}/Users/{member.scim_id}",
                "type": "User",
            }
            for member in members
        ]
        or None,
        "meta": {
            "resourceType": "Group",
            "created": group.created_at,
            "lastModified": group.updated_at,
            "location": f"{base_url}/Groups/{group.scim_id}",
        },
    }
    return Group.model_validate(payload)


# ---------------------------------------------------------------------------
# Filters: the equality tests identity providers send run in the database


_USER_COLUMNS = {"username": "user_name", "externalid": "external_id", "id": "scim_id"}
_GROUP_COLUMNS = {"displayname": "display_name", "externalid": "external_id", "id": "scim_id"}


def _as_q(node: FilterNode, columns: dict[str, str]) -> Q | None:
    """A database condition equivalent to ``node``, or None when it is not a plain
    ``eq`` (or an ``and`` of them) on a column we keep."""
    if isinstance(node, LogicalExpr) and node.op == LogicalOperator.and_:
        parts = [_as_q(term, columns) for term in node.terms]
        if any(part is None for part in parts):
            return None
        condition = Q()
        for part in parts:
            condition &= part  # type: ignore[operator]
        return condition
    if not isinstance(node, Comparison) or node.op != CompareOperator.eq:
        return None
    path: AttrPath = node.attr_path
    if path.sub_attr or (path.uri and path.uri.lower() not in (USER_SCHEMA, GROUP_SCHEMA)):
        return None
    column = columns.get(path.attr.lower())
    if column is None or not isinstance(node.value, str):
        return None
    if column == "scim_id":
        wanted = scim_uuid(node.value)
        return Q(scim_id=wanted) if wanted is not None else Q(pk__in=[])
    if column == "external_id":
        return Q(external_id=node.value)  # caseExact
    return Q(**{f"{column}__iexact": node.value})


def filter_users(
    organization: Organization, expression: ScimFilter[Any] | None, base_url: str
) -> list[User]:
    """The organization's users matching the filter, as SCIM resources."""
    rows: Iterable[ProvisionedUser] = provisioned_users(organization)
    if expression is None:
        return [user_resource(row, base_url) for row in rows]
    condition = _as_q(expression.ast, _USER_COLUMNS)
    if condition is not None:
        return [
            user_resource(row, base_url)
            for row in provisioned_users(organization).filter(condition)
        ]
    resources = [user_resource(row, base_url) for row in rows]
    bound = ScimFilter[User](str(expression))
    return [resource for resource in resources if bound.match(resource)]


def filter_groups(
    organization: Organization, expression: ScimFilter[Any] | None, base_url: str
) -> list[Group]:
    rows: Iterable[ScimGroup] = scim_groups(organization)
    if expression is None:
        return [group_resource(row, base_url) for row in rows]
    condition = _as_q(expression.ast, _GROUP_COLUMNS)
    if condition is not None:
        return [
            group_resource(row, base_url) for row in scim_groups(organization).filter(condition)
        ]
    resources = [group_resource(row, base_url) for row in rows]
    bound = ScimFilter[Group](str(expression))
    return [resource for resource in resources if bound.match(resource)]
