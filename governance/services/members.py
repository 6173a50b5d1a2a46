"""Writes about people: invitations, roles, account limits, deactivation, settings, profiles.

Every function is keyword-only, runs in one transaction and writes an audit
entry for each change it makes. Broken rules raise ``ValidationError`` with a
message meant for the person who asked (and a ``code`` for the API). The
optional ``request`` only feeds the audit entry's address and user agent.
"""

from __future__ import annotations

import secrets
import zoneinfo
from collections.abc import Collection
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from governance.holidays import supported_countries
from governance.models import ApiToken, Invitation, Membership, Organization, Role, User
from governance.models.handover import HandoverReason
from governance.models.org import LIMITABLE_ROLES
from governance.providers import MEMBER_ROLE_GIVEN, get_providers
from governance.selectors.members import (
    channel_account_label,
    invitation_token_hash,
    member_channel_account_ids,
    organization_channel_accounts,
)
from governance.services.audit import audit_record
from governance.services.handover import handover_case_open

# ---------------------------------------------------------------------------
# Helpers


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise ValidationError(_("Choose a valid role."), code="invalid_role")


def _check_time_zone(name: str) -> None:
    if name not in zoneinfo.available_timezones():
        raise ValidationError(_("Choose a valid time zone."), code="invalid_time_zone")


def _check_language(code: str, *, allow_blank: bool) -> None:
    codes = {language for language, _name in settings.LANGUAGES}
    if (code or not allow_blank) and code not in codes:
        raise ValidationError(_("Choose a valid language."), code="invalid_language")


def _org_account_ids(organization: Organization, ids: Collection[int] | None) -> list[int]:
    """The given channel account ids, checked to belong to the organization, sorted."""
    wanted = sorted({int(pk) for pk in ids or ()})
    if not wanted:
        return []
    found = set(
        organization_channel_accounts(organization)
        .filter(pk__in=wanted)
        .values_list("pk", flat=True)
    )
    if found != set(wanted):
        raise ValidationError(
            _("Choose channel accounts of this organization."), code="invalid_accounts"
        )
    return wanted


def _check_limitable(role: str, account_ids: list[int]) -> None:
    if account_ids and role not in LIMITABLE_ROLES:
        raise ValidationError(
            _("Only editors and reviewers can be limited to some channel accounts."),
            code="not_limitable",
        )


def _account_labels(organization: Organization, ids: Collection[int]) -> list[str]:
    return [
        channel_account_label(account)
        for account in organization_channel_accounts(organization).filter(pk__in=list(ids))
    ]


def _limits_snapshot(membership: Membership) -> dict[str, Any]:
    if membership.all_accounts:
        return {"all_accounts": True, "channel_accounts": []}
    ids = member_channel_account_ids(membership)
    return {
        "all_accounts": False,
        "channel_accounts": _account_labels(membership.organization, ids),
    }


def _lock_active_admins(organization: Organization) -> list[Membership]:
    # Locking every active admin row serializes two admins demoting each other at
    # once: the second one sees the first one's change and is refused.
    return list(
        Membership.objects.select_for_update().filter(
            organization=organization, role=Role.ADMIN, is_active=True
        )
    )


def _refuse_losing_last_admin(membership: Membership) -> None:
    if membership.role != Role.ADMIN or not membership.is_active:
        return
    admins = _lock_active_admins(membership.organization)
    if len(admins) <= 1:
        raise ValidationError(
            _(
                "%(name)s is the last active admin of %(org)s. Make someone else an admin "
                "first, so the organization is never left without one."
            )
            % {"name": membership.user, "org": membership.organization},
            code="last_admin",
        )


