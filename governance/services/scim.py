"""Writes for SCIM 2.0 provisioning: the organization's token and settings, and the
people and groups its identity provider creates, changes and removes.

A provider's deactivation goes through ``member_deactivate``, like one in the
app: sessions and API tokens end at once and a handover case opens; then the
organization's admins are told. Every change is audited with the source "scim"
(the API wraps each request in ``audit_source("scim")``).
Broken rules raise scim2-models' exceptions, which the API turns into RFC 7644
error responses.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from scim2_models import (
    InvalidValueException,
    PatchOp,
    SCIMException,
    UniquenessException,
)

from governance.models import (
    HandoverCase,
    HandoverStatus,
    Membership,
    Organization,
    ProvisionedUser,
    Role,
    ScimGroup,
    ScimSettings,
    ScimToken,
    User,
)
from governance.selectors import scim_resources as res
from governance.selectors.scim import (
    SCIM_POLICY,
    group_resource,
    scim_settings_for,
    scim_token_hash,
    scim_uuid,
    user_resource,
)
from governance.services.audit import audit_record
from governance.services.members import member_change_role, member_deactivate, member_reactivate
from governance.services.notifications import notification_send
from governance.services.role_mapping import role_for_groups

# A leaked SCIM token is recognisable by its start (secret scanners, log scrubbers).
SCIM_TOKEN_PREFIX = "gsscim_"  # noqa: S105 (a label, not a secret)
DISPLAY_PREFIX_LENGTH = 12
GROUP_NAME_MAX_LENGTH = 300


class ScimRuleBroken(SCIMException):
    """A GovSocial rule refused the change (the last admin, say): 400 with our reason."""

    status = 400


# ---------------------------------------------------------------------------
# Token and settings (the admin page)


@transaction.atomic
def scim_token_create(
    *, organization: Organization, actor: User, request: HttpRequest | None = None
) -> tuple[ScimToken, str]:
    """Make the organization's SCIM token (revoking any in use); return it with the raw token.

    The raw token exists only in the return value: the database keeps its SHA-256
    and the audit entry names it by its first characters.
    """
    Organization.objects.select_for_update(no_key=True).get(pk=organization.pk)
    now = timezone.now()
    old = list(
        ScimToken.objects.select_for_update().filter(
            organization=organization, revoked_at__isnull=True
        )
    )
    ScimToken.objects.filter(pk__in=[token.pk for token in old]).update(revoked_at=now)
    raw = SCIM_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ScimToken.objects.create(
        organization=organization,
        prefix=raw[:DISPLAY_PREFIX_LENGTH],
        token_hash=scim_token_hash(raw),
        created_by=actor,
    )
    audit_record(
        action="scim.token_rotated" if old else "scim.token_created",
        organization=organization,
        actor=actor,
        target=token,
        old={"prefix": old[0].prefix} if old else None,
        new={"prefix": token.prefix},
        request=request,
    )
    return token, raw


@transaction.atomic
def scim_token_revoke(
    *, organization: Organization, actor: User, request: HttpRequest | None = None
) -> bool:
    """Stop the organization's SCIM token at once. False when none was in use."""
    token = (
        ScimToken.objects.select_for_update()
        .filter(organization=organization, revoked_at__isnull=True)
        .first()
    )
    if token is None:
        return False
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(
        action="scim.token_revoked",
        organization=organization,
        actor=actor,
        target=token,
        old={"prefix": token.prefix, "status": "in use"},
        new={"status": "revoked"},
        request=request,
    )
    return True


def _check_mapping(group_roles: Mapping[str, str]) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    seen: set[str] = set()
    for name, role in group_roles.items():
        name = " ".join(str(name).split())
        if not name:
            raise ValidationError(_("Enter the group's name."), code="group_required")
        if len(name) > GROUP_NAME_MAX_LENGTH:
            raise ValidationError(
                _("Use at most %(max)d characters.") % {"max": GROUP_NAME_MAX_LENGTH},
                code="group_too_long",
            )
        if role not in Role.values:
            raise ValidationError(_("Choose a valid role."), code="invalid_role")
        if name.casefold() in seen:
            raise ValidationError(
                _("The group %(name)s is mapped already.") % {"name": name}, code="duplicate"
            )
        seen.add(name.casefold())
        cleaned[name] = role
    return cleaned


