"""Logging in and out, and the second factor: a TOTP authenticator plus one-time backup codes.

Views parse a form and call one function here. Each function runs in one
transaction, and every outcome that matters for accountability writes an audit
entry: a wrong password, a lockout, a wrong code, a backup code spent, a new
authenticator, new backup codes, a login, a logout.

Login is two steps. The password step logs the person in (Django rotates the
session key); where a second factor is needed, ``TwoFactorRequiredMiddleware``
then keeps them on the enrolment or code page until ``session_verify_code`` or
``totp_device_confirm`` marks the session verified (and rotates the key again).
"""

from __future__ import annotations

import math
from base64 import b32encode
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

import django_otp
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.contrib.auth import authenticate, login, logout
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone
from django_otp.models import Device

from governance.middleware import SESSION_SECOND_FACTOR_FORCED, second_factor_required
from governance.models import (
    BackupCode,
    BackupCodeDevice,
    Membership,
    OIDCProvider,
    Organization,
    TOTPDevice,
    User,
)
from governance.models.second_factor import backup_code_hash, random_backup_code
from governance.services.audit import audit_record
from governance.services.sso_policy import (
    BREAK_GLASS_SESSION_KEY,
    sso_break_glass_login_record,
    sso_password_policy,
)

BACKUP_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"
# Set once ``auth.login_succeeded`` is written for this session, so a login is
# recorded exactly once whichever step completes it (password, code or enrolment).
LOGIN_RECORDED_SESSION_KEY = "govsocial_login_recorded"
# Shown on an unauthenticated login attempt's audit entry: nobody is proven yet.
ANONYMOUS_ACTOR_LABEL = "anonymous"

NextStep = Literal["done", "verify", "enrol"]
FailureReason = Literal["wrong_code", "throttled"]


def normalize_email(email: str) -> str:
    # Addresses are stored lower-case (UserManager.create_user); matching the same
    # way also makes "Alice@…" and "alice@…" count towards one lockout.
    return email.strip().lower()


def normalize_code(code: str) -> str:
    """A code as typed, without the spaces and dashes people add when copying it."""
    return "".join(code.split()).replace("-", "").lower()


def _organization_of(user: User | None, request: HttpRequest | None = None) -> Organization | None:
    """The organization an auth event belongs to: the one this session works in, else
    the person's first active membership (None for an unknown e-mail address)."""
    if user is None:
        return None
    if request is not None and getattr(request.user, "pk", None) == user.pk:
        current: Organization | None = getattr(request, "organization", None)
        if current is not None:
            return current
    membership = (
        Membership.objects.select_related("organization")
        .filter(user=user, is_active=True)
        .order_by("joined_at", "pk")
        .first()
    )
    return membership.organization if membership else None


def _record_login(
    *,
    request: HttpRequest,
    user: User,
    second_factor: str,
    organization: Organization | None,
    source: str = "",
) -> None:
    if request.session.get(LOGIN_RECORDED_SESSION_KEY):
        return
    values = {"email": user.email, "second_factor": second_factor}
    if source:
        values["source"] = source
    audit_record(
        action="auth.login_succeeded",
        organization=organization,
        actor=user,
        target=user,
        new=values,
        request=request,
    )
    request.session[LOGIN_RECORDED_SESSION_KEY] = True
    # A break-glass login past single-sign-on-only is told to every admin once complete.
    sso_break_glass_login_record(request=request, user=user)


def record_login_success(*, request: HttpRequest, user: User, second_factor: str) -> None:
    """Record a completed login (once per session) in the person's organization's log."""
    _record_login(
        request=request,
        user=user,
        second_factor=second_factor,
        organization=_organization_of(user, request),
    )


# --- The password step -------------------------------------------------------------


@dataclass(frozen=True)
class PasswordOutcome:
    user: User | None
    next_step: NextStep | None = None
    locked_out: bool = False
    credentials: dict[str, Any] = field(default_factory=dict)
    # Set when the password was right but the person's organization signs in only
    # through this identity provider.
    sso_only: OIDCProvider | None = None