def invitation_link(token: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/invite/{token}/"


def _send_invitation_mail(invitation: Invitation, token: str) -> None:
    organization = invitation.organization
    # The invitee has no preferences yet: write in the organization's language
    # and show the expiry in its time zone.
    with (
        translation.override(organization.default_language or settings.LANGUAGE_CODE),
        timezone.override(zoneinfo.ZoneInfo(organization.time_zone)),
    ):
        context = {
            "organization": organization,
            "invited_by": invitation.invited_by,
            "role": invitation.get_role_display(),
            "link": invitation_link(token),
            "expires_at": invitation.expires_at,
            "time_zone": organization.time_zone,
        }
        subject = render_to_string("governance/email/invitation_subject.txt", context)
        body = render_to_string("governance/email/invitation_body.txt", context)
    send_mail(
        " ".join(subject.split()),
        body,
        settings.DEFAULT_FROM_EMAIL,
        [invitation.email],
        fail_silently=False,
    )


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, invitation_token_hash(token)


def _invitation_expiry() -> Any:
    return timezone.now() + timedelta(hours=settings.INVITATION_TTL_HOURS)


# ---------------------------------------------------------------------------
# Invitations


@transaction.atomic
def invitation_create(
    *,
    organization: Organization,
    actor: User,
    email: str,
    role: str,
    channel_account_ids: Collection[int] | None = None,
    request: HttpRequest | None = None,
) -> Invitation:
    """Invite ``email`` to join with ``role``, and e-mail them a link.

    ``channel_account_ids`` empty or None: the member may use every account;
    otherwise (editors and reviewers only) just those. The link's token is
    stored only as its SHA-256. The mail is sent inside the transaction on
    purpose: if it cannot be sent, no invitation is left behind that nobody
    received, and the error reaches the admin.
    """
    email = User.objects.normalize_email(email).strip().lower()
    _check_role(role)
    account_ids = _org_account_ids(organization, channel_account_ids)
    _check_limitable(role, account_ids)
    existing = Membership.objects.filter(organization=organization, user__email__iexact=email)
    if existing.filter(is_active=True).exists():
        raise ValidationError(
            _("%(email)s is already a member of %(org)s.") % {"email": email, "org": organization},
            code="already_member",
        )
    if existing.exists():
        raise ValidationError(
            _(
                "%(email)s is a deactivated member of %(org)s. Reactivate them from their "
                "member page instead."
            )
            % {"email": email, "org": organization},
            code="deactivated_member",
        )
    pending = Invitation.objects.filter(
        organization=organization,
        email__iexact=email,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    )
    if pending.exists():
        raise ValidationError(
            _("An invitation to %(email)s is already waiting. Send it again from the list instead.")
            % {"email": email},
            code="already_invited",
        )
    token, token_hash = _new_token()
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        all_accounts=not account_ids,
        channel_account_ids=account_ids,
        token_hash=token_hash,
        invited_by=actor,
        expires_at=_invitation_expiry(),
    )
    audit_record(
        action="member.invited",
        organization=organization,
        actor=actor,
        target=invitation,
        new={
            "email": email,
            "role": role,
            "all_accounts": not account_ids,
            "channel_accounts": _account_labels(organization, account_ids),
            "expires_at": invitation.expires_at.isoformat(),
        },
        request=request,
    )
    _send_invitation_mail(invitation, token)
    return invitation


@transaction.atomic
def invitation_resend(
    *, invitation: Invitation, actor: User, request: HttpRequest | None = None
) -> Invitation:
    """E-mail a fresh link (the old one stops working) with a new expiry."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise ValidationError(
            _("This invitation was already accepted or revoked."), code="invitation_closed"
        )
    old_expiry = invitation.expires_at
    token, invitation.token_hash = _new_token()
    invitation.expires_at = _invitation_expiry()
    invitation.save(update_fields=["token_hash", "expires_at"])
    audit_record(
        action="member.invitation_resent",
        organization=invitation.organization,
        actor=actor,
        target=invitation,
        old={"expires_at": old_expiry.isoformat()},
        new={"expires_at": invitation.expires_at.isoformat()},
        request=request,
    )
    _send_invitation_mail(invitation, token)
    return invitation


@transaction.atomic
def invitation_revoke(
    *, invitation: Invitation, actor: User, request: HttpRequest | None = None
) -> Invitation:
    """Make the invitation's link useless at once."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise ValidationError(
            _("This invitation was already accepted."), code="invitation_accepted"
        )
    if invitation.revoked_at is not None:
        return invitation
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(
        action="member.invitation_revoked",
        organization=invitation.organization,
        actor=actor,
        target=invitation,
        old={"status": "pending"},
        new={"status": "revoked", "email": invitation.email},
        request=request,
    )
    return invitation


