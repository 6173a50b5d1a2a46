"""Which role a person's identity-provider groups give them (shared by SCIM and SSO:
``governance.services.sso`` and ``governance.services.scim``).

Pure logic, no database: the caller passes the organization's mapping of group
display names to roles and the names of the person's groups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from governance.models.org import Role

# Highest first: a person in several mapped groups gets the highest of their roles.
ROLE_RANK: tuple[str, ...] = (
    Role.ADMIN,
    Role.MANAGER,
    Role.EDITOR,
    Role.REVIEWER,
    Role.AUDITOR,
)


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def role_for_groups(mapping: Mapping[str, str], groups: Iterable[str]) -> str | None:
    """The highest role any of ``groups`` maps to, or None when none is mapped.

    Group names match case-insensitively and with runs of spaces folded, since
    identity providers are not consistent about either; unknown roles in the
    mapping are ignored.
    """
    wanted = {_key(name): role for name, role in mapping.items() if role in ROLE_RANK}
    found = {wanted[key] for key in map(_key, groups) if key in wanted}
    for role in ROLE_RANK:
        if role in found:
            return str(role)
    return None


# The name single sign-on knows the ranking by.
ROLE_PRECEDENCE = ROLE_RANK


def groups_from_claim(value: object) -> list[str]:
    """A groups claim as a list of strings: providers send a list, or one string."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(item) for item in value if isinstance(item, str | int)]
    return []
