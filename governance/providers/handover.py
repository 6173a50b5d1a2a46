"""What governance itself gives a handover case (see ``governance.providers``): the
person's roles in the account registry, their native access to accounts, and the
vault secrets they knew. Registered in ``GovernanceConfig.ready()``."""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from governance.models import Membership, NativeAdmin, RegistryEntry, User, VaultSecret
from governance.providers import HeldItem
from governance.selectors.access import has_perm
from governance.services.audit import audit_record
from governance.services.notifications import notification_send

REGISTRY_ROLE_FIELDS = (
    "business_owner",
    "technical_custodian",
    "backup_owner",
    "two_factor_holder",
)


def _role_labels() -> dict[str, str]:
    return {
        "business_owner": _("business owner"),
        "technical_custodian": _("technical custodian"),
        "backup_owner": _("backup owner"),
        "two_factor_holder": _("holder of the two-factor device"),
    }


def _name(membership: Membership) -> str:
    return membership.user.full_name or membership.user.email


def _ids(item_ids: Sequence[str]) -> list[int]:
    return [int(pk) for pk in item_ids if str(pk).isdigit()]


class RegistryRolesProvider:
    """Registry entries where the person is business owner, technical custodian, backup
    owner or holds the two-factor device. The new holder takes each of those roles."""

    key = "governance.registry_roles"
    label = gettext_lazy("Account registry roles")

    def items_held_by(self, membership: Membership) -> list[HeldItem]:
        held = Q()
        for name in REGISTRY_ROLE_FIELDS:
            held |= Q(**{f"{name}_id": membership.pk})
        entries = RegistryEntry.objects.filter(
            held, organization_id=membership.organization_id
        ).order_by("network", "handle")
        labels = _role_labels()
        items = []
        for entry in entries:
            roles = [
                labels[name]
                for name in REGISTRY_ROLE_FIELDS
                if getattr(entry, f"{name}_id") == membership.pk
            ]
            items.append(
                HeldItem(
                    object_type="governance.registryentry",
                    object_id=str(entry.pk),
                    label=str(entry),
                    link=reverse("governance:registry_detail", args=[entry.pk]),
                    detail=", ".join(roles).capitalize(),
                )
            )
        return items

    def reassign(
        self,
        item_ids: Sequence[str],
        new_holder: Membership,
        actor: User,
        *,
        previous_holder: Membership,
    ) -> None:
        entries = RegistryEntry.objects.select_for_update().filter(
            organization_id=new_holder.organization_id, pk__in=_ids(item_ids)
        )
        now = timezone.now()
        for entry in entries.order_by("pk"):
            changed = [
                name
                for name in REGISTRY_ROLE_FIELDS
                if getattr(entry, f"{name}_id") == previous_holder.pk
            ]
            if not changed:
                continue
            for name in changed:
                setattr(entry, name, new_holder)
            entry.updated_at = now
            entry.save(update_fields=[*changed, "updated_at"])
            # The same shape as the registry's own edits: people by name.
            audit_record(
                action="registry.entry_updated",
                organization=new_holder.organization,
                actor=actor,
                target=entry,
                old={name: previous_holder.user.get_full_name() for name in changed},
                new={
                    **{name: new_holder.user.get_full_name() for name in changed},
                    "reason": "handover",
                },
            )