def invitation_problem(invitation: Invitation | None) -> str:
    """Why a link cannot be used, as a sentence for its holder ("" when it can)."""
    if invitation is None:
        return _("This invitation link is not valid. Check that you copied the whole link.")
    if invitation.accepted_at is not None:
        return _("This invitation has already been used. Log in with your e-mail and password.")
    if invitation.revoked_at is not None:
        return _("This invitation was withdrawn. Ask an administrator for a new one.")
    if invitation.is_expired:
        return _(
            "This invitation has expired. Ask an administrator of %(org)s to send it again."
        ) % {"org": invitation.organization}
    return ""


@transaction.atomic
def invitation_accept(
    *,
    invitation: Invitation,
    user: User | None = None,
    full_name: str = "",
    password: str = "",
    request: HttpRequest | None = None,
) -> Membership:
    """Turn an invitation into a membership with its role and account limits.

    ``user``: an existing person, logged in with the invited e-mail, who just
    joins. Without it, the invitee is new: an account is made with
    ``full_name`` and ``password`` (checked by Django's password validators).
    A deactivated account with the invited e-mail is reactivated the same way,
    since the link proves they hold the address, as a password reset would.
    """
    invitation = (
        Invitation.objects.select_for_update(of=("self",), no_key=True)
        .select_related("organization")
        .get(pk=invitation.pk)
    )
    problem = invitation_problem(invitation)
    if problem:
        raise ValidationError(problem, code="invitation_unusable")
    organization = invitation.organization
    if user is not None:
        if user.email.lower() != invitation.email.lower():
            raise ValidationError(
                _("This invitation is for %(email)s.") % {"email": invitation.email},
                code="wrong_user",
            )
    else:
        full_name = full_name.strip()
        if not full_name:
            raise ValidationError(_("Enter your full name."), code="full_name_required")
        user = (
            User.objects.select_for_update(no_key=True)
            .filter(email__iexact=invitation.email)
            .first()
        )
        if user is not None and user.is_active:
            raise ValidationError(
                _("You already have an account. Log in first, then open the link again."),
                code="account_exists",
            )
        if user is None:
            user = User(email=invitation.email, full_name=full_name)
        user.full_name = full_name
        user.is_active = True
        if not user.preferred_language:
            # The language the person read the invitation page in (their browser's or
            # the one they switched to), which now follows them at every login; the
            # organization's when the page's language is not one of the interface's.
            shown = translation.get_language() or ""
            user.preferred_language = (
                shown if shown in dict(settings.LANGUAGES) else organization.default_language
            )
        if user.pk is None:
            user.time_zone = organization.time_zone
        password_validation.validate_password(password, user)
        user.set_password(password)
        if user.pk is None:
            user.save()
        else:
            # A returning person: any session left from before ends now.
            user.session_generation += 1
            user.save(
                update_fields=[
                    "full_name",
                    "is_active",
                    "preferred_language",
                    "password",
                    "session_generation",
                ]
            )
    previous = Membership.objects.filter(organization=organization, user=user).first()
    if previous is not None and previous.is_active:
        raise ValidationError(
            _("You are already a member of %(org)s.") % {"org": organization},
            code="already_member",
        )
    if previous is not None:
        raise ValidationError(
            _(
                "Your membership of %(org)s was deactivated. Ask an administrator of "
                "%(org)s to reactivate it."
            )
            % {"org": organization},
            code="deactivated_member",
        )
    account_ids = _org_account_ids(organization, invitation.channel_account_ids)
    limited = bool(account_ids) and invitation.role in LIMITABLE_ROLES
    membership = Membership.objects.create(
        organization=organization,
        user=user,
        role=invitation.role,
        all_accounts=not limited,
    )
    if limited:
        membership.channel_accounts.set(account_ids)
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit_record(
        action="member.joined",
        organization=organization,
        actor=user,
        target=membership,
        new={
            "email": user.email,
            "role": membership.role,
            "all_accounts": membership.all_accounts,
            "channel_accounts": _account_labels(organization, account_ids) if limited else [],
            "invitation": invitation.pk,
        },
        request=request,
    )
    transaction.on_commit(lambda: _tell_providers_of_new_role(membership.pk))
    return membership