def scim_settings_update(
    *,
    organization: Organization,
    actor: User,
    group_roles: Mapping[str, str],
    default_role: str,
    request: HttpRequest | None = None,
) -> ScimSettings:
    """Change how provisioned people get their role, then give each their new role.

    The roles change one by one through ``member_change_role`` (each audited); if
    one is refused (it would leave no admin), nothing changes.
    """
    mapping = _check_mapping(group_roles)
    if default_role not in Role.values:
        raise ValidationError(_("Choose a valid role."), code="invalid_role")
    with transaction.atomic():
        current = scim_settings_for(organization)
        old = {"group_roles": dict(current.group_roles), "default_role": current.default_role}
        new = {"group_roles": mapping, "default_role": default_role}
        if old == new and current.pk is not None:
            return current
        current.group_roles = mapping
        current.default_role = default_role
        current.save()
        audit_record(
            action="scim.settings_changed",
            organization=organization,
            actor=actor,
            target=organization,
            target_label=str(organization),
            old=old,
            new=new,
            request=request,
        )
        for provisioned in ProvisionedUser.objects.filter(
            organization=organization, removed_at__isnull=True, membership__is_active=True
        ).select_related("membership"):
            _apply_group_role(provisioned, current, actor=actor, request=request)
    return current


# ---------------------------------------------------------------------------
# Roles from groups


def _group_names(provisioned: ProvisionedUser) -> list[str]:
    return list(provisioned.groups.values_list("display_name", flat=True))


def _apply_group_role(
    provisioned: ProvisionedUser,
    settings: ScimSettings,
    *,
    actor: User | None = None,
    request: HttpRequest | None,
) -> None:
    membership = Membership.objects.get(pk=provisioned.membership_id)
    if not membership.is_active:
        return
    role = role_for_groups(settings.group_roles, _group_names(provisioned)) or settings.default_role
    if role != membership.role:
        # Refused (ValidationError) when it would leave the organization without an admin.
        member_change_role(membership=membership, actor=actor, role=role, request=request)


# ---------------------------------------------------------------------------
# Users


def _primary_email(resource: res.User) -> str:
    emails = [email for email in resource.emails or [] if email.value]
    chosen = next((email for email in emails if email.primary), emails[0] if emails else None)
    address = str(chosen.value) if chosen is not None else ""
    if not address and resource.user_name and "@" in resource.user_name:
        address = resource.user_name  # Keycloak and others often send only userName
    address = User.objects.normalize_email(address).strip().lower()
    try:
        validate_email(address)
    except ValidationError:
        raise InvalidValueException(
            detail="emails: give the person's e-mail address (GovSocial needs one to log in)."
        ) from None
    return address


def _full_name(resource: res.User) -> str:
    name = resource.name
    if name is not None and name.formatted:
        return name.formatted.strip()[:200]
    if name is not None and (name.given_name or name.family_name):
        return " ".join(part for part in (name.given_name, name.family_name) if part)[:200]
    return (resource.display_name or "").strip()[:200]


def _stored_attributes(resource: res.User) -> dict[str, Any]:
    dumped = resource.model_dump(mode="json", by_alias=True, exclude_none=True, scim_ctx=None)
    kept: dict[str, Any] = {
        key: dumped[key] for key in ("name", "displayName", "emails") if key in dumped
    }
    kept["active"] = resource.active
    return kept


def _check_user_name(organization: Organization, user_name: str, *, exclude: int | None) -> str:
    user_name = (user_name or "").strip()
    if not user_name:
        raise InvalidValueException(detail="userName is required.")
    if len(user_name) > 300:
        raise InvalidValueException(detail="userName: use at most 300 characters.")
    taken = ProvisionedUser.objects.filter(
        organization=organization, removed_at__isnull=True, user_name__iexact=user_name
    )
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise UniquenessException(detail=f"userName {user_name!r} is already in use.")
    return user_name


def _person_is_ours(user: User, organization: Organization) -> bool:
    """Whether the provider may change the person's name and login address: not when
    they also work in another organization (its identity provider is not ours)."""
    return not (
        Membership.objects.filter(user=user)
        .exclude(organization=organization)
        .filter(is_active=True)
        .exists()
    )


def _update_person(user: User, organization: Organization, resource: res.User) -> None:
    if not _person_is_ours(user, organization):
        return
    email = _primary_email(resource)
    full_name = _full_name(resource)
    fields: list[str] = []
    if email != user.email:
        if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
            raise UniquenessException(detail="emails: that address belongs to someone else.")
        user.email = email
        fields.append("email")
    if full_name and full_name != user.full_name:
        user.full_name = full_name
        fields.append("full_name")
    if fields:
        old = {field: getattr(User.objects.get(pk=user.pk), field) for field in fields}
        user.save(update_fields=fields)
        audit_record(
            action="scim.person_updated",
            organization=organization,
            target=user,
            old=old,
            new={field: getattr(user, field) for field in fields},
        )


