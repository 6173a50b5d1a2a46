"""Shared makers for the registry, vault, risk and policy tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from django_otp.oath import totp

from governance.models import Membership, Organization, RegistryEntry, TOTPDevice, User, VaultSecret
from governance.services.registry import RegistryEntryData, registry_entry_create
from governance.services.vault import VaultSecretData, vault_secret_create

SECRET = "correct-horse-Battery-9431!"


def code_for(device: TOTPDevice) -> str:
    """The code the person's authenticator app shows right now."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def member(user: User) -> Membership:
    return Membership.objects.get(user=user)


def make_entry(
    organization: Organization, actor: User, *, handle: str = "city_news", **fields: Any
) -> RegistryEntry:
    data = RegistryEntryData(network=fields.pop("network", "x"), handle=handle, **fields)
    return registry_entry_create(organization=organization, actor=actor, data=data)


def make_secret(
    organization: Organization,
    actor: User,
    *,
    name: str = "X password",
    value: str = SECRET,
    rotate_by: date | None = None,
    entry: RegistryEntry | None = None,
) -> VaultSecret:
    return vault_secret_create(
        organization=organization,
        actor=actor,
        data=VaultSecretData(name=name, registry_entry=entry, rotate_by=rotate_by),
        value=value,
    )