def session_login_password(*, request: HttpRequest, email: str, password: str) -> PasswordOutcome:
    """Check the e-mail address and password; on success log the person in.

    django-axes counts failures per address and source: at the limit the outcome
    says ``locked_out`` and every further attempt is refused until the cool-off
    ends, whatever the password. ``next_step`` tells the view where the login
    continues: ``done``, ``verify`` (enter a code) or ``enrol`` (set up an app).
    """
    email = normalize_email(email)
    credentials = {"username": email}
    with transaction.atomic():
        # ``request=`` lets AxesStandaloneBackend refuse a locked-out attempt before
        # the password is even checked, and lets axes count this one if it fails.
        user = authenticate(request=request, username=email, password=password)
        if user is None:
            locked = bool(getattr(request, "axes_locked_out", False))
            _record_password_failure(request=request, email=email, locked=locked)
            return PasswordOutcome(user=None, locked_out=locked, credentials=credentials)
        assert isinstance(user, User)
        organization = _organization_of(user)
        policy = sso_password_policy(user)
        if policy.refused_by is not None:
            audit_record(
                action="sso.password_refused",
                organization=policy.refused_by.organization,
                actor=user,
                target=user,
                new={"email": email, "provider": policy.refused_by.display_name},
                request=request,
            )
            return PasswordOutcome(user=None, credentials=credentials, sso_only=policy.refused_by)
        login(request, user)  # rotates the session key against session fixation
        if policy.break_glass:
            # Past single sign-on with a password: a second factor is a must, whatever
            # the organization's policy, and the login is recorded loudly once proved.
            request.session[SESSION_SECOND_FACTOR_FORCED] = True
            request.session[BREAK_GLASS_SESSION_KEY] = [org.pk for org in policy.break_glass]
        if not second_factor_required(user) and not policy.break_glass:
            _record_login(
                request=request,
                user=user,
                second_factor="not required",
                organization=organization,
            )
            return PasswordOutcome(user=user, next_step="done", credentials=credentials)
        next_step: NextStep = "verify" if django_otp.user_has_device(user) else "enrol"
        # Recorded on its own: a password accepted but never followed by a code is
        # what a stolen password looks like in the log.
        audit_record(
            action="auth.password_accepted",
            organization=organization,
            actor=user,
            target=user,
            new={"email": email, "next_step": next_step},
            request=request,
        )
        return PasswordOutcome(user=user, next_step=next_step, credentials=credentials)


def _record_password_failure(*, request: HttpRequest, email: str, locked: bool) -> None:
    known = User.objects.filter(email=email).first()
    failures = getattr(request, "axes_failures_since_start", None)
    just_locked = locked and failures == get_failure_limit(request, {"username": email})
    if locked and not just_locked:
        reason = "locked_out"  # refused unchecked: the password was never compared
    elif known is None:
        reason = "unknown_email"
    elif not known.is_active:
        reason = "account_inactive"
    else:
        reason = "wrong_password"
    values: dict[str, Any] = {"email": email, "reason": reason}
    if failures is not None:
        values["failures"] = failures
    common: dict[str, Any] = {
        "organization": _organization_of(known),
        "new": values,
        "request": request,
        "actor_label": ANONYMOUS_ACTOR_LABEL,
    }
    if known is not None:
        common["target"] = known
    # Every refused attempt is a failure (those made during a lockout too); the one
    # that reaches the limit is the lockout as well.
    audit_record(action="auth.login_failed", **common)
    if just_locked:
        audit_record(action="auth.locked_out", **common)


def lockout_wait(request: HttpRequest, credentials: dict[str, Any] | None) -> timedelta:
    """How long until the locked address and source may try again."""
    cool_off = get_cool_off(request) or timedelta(0)
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    attempts = AccessAttempt.objects.filter(username=normalize_email(str(username)))
    ip_address = getattr(request, "axes_ip_address", None)
    if ip_address:
        attempts = attempts.filter(ip_address=ip_address)
    last = attempts.aggregate(last=Max("attempt_time"))["last"]
    if last is None:
        return cool_off
    return max(last + cool_off - timezone.now(), timedelta(0))


# --- Codes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeCheck:
    """The outcome of checking a code: the device that accepted it, or why none did."""

    device: Device | None
    reason: FailureReason | None = None
    wait_seconds: int = 0
    backup_codes_left: int | None = None

    @property
    def ok(self) -> bool:
        return self.device is not None

    @property
    def used_backup_code(self) -> bool:
        return isinstance(self.device, BackupCodeDevice)