def _open_case(membership: Membership) -> HandoverCase | None:
    return HandoverCase.objects.filter(membership=membership, status=HandoverStatus.OPEN).first()


def _tell_admins(membership: Membership, *, deactivated: bool) -> None:
    """Tell the organization's active admins what the identity provider just did."""
    organization = membership.organization
    person = membership.user.full_name or membership.user.email
    case = _open_case(membership) if deactivated else None
    link = reverse("governance:handover_detail", args=[case.pk]) if case is not None else ""
    if not link:
        link = reverse("governance:member_edit", args=[membership.pk])
    admins = (
        Membership.objects.filter(
            organization=organization, role=Role.ADMIN, is_active=True, user__is_active=True
        )
        .exclude(pk=membership.pk)
        .select_related("user")
    )
    for admin in admins:
        language = admin.user.preferred_language or organization.default_language
        with translation.override(language):
            if deactivated:
                message = _(
                    "Your identity provider deactivated %(name)s: their sessions have ended, "
                    "their API tokens are revoked and a handover case is open."
                ) % {"name": person}
            else:
                message = _("Your identity provider reactivated %(name)s.") % {"name": person}
        notification_send(
            user=admin.user,
            organization=organization,
            kind="scim.member_deactivated" if deactivated else "scim.member_reactivated",
            message=message,
            link=link,
        )


def _set_active(
    provisioned: ProvisionedUser, active: bool | None, request: HttpRequest | None
) -> None:
    """Deactivate or reactivate the member as the app would, and tell the admins."""
    membership = Membership.objects.select_related("organization", "user").get(
        pk=provisioned.membership_id
    )
    if active is None or active == membership.is_active:
        return
    try:
        if active:
            member_reactivate(membership=membership, actor=None, request=request)
        else:
            member_deactivate(membership=membership, actor=None, request=request)
    except ValidationError as error:
        raise ScimRuleBroken(detail=" ".join(error.messages)) from error
    membership.refresh_from_db()
    _tell_admins(membership, deactivated=not active)


def _new_membership(
    organization: Organization, resource: res.User, request: HttpRequest | None
) -> Membership:
    email = _primary_email(resource)
    settings = scim_settings_for(organization)
    user = User.objects.select_for_update(no_key=True).filter(email__iexact=email).first()
    if user is None:
        user = User(
            email=email,
            full_name=_full_name(resource),
            preferred_language=organization.default_language,
            time_zone=organization.time_zone,
        )
        # Provisioned people sign in through single sign-on, or choose a password
        # with "Forgot your password?".
        user.set_unusable_password()
        user.save()
    membership = Membership.objects.filter(organization=organization, user=user).first()
    if membership is not None:
        return membership
    if Membership.objects.filter(user=user).exists():
        # Someone who works in another organization joins only by accepting an
        # invitation: another organization's provider must not sign them up (nor,
        # by deactivating them here later, end their sessions there).
        raise UniquenessException(
            detail="emails: this person has a GovSocial account with another organization; "
            "invite them from the Members page instead."
        )
    membership = Membership.objects.create(
        organization=organization, user=user, role=settings.default_role, all_accounts=True
    )
    if not user.is_active:
        user.is_active = True
        user.session_generation += 1
        user.save(update_fields=["is_active", "session_generation"])
    audit_record(
        action="member.added",
        organization=organization,
        target=membership,
        new={"email": user.email, "role": membership.role, "all_accounts": True},
        request=request,
    )
    return membership