class NativeAccessProvider:
    """Accounts the person can get into directly on the network (native platform
    admin). Their access must be removed on the network; the new holder takes their
    place on the registry's list (and needs access granted there)."""

    key = "governance.native_access"
    label = gettext_lazy("Direct access to accounts on the networks")

    def items_held_by(self, membership: Membership) -> list[HeldItem]:
        admins = (
            NativeAdmin.objects.filter(
                membership=membership, entry__organization_id=membership.organization_id
            )
            .select_related("entry")
            .order_by("entry__network", "entry__handle")
        )
        return [
            HeldItem(
                object_type="governance.nativeadmin",
                object_id=str(admin.pk),
                label=str(admin.entry),
                link=reverse("governance:registry_detail", args=[admin.entry_id]),
                detail=_("%(role)s on the network: remove their access there")
                % {"role": admin.role_on_network or _("Admin")},
            )
            for admin in admins
        ]

    def reassign(
        self,
        item_ids: Sequence[str],
        new_holder: Membership,
        actor: User,
        *,
        previous_holder: Membership,
    ) -> None:
        admins = (
            NativeAdmin.objects.select_for_update()
            .filter(
                pk__in=_ids(item_ids),
                membership=previous_holder,
                entry__organization_id=new_holder.organization_id,
            )
            .select_related("entry")
        )
        for admin in admins.order_by("pk"):
            entry = admin.entry
            old = {**admin.as_person(), "member": True}
            already = entry.native_admins.filter(
                Q(membership=new_holder) | Q(email__iexact=new_holder.user.email)
            ).exists()
            admin_gone = admin.as_person()
            admin.delete()
            if not already:
                NativeAdmin.objects.create(
                    entry=entry,
                    name=new_holder.user.get_full_name() or new_holder.user.email,
                    email=new_holder.user.email,
                    role_on_network=admin_gone["role"],
                    membership=new_holder,
                )
            audit_record(
                action="registry.native_admin_replaced",
                organization=new_holder.organization,
                actor=actor,
                target=entry,
                old=old,
                new={
                    "name": new_holder.user.get_full_name(),
                    "email": new_holder.user.email,
                    "role": admin_gone["role"],
                    "reason": "handover",
                },
            )


class VaultSecretsProvider:
    """Vault secrets the person saw (revealed, or stored). Nobody can make them forget
    one, so whoever takes it over is asked to rotate it now: its rotation date
    becomes today and the new holder is told."""

    key = "governance.vault_secrets"
    label = gettext_lazy("Vault secrets they knew")

    def items_held_by(self, membership: Membership) -> list[HeldItem]:
        secrets = (
            VaultSecret.objects.filter(
                organization_id=membership.organization_id, known_by=membership
            )
            .select_related("registry_entry")
            .order_by("name", "pk")
        )
        return [
            HeldItem(
                object_type="governance.vaultsecret",
                object_id=str(secret.pk),
                label=secret.name,
                link=reverse("governance:vault_detail", args=[secret.pk]),
                detail=", ".join(
                    part
                    for part in (
                        str(secret.get_kind_display()),
                        str(secret.registry_entry) if secret.registry_entry else "",
                    )
                    if part
                ),
                needs_rotation=True,
            )
            for secret in secrets
        ]

    def reassign(
        self,
        item_ids: Sequence[str],
        new_holder: Membership,
        actor: User,
        *,
        previous_holder: Membership,
    ) -> None:
        if not has_perm(new_holder, "vault.reveal"):
            raise ValidationError(
                _(
                    "%(name)s cannot use the vault, so cannot rotate its secrets; choose a "
                    "manager or an admin."
                )
                % {"name": _name(new_holder)},
                code="holder_cannot_use_vault",
            )
        organization = new_holder.organization
        today = timezone.localdate(timezone.now(), zoneinfo.ZoneInfo(organization.time_zone))
        secrets = VaultSecret.objects.select_for_update().filter(
            organization_id=organization.pk, pk__in=_ids(item_ids)
        )
        for secret in secrets.order_by("pk"):
            old_rotate_by = secret.rotate_by
            if old_rotate_by is None or old_rotate_by > today:
                secret.rotate_by = today
                secret.rotation_reminded_for = None
                secret.updated_at = timezone.now()
                secret.save(update_fields=["rotate_by", "rotation_reminded_for", "updated_at"])
            audit_record(
                action="vault.rotation_requested",
                organization=organization,
                actor=actor,
                target=secret,
                old={"rotate_by": old_rotate_by.isoformat() if old_rotate_by else None},
                new={
                    "rotate_by": secret.rotate_by.isoformat() if secret.rotate_by else None,
                    "responsible": new_holder.user.email,
                    "known_by_leaver": previous_holder.user.email,
                    "reason": "handover",
                },
            )
            with translation.override(
                new_holder.user.preferred_language or organization.default_language or None
            ):
                message = _(
                    "Rotate the vault secret %(name)s: %(person)s knew it and is leaving. "
                    "Change it on the network and store the new value."
                ) % {"name": secret.name, "person": _name(previous_holder)}
            notification_send(
                user=new_holder.user,
                organization=organization,
                kind="vault.rotation_due",
                message=message,
                link=reverse("governance:vault_edit", args=[secret.pk]),
            )