def _candidate_devices(user: User, code: str) -> list[Device]:
    # Route by shape, so a wrong backup code does not count against the
    # authenticator's throttle and the other way round.
    totp = [
        device
        for device in TOTPDevice.objects.devices_for_user(user, confirmed=True)
        if code.isdigit() and len(code) == device.digits
    ]
    if totp:
        return totp
    return list(BackupCodeDevice.objects.devices_for_user(user, confirmed=True))


def _check_code(user: User, code: str, devices: list[Device] | None = None) -> CodeCheck:
    """Try ``code`` on the person's devices, honouring django-otp's throttling.

    Each wrong code doubles the wait before the device accepts another try
    (1, 2, 4, 8 … seconds), so guessing six digits is hopeless.
    """
    code = normalize_code(code)
    candidates = devices if devices is not None else _candidate_devices(user, code)
    waits: list[int] = []
    tried = False
    for device in candidates:
        allowed, info = device.verify_is_allowed()
        if not allowed:
            locked_until = (info or {}).get("locked_until")
            seconds = (locked_until - timezone.now()).total_seconds() if locked_until else 1
            waits.append(max(1, math.ceil(seconds)))
            continue
        tried = True
        # django_otp.verify_token locks the device row, so two requests cannot
        # both spend the same backup code or the same TOTP time step.
        verified = django_otp.verify_token(user, device.persistent_id, code)
        if verified is not None:
            left = (
                BackupCode.objects.filter(device=verified).count()
                if isinstance(verified, BackupCodeDevice)
                else None
            )
            return CodeCheck(device=verified, backup_codes_left=left)
    if waits and not tried:
        return CodeCheck(device=None, reason="throttled", wait_seconds=min(waits))
    return CodeCheck(device=None, reason="wrong_code")


def _record_code_failure(
    *, request: HttpRequest, user: User, check: CodeCheck, stage: str, code: str
) -> None:
    audit_record(
        action="auth.2fa_failed",
        organization=_organization_of(user, request),
        actor=user,
        target=user,
        new={
            "stage": stage,
            "reason": check.reason,
            "kind": "authenticator app" if normalize_code(code).isdigit() else "backup code",
        },
        request=request,
    )


def _record_backup_code_used(
    *, request: HttpRequest, user: User, check: CodeCheck, stage: str
) -> None:
    audit_record(
        action="auth.backup_code_used",
        organization=_organization_of(user, request),
        actor=user,
        target=user,
        new={"stage": stage, "backup_codes_left": check.backup_codes_left},
        request=request,
    )


def _mark_verified(request: HttpRequest, device: Device) -> None:
    django_otp.login(request, device)
    # The session just gained the right to everything: give it a new key.
    request.session.cycle_key()


# --- A code typed again for one sensitive act (revealing a vault secret) ----------


def otp_check_fresh_code(*, request: HttpRequest, user: User, code: str, stage: str) -> CodeCheck:
    """Check a code typed again for a sensitive act: only the authenticator app counts
    (a backup code is for getting in, not for re-proving who is at the keyboard).

    A wrong code is audited and throttled like one at login. A right one proves
    this one act only: nothing is remembered in the session.
    """
    code = normalize_code(code)
    devices: list[Device] = [
        device
        for device in TOTPDevice.objects.devices_for_user(user, confirmed=True)
        if code.isdigit() and len(code) == device.digits
    ]
    check = _check_code(user, code, devices=devices)
    if not check.ok:
        _record_code_failure(request=request, user=user, check=check, stage=stage, code=code)
    return check


def session_verify_code(*, request: HttpRequest, user: User, code: str) -> CodeCheck:
    """The second login step: a code from the authenticator app, or a backup code."""
    with transaction.atomic():
        check = _check_code(user, code)
        if not check.ok:
            _record_code_failure(request=request, user=user, check=check, stage="login", code=code)
            return check
        assert check.device is not None
        _mark_verified(request, check.device)
        if check.used_backup_code:
            _record_backup_code_used(request=request, user=user, check=check, stage="login")
        _record_login(
            request=request,
            user=user,
            second_factor="backup code" if check.used_backup_code else "authenticator app",
            organization=_organization_of(user, request),
        )
        return check


# --- Enrolment and backup codes ----------------------------------------------------