def scim_user_create(
    *,
    organization: Organization,
    resource: res.User,
    base_url: str,
    request: HttpRequest | None = None,
) -> res.User:
    """Provision a person: a new member, or an existing one the provider now manages.

    A person already in the organization (invited earlier, say) is taken over
    with their role; a new one gets the role their groups map to, else the
    settings' default. Someone the provider deleted before comes back.
    """
    with transaction.atomic():
        Organization.objects.select_for_update(no_key=True).get(pk=organization.pk)
        user_name = _check_user_name(organization, resource.user_name or "", exclude=None)
        membership = _new_membership(organization, resource, request)
        provisioned = ProvisionedUser.objects.filter(membership=membership).first()
        if provisioned is not None and provisioned.removed_at is None:
            raise UniquenessException(
                detail="This person is provisioned already, under another userName."
            )
        if provisioned is None:
            provisioned = ProvisionedUser(organization=organization, membership=membership)
        else:
            provisioned = _fresh_identity(provisioned)
        provisioned.user_name = user_name
        provisioned.external_id = (resource.external_id or "")[:300]
        provisioned.attributes = _stored_attributes(resource)
        if resource.active is None:
            provisioned.attributes["active"] = True  # a new member is active unless told
        provisioned.save()
        _update_person(membership.user, organization, resource)
        audit_record(
            action="scim.user_provisioned",
            organization=organization,
            target=membership,
            new={"user_name": user_name, "email": membership.user.email, "role": membership.role},
            request=request,
        )
        _set_active(provisioned, True if resource.active is None else resource.active, request)
    return user_resource(_reload_user(provisioned), base_url)


def _fresh_identity(provisioned: ProvisionedUser) -> ProvisionedUser:
    """A deleted SCIM user coming back gets a new id: the old one stays gone (RFC 7644 §3.6)."""
    provisioned.scim_id = uuid.uuid4()
    provisioned.removed_at = None
    provisioned.created_at = timezone.now()
    return provisioned


def _reload_user(provisioned: ProvisionedUser) -> ProvisionedUser:
    return (
        ProvisionedUser.objects.select_related("membership__user")
        .prefetch_related("groups")
        .get(pk=provisioned.pk)
    )


def scim_user_replace(
    *,
    provisioned: ProvisionedUser,
    resource: res.User,
    base_url: str,
    request: HttpRequest | None = None,
) -> res.User:
    """Replace what the provider keeps about the person (PUT), deactivating on ``active: false``."""
    with transaction.atomic():
        provisioned = ProvisionedUser.objects.select_for_update(of=("self",)).get(pk=provisioned.pk)
        organization = provisioned.organization
        user_name = _check_user_name(organization, resource.user_name or "", exclude=provisioned.pk)
        old = {
            "user_name": provisioned.user_name,
            "external_id": provisioned.external_id,
        }
        provisioned.user_name = user_name
        provisioned.external_id = (resource.external_id or "")[:300]
        provisioned.attributes = _stored_attributes(resource)
        provisioned.updated_at = timezone.now()
        provisioned.save()
        membership = Membership.objects.select_related("user").get(pk=provisioned.membership_id)
        _update_person(membership.user, organization, resource)
        new = {"user_name": provisioned.user_name, "external_id": provisioned.external_id}
        if old != new:
            audit_record(
                action="scim.user_updated",
                organization=organization,
                target=membership,
                old=old,
                new=new,
                request=request,
            )
        _set_active(provisioned, resource.active, request)
    return user_resource(_reload_user(provisioned), base_url)


def scim_user_patch(
    *,
    provisioned: ProvisionedUser,
    patch: PatchOp[res.User],
    base_url: str,
    request: HttpRequest | None = None,
) -> res.User:
    """Apply PATCH operations (add, replace, remove) to the person, then save as a PUT would."""
    current = user_resource(provisioned, base_url)
    patch.patch(current, scim_policy=SCIM_POLICY)
    return scim_user_replace(
        provisioned=provisioned, resource=current, base_url=base_url, request=request
    )


def scim_user_delete(*, provisioned: ProvisionedUser, request: HttpRequest | None = None) -> None:
    """The provider deleted the person: deactivate them (handover, admins told) and
    forget the SCIM resource. The membership stays for the handover and the record."""
    with transaction.atomic():
        provisioned = ProvisionedUser.objects.select_for_update(of=("self",)).get(pk=provisioned.pk)
        _set_active(provisioned, False, request)
        provisioned.groups.clear()
        provisioned.removed_at = timezone.now()
        provisioned.save(update_fields=["removed_at"])
        audit_record(
            action="scim.user_removed",
            organization=provisioned.organization,
            target=Membership.objects.get(pk=provisioned.membership_id),
            old={"user_name": provisioned.user_name},
            request=request,
        )


# ---------------------------------------------------------------------------
# Groups