# ---------------------------------------------------------------------------
# Members


@transaction.atomic
def member_change_role(
    *, membership: Membership, actor: User | None, role: str, request: HttpRequest | None = None
) -> Membership:
    """Give the member another role. A role that cannot be limited gets every account.

    The last active admin cannot be given another role.
    """
    _check_role(role)
    membership = (
        Membership.objects.select_for_update(of=("self",), no_key=True)
        .select_related("organization", "user")
        .get(pk=membership.pk)
    )
    if membership.role == role:
        return membership
    if role != Role.ADMIN:
        _refuse_losing_last_admin(membership)
    old: dict[str, Any] = {"role": membership.role}
    new: dict[str, Any] = {"role": role}
    fields = ["role"]
    if role not in LIMITABLE_ROLES and not membership.all_accounts:
        old.update(_limits_snapshot(membership))
        new.update({"all_accounts": True, "channel_accounts": []})
        membership.channel_accounts.clear()
        membership.all_accounts = True
        fields.append("all_accounts")
    membership.role = role
    membership.save(update_fields=fields)
    audit_record(
        action="member.role_changed",
        organization=membership.organization,
        actor=actor,
        target=membership,
        old=old,
        new=new,
        request=request,
    )
    transaction.on_commit(lambda: _tell_providers_of_new_role(membership.pk))
    return membership


def _tell_providers_of_new_role(membership_id: int) -> None:
    """Let the apps above say what already waits for the member in their new role."""
    membership = (
        Membership.objects.select_related("organization", "user")
        .filter(pk=membership_id, is_active=True)
        .first()
    )
    if membership is None:
        return
    for provider in get_providers(MEMBER_ROLE_GIVEN):
        provider(membership)


@transaction.atomic
def member_set_account_limits(
    *,
    membership: Membership,
    actor: User,
    channel_account_ids: Collection[int] | None,
    request: HttpRequest | None = None,
) -> Membership:
    """Limit an editor or reviewer to some channel accounts; None or empty means all."""
    membership = (
        Membership.objects.select_for_update(of=("self",), no_key=True)
        .select_related("organization", "user")
        .get(pk=membership.pk)
    )
    account_ids = _org_account_ids(membership.organization, channel_account_ids)
    _check_limitable(membership.role, account_ids)
    old = _limits_snapshot(membership)
    current = [] if membership.all_accounts else sorted(member_channel_account_ids(membership))
    if current == account_ids:
        return membership
    membership.all_accounts = not account_ids
    membership.save(update_fields=["all_accounts"])
    membership.channel_accounts.set(account_ids)
    audit_record(
        action="member.accounts_limited",
        organization=membership.organization,
        actor=actor,
        target=membership,
        old=old,
        new={
            "all_accounts": membership.all_accounts,
            "channel_accounts": _account_labels(membership.organization, account_ids),
        },
        request=request,
    )
    return membership


@transaction.atomic
def member_set_leaving_date(
    *,
    membership: Membership,
    actor: User,
    leaving_on: date | None,
    request: HttpRequest | None = None,
) -> Membership:
    """Record (or clear) the day the member leaves, so their handover can be planned."""
    membership = (
        Membership.objects.select_for_update(of=("self",), no_key=True)
        .select_related("organization", "user")
        .get(pk=membership.pk)
    )
    if membership.leaving_on == leaving_on:
        return membership
    old = {"leaving_on": membership.leaving_on.isoformat() if membership.leaving_on else None}
    membership.leaving_on = leaving_on
    membership.save(update_fields=["leaving_on"])
    audit_record(
        action="member.leaving_date_set",
        organization=membership.organization,
        actor=actor,
        target=membership,
        old=old,
        new={"leaving_on": leaving_on.isoformat() if leaving_on else None},
        request=request,
    )
    if leaving_on is not None:
        # A known leaving date starts the handover while the person is still here.
        handover_case_open(
            membership=membership, actor=actor, reason=HandoverReason.LEAVING_DATE, request=request
        )
    return membership


