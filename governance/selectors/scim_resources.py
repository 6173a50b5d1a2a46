"""The SCIM resources GovSocial serves: only the attributes it keeps.

The class names are the SCIM resource type names (references name them), so read
them through the module: ``scim_resources.User``, not GovSocial's ``User`` model.
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import EmailStr, Field
from scim2_models import (
    ComplexAttribute,
    Email,
    Mutability,
    Name,
    Reference,
    Required,
    Resource,
    Uniqueness,
)
from scim2_models.urn import URN

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"


class ScimEmail(Email):
    # Everyone in GovSocial has an e-mail address: it is how they log in and hear of things.
    value: Annotated[EmailStr | None, Required.true] = None


class UserGroup(ComplexAttribute):
    """A group the user is in (read-only: membership is written on the group)."""

    value: Annotated[str | None, Mutability.read_only] = None
    ref: Annotated[Reference[Group] | None, Mutability.read_only] = Field(
        None, serialization_alias="$ref", validation_alias="$ref"
    )
    display: Annotated[str | None, Mutability.read_only] = None


class User(Resource[Any]):
    """A member of the organization, as its identity provider sees them."""

    __schema__ = URN(USER_SCHEMA)

    user_name: Annotated[str | None, Uniqueness.server, Required.true] = None
    name: Name | None = None
    display_name: str | None = None
    active: bool | None = None
    emails: Annotated[list[ScimEmail] | None, Required.true] = None
    groups: Annotated[list[UserGroup] | None, Mutability.read_only] = None


class GroupMemberRef(ComplexAttribute):
    """A member of a group: a user of this organization (nested groups are not kept)."""

    value: Annotated[str | None, Mutability.immutable, Required.true] = None
    ref: Annotated[Reference[Union[User]] | None, Mutability.immutable] = Field(  # noqa: UP007
        None, serialization_alias="$ref", validation_alias="$ref"
    )
    type: Annotated[str | None, Mutability.immutable] = Field(None, examples=["User"])


class Group(Resource[Any]):
    """A group of the identity provider; its name can map to a role."""

    __schema__ = URN(GROUP_SCHEMA)

    display_name: Annotated[str | None, Required.true] = None
    members: list[GroupMemberRef] | None = None


UserGroup.model_rebuild()
GroupMemberRef.model_rebuild()