def _member_rows(organization: Organization, group: res.Group) -> list[ProvisionedUser]:
    wanted: list[str] = []
    for member in group.members or []:
        value = (member.value or "").strip()
        if not value and member.ref:
            value = str(member.ref).rstrip("/").rsplit("/", 1)[-1]
        if value and value not in wanted:
            wanted.append(value)
    rows: list[ProvisionedUser] = []
    for value in wanted:
        key = scim_uuid(value)
        row = (
            ProvisionedUser.objects.filter(
                organization=organization, removed_at__isnull=True, scim_id=key
            ).first()
            if key is not None
            else None
        )
        if row is None:
            # Another organization's user is as unknown here as one that never existed.
            raise InvalidValueException(detail=f"members: no user {value} here.")
        rows.append(row)
    return rows


def _check_group_name(organization: Organization, name: str, *, exclude: int | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidValueException(detail="displayName is required.")
    if len(name) > GROUP_NAME_MAX_LENGTH:
        raise InvalidValueException(detail="displayName: use at most 300 characters.")
    taken = ScimGroup.objects.filter(organization=organization, display_name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        # Roles are mapped by group name, so two groups of one name would be ambiguous.
        raise UniquenessException(detail=f"A group named {name!r} exists already.")
    return name


def _save_group(
    group: ScimGroup,
    resource: res.Group,
    *,
    request: HttpRequest | None,
    action: str,
) -> None:
    organization = group.organization
    old_members = set(group.members.values_list("pk", flat=True)) if group.pk else set()
    old = {"display_name": group.display_name, "members": len(old_members)} if group.pk else None
    group.display_name = _check_group_name(
        organization, resource.display_name or "", exclude=group.pk
    )
    group.external_id = (resource.external_id or "")[:300]
    group.updated_at = timezone.now()
    name_changed = old is not None and old["display_name"] != group.display_name
    group.save()
    rows = _member_rows(organization, resource)
    group.members.set(rows)
    new_members = {row.pk for row in rows}
    audit_record(
        action=action,
        organization=organization,
        target=group,
        old=old,
        new={
            "display_name": group.display_name,
            "members": len(new_members),
            "added": len(new_members - old_members),
            "removed": len(old_members - new_members),
        },
        request=request,
    )
    touched = (new_members ^ old_members) | (new_members if name_changed else set())
    _reapply_roles(organization, touched, request)


def _reapply_roles(
    organization: Organization, provisioned_ids: Iterable[int], request: HttpRequest | None
) -> None:
    settings = scim_settings_for(organization)
    for provisioned in ProvisionedUser.objects.filter(
        pk__in=list(provisioned_ids), removed_at__isnull=True
    ).order_by("pk"):
        try:
            _apply_group_role(provisioned, settings, request=request)
        except ValidationError as error:
            raise ScimRuleBroken(detail=" ".join(error.messages)) from error


def _reload_group(group: ScimGroup) -> ScimGroup:
    return ScimGroup.objects.prefetch_related("members").get(pk=group.pk)


def scim_group_create(
    *,
    organization: Organization,
    resource: res.Group,
    base_url: str,
    request: HttpRequest | None = None,
) -> res.Group:
    """A group of the provider; its members get the role its name maps to (highest wins)."""
    with transaction.atomic():
        Organization.objects.select_for_update(no_key=True).get(pk=organization.pk)
        group = ScimGroup(organization=organization)
        _save_group(group, resource, request=request, action="scim.group_created")
    return group_resource(_reload_group(group), base_url)


def scim_group_replace(
    *, group: ScimGroup, resource: res.Group, base_url: str, request: HttpRequest | None = None
) -> res.Group:
    with transaction.atomic():
        group = ScimGroup.objects.select_for_update().get(pk=group.pk)
        _save_group(group, resource, request=request, action="scim.group_updated")
    return group_resource(_reload_group(group), base_url)


def scim_group_patch(
    *,
    group: ScimGroup,
    patch: PatchOp[res.Group],
    base_url: str,
    request: HttpRequest | None = None,
) -> res.Group:
    current = group_resource(group, base_url)
    patch.patch(current, scim_policy=SCIM_POLICY)
    return scim_group_replace(group=group, resource=current, base_url=base_url, request=request)


def scim_group_delete(*, group: ScimGroup, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        group = ScimGroup.objects.select_for_update().get(pk=group.pk)
        members = list(group.members.values_list("pk", flat=True))
        organization = group.organization
        audit_record(
            action="scim.group_deleted",
            organization=organization,
            target=group,
            old={"display_name": group.display_name, "members": len(members)},
            request=request,
        )
        group.delete()
        _reapply_roles(organization, members, request)


def scim_integrity_error() -> SCIMException:
    """A unique constraint lost to a concurrent request: the same answer as a checked one."""
    return UniquenessException(detail="That value is already in use.")