@transaction.atomic
def member_update(
    *,
    membership: Membership,
    actor: User,
    role: str,
    channel_account_ids: Collection[int] | None,
    leaving_on: date | None,
    request: HttpRequest | None = None,
) -> Membership:
    """The member page's one form: role, then account limits, then leaving date.

    Account limits are applied only for a role that can be limited; any other
    role gets every account (``member_change_role`` resets them).
    """
    membership = member_change_role(membership=membership, actor=actor, role=role, request=request)
    if role in LIMITABLE_ROLES:
        membership = member_set_account_limits(
            membership=membership,
            actor=actor,
            channel_account_ids=channel_account_ids,
            request=request,
        )
    elif channel_account_ids:
        _check_limitable(role, list(channel_account_ids))
    return member_set_leaving_date(
        membership=membership, actor=actor, leaving_on=leaving_on, request=request
    )


@transaction.atomic
def member_deactivate(
    *,
    membership: Membership,
    actor: User | None,
    leaving_on: date | None = None,
    request: HttpRequest | None = None,
) -> Membership:
    """End the member's access to the organization now.

    Every session of theirs ends at once (the user's ``session_generation`` is
    part of the session auth hash), their API tokens for this organization are
    revoked, and a person left with no active membership cannot log in at all.
    The last active admin cannot be deactivated.
    """
    membership = (
        Membership.objects.select_for_update(of=("self",), no_key=True)
        .select_related("organization", "user")
        .get(pk=membership.pk)
    )
    if not membership.is_active:
        return membership
    _refuse_losing_last_admin(membership)
    now = timezone.now()
    old_leaving = membership.leaving_on
    membership.is_active = False
    membership.deactivated_at = now
    fields = ["is_active", "deactivated_at"]
    if leaving_on is not None:
        membership.leaving_on = leaving_on
        fields.append("leaving_on")
    membership.save(update_fields=fields)

    user = User.objects.select_for_update(no_key=True).get(pk=membership.user_id)
    user.session_generation += 1
    user_fields = ["session_generation"]
    other_active = Membership.objects.filter(user=user, is_active=True).exists()
    if not other_active and user.is_active:
        user.is_active = False
        user_fields.append("is_active")
    user.save(update_fields=user_fields)

    revoked = ApiToken.objects.filter(
        user=user, organization=membership.organization, revoked_at__isnull=True
    ).update(revoked_at=now)
    audit_record(
        action="member.deactivated",
        organization=membership.organization,
        actor=actor,
        target=membership,
        old={
            "is_active": True,
            "leaving_on": old_leaving.isoformat() if old_leaving else None,
        },
        new={
            "is_active": False,
            "leaving_on": membership.leaving_on.isoformat() if membership.leaving_on else None,
            "api_tokens_revoked": revoked,
            "user_login_disabled": "is_active" in user_fields,
        },
        request=request,
    )
    # Whatever they held (posts, approvals, registry roles, secrets) needs a new holder.
    handover_case_open(
        membership=membership, actor=actor, reason=HandoverReason.DEACTIVATED, request=request
    )
    return membership


@transaction.atomic
def member_reactivate(
    *, membership: Membership, actor: User | None, request: HttpRequest | None = None
) -> Membership:
    """Give a deactivated member their access back (revoked API tokens stay revoked)."""
    membership = (
        Membership.objects.select_for_update(of=("self",), no_key=True)
        .select_related("organization", "user")
        .get(pk=membership.pk)
    )
    if membership.is_active:
        return membership
    old_deactivated = membership.deactivated_at
    membership.is_active = True
    membership.deactivated_at = None
    membership.save(update_fields=["is_active", "deactivated_at"])
    user = User.objects.select_for_update(no_key=True).get(pk=membership.user_id)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    audit_record(
        action="member.reactivated",
        organization=membership.organization,
        actor=actor,
        target=membership,
        old={
            "is_active": False,
            "deactivated_at": old_deactivated.isoformat() if old_deactivated else None,
        },
        new={"is_active": True},
        request=request,
    )
    return membership


