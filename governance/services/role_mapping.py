"""Which role a person's groups at an identity provider give them.

Shared by single sign-on (``governance.services.sso``) and directory provisioning:
both read the organization's mapping of group names (or ids) to roles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from governance.models import Role

# Highest first: a person in several mapped groups gets the role with the most rights.
ROLE_PRECEDENCE: tuple[str, ...] = (
    Role.ADMIN,
    Role.MANAGER,
    Role.EDITOR,
    Role.REVIEWER,
    Role.AUDITOR,
)


def role_for_groups(mapping: Mapping[str, str], groups: Iterable[str]) -> str | None:
    """The highest role that any of ``groups`` maps to, or None when none is mapped.

    Group names are compared exactly (providers send ids or names as they are
    stored); a mapping to something that is not a role is ignored.
    """
    found = {mapping[group] for group in groups if group in mapping}
    for role in ROLE_PRECEDENCE:
        if role in found:
            return str(role)
    return None


def groups_from_claim(value: object) -> list[str]:
    """A groups claim as a list of strings: providers send a list, or one string."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(item) for item in value if isinstance(item, str | int)]
    return []