def totp_device_prepare(*, user: User) -> TOTPDevice:
    """The authenticator being set up: made unconfirmed on the first visit, then reused,
    so reloading the page keeps the QR code the person may already have scanned.

    Not audited: an unconfirmed device proves nothing and unlocks nothing; the
    entry is written when it is confirmed.
    """
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def totp_secret_groups(device: TOTPDevice) -> list[str]:
    """The secret as authenticator apps take it when typed: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return [secret[i : i + 4] for i in range(0, len(secret), 4)]


@dataclass(frozen=True)
class EnrolOutcome:
    check: CodeCheck
    backup_codes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.check.ok


def totp_device_confirm(
    *, request: HttpRequest, user: User, device: TOTPDevice, code: str
) -> EnrolOutcome:
    """Confirm a new authenticator with a code it made; hand out fresh backup codes.

    The session counts as verified from here on, and the login (if this
    enrolment completed one) is recorded.
    """
    with transaction.atomic():
        pending = (
            TOTPDevice.objects.select_for_update()
            .filter(pk=device.pk, user=user, confirmed=False)
            .first()
        )
        check = (
            _check_code(user, code, devices=[pending])
            if pending is not None and normalize_code(code).isdigit()
            else CodeCheck(device=None, reason="wrong_code")
        )
        if not check.ok or pending is None:
            _record_code_failure(
                request=request, user=user, check=check, stage="enrolment", code=code
            )
            return EnrolOutcome(check=check)
        pending.refresh_from_db()
        pending.confirmed = True
        pending.save(update_fields=["confirmed"])
        TOTPDevice.objects.devices_for_user(user, confirmed=False).delete()
        codes = _replace_backup_codes(user)
        _mark_verified(request, pending)
        organization = _organization_of(user, request)
        audit_record(
            action="auth.2fa_enrolled",
            organization=organization,
            actor=user,
            target=user,
            new={"device": pending.name, "backup_codes": len(codes)},
            request=request,
        )
        _record_login(
            request=request,
            user=user,
            second_factor="authenticator app (just set up)",
            organization=organization,
        )
        return EnrolOutcome(check=CodeCheck(device=pending), backup_codes=codes)


def _replace_backup_codes(user: User) -> list[str]:
    """Ten new backup codes in place of the old ones. The codes are returned to be
    shown once; only their salted hashes are stored."""
    # The device is kept and only its codes replaced: a session verified with a
    # backup code points at this device, and would stop counting as verified
    # if the device went away.
    device = BackupCodeDevice.objects.filter(user=user).order_by("pk").first()
    if device is None:
        device = BackupCodeDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
    BackupCodeDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    BackupCode.objects.filter(device=device).delete()
    if not device.confirmed or device.throttling_failure_count:
        device.confirmed = True
        device.throttle_reset(commit=False)
        device.save(
            update_fields=["confirmed", "throttling_failure_count", "throttling_failure_timestamp"]
        )
    codes: list[str] = []
    while len(codes) < BACKUP_CODE_COUNT:
        code = random_backup_code()
        if code not in codes:
            codes.append(code)
    BackupCode.objects.bulk_create(
        [BackupCode(device=device, code_hash=backup_code_hash(code)) for code in codes]
    )
    return codes


def backup_codes_regenerate(*, request: HttpRequest, user: User, code: str) -> EnrolOutcome:
    """Replace every backup code with ten new ones, given a current code.

    Asking for a code again means a session left open on a shared computer is not
    enough to mint new codes.
    """
    with transaction.atomic():
        check = _check_code(user, code)
        if not check.ok:
            _record_code_failure(
                request=request, user=user, check=check, stage="backup codes", code=code
            )
            return EnrolOutcome(check=check)
        if check.used_backup_code:
            _record_backup_code_used(request=request, user=user, check=check, stage="backup codes")
        codes = _replace_backup_codes(user)
        audit_record(
            action="auth.backup_codes_regenerated",
            organization=_organization_of(user, request),
            actor=user,
            target=user,
            new={"backup_codes": len(codes)},
            request=request,
        )
        return EnrolOutcome(check=check, backup_codes=codes)


def session_logout(*, request: HttpRequest) -> None:
    """End the session (and with it the second-factor verification)."""
    with transaction.atomic():
        user = request.user
        if user.is_authenticated:
            assert isinstance(user, User)
            audit_record(
                action="auth.logout",
                organization=_organization_of(user, request),
                actor=user,
                target=user,
                request=request,
            )
        logout(request)


# --- Reads for the security page -----------------------------------------------------


def totp_device_active(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk").first()


def backup_codes_left(user: User) -> int:
    return BackupCode.objects.filter(device__user=user, device__confirmed=True).count()