# ---------------------------------------------------------------------------
# Organization and profile


def disable_2fa_confirmation_matches(organization: Organization, text: str) -> bool:
    """Turning off 2FA is confirmed by typing the organization's current name."""
    return text.strip().casefold() == organization.name.strip().casefold()


@transaction.atomic
def organization_update_settings(
    *,
    organization: Organization,
    actor: User,
    name: str,
    time_zone: str,
    default_language: str,
    require_2fa: bool,
    disable_2fa_confirmation: str = "",
    country: str | None = None,
    request: HttpRequest | None = None,
) -> Organization:
    """Change the organization's settings; one audit entry lists old and new values.

    Turning off required two-factor authentication weakens every member's
    login, so it needs ``disable_2fa_confirmation`` equal to the organization's
    current name.
    """
    organization = Organization.objects.select_for_update(no_key=True).get(pk=organization.pk)
    name = name.strip()
    if not name:
        raise ValidationError(_("Enter the organization's name."), code="name_required")
    _check_time_zone(time_zone)
    _check_language(default_language, allow_blank=False)
    if country and country not in supported_countries():
        raise ValidationError(_("Choose a country from the list."), code="invalid_country")
    turning_2fa_off = organization.require_2fa and not require_2fa
    if turning_2fa_off and not disable_2fa_confirmation_matches(
        organization, disable_2fa_confirmation
    ):
        raise ValidationError(
            _(
                "To turn off two-factor authentication, type the organization's name "
                "(%(name)s) to confirm."
            )
            % {"name": organization.name},
            code="confirm_2fa_off",
        )
    wanted = {
        "name": name,
        "time_zone": time_zone,
        "default_language": default_language,
        "require_2fa": require_2fa,
    }
    if country is not None:
        wanted["country"] = country
    old = {k: getattr(organization, k) for k, v in wanted.items() if getattr(organization, k) != v}
    if not old:
        return organization
    new = {k: wanted[k] for k in old}
    for field, value in new.items():
        setattr(organization, field, value)
    organization.save(update_fields=list(new))
    audit_record(
        action="org.settings_changed",
        organization=organization,
        actor=actor,
        target=organization,
        old=old,
        new=new,
        request=request,
    )
    return organization


@transaction.atomic
def user_update_profile(
    *,
    user: User,
    full_name: str,
    preferred_language: str,
    time_zone: str,
    keyboard_shortcuts: bool = True,
    organization: Organization | None = None,
    request: HttpRequest | None = None,
) -> User:
    """Change the person's own name, language, time zone and whether single-key
    shortcuts are on.

    ``organization`` is where the audit entry is filed (the one they work in).
    A blank ``preferred_language`` means the browser's or organization's.
    """
    full_name = full_name.strip()
    if not full_name:
        raise ValidationError(_("Enter your full name."), code="full_name_required")
    _check_language(preferred_language, allow_blank=True)
    _check_time_zone(time_zone)
    user = User.objects.select_for_update(no_key=True).get(pk=user.pk)
    wanted = {
        "full_name": full_name,
        "preferred_language": preferred_language,
        "time_zone": time_zone,
        "keyboard_shortcuts": keyboard_shortcuts,
    }
    old = {k: getattr(user, k) for k, v in wanted.items() if getattr(user, k) != v}
    if not old:
        return user
    new = {k: wanted[k] for k in old}
    for field, value in new.items():
        setattr(user, field, value)
    user.save(update_fields=list(new))
    audit_record(
        action="user.profile_changed",
        organization=organization,
        actor=user,
        target=user,
        old=old,
        new=new,
        request=request,
    )
    return user
