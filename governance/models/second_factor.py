"""Second factors whose secrets a database dump does not give away.

django-otp's own TOTP and static-token models keep the authenticator's key and
every backup code as readable text, so anyone holding a copy of the database
(a backup, a replica, a leaked dump) could log in as anyone. These two devices
take their place:

- ``TOTPDevice`` keeps the key in an ``EncryptedTextField`` (the same
  MultiFernet keys as every other secret, re-encrypted by
  ``manage.py rotate_encryption_keys``); the TOTP arithmetic is django-otp's.
- ``BackupCodeDevice`` keeps each backup code only as a salted PBKDF2 hash: a
  code is shown once, when it is made, and afterwards can only be checked.

Both are django-otp devices (``django_otp.devices_for_user``, ``verify_token``,
throttling, the session's persistent id) so login, enrolment and the OTP
middleware work with them unchanged.
"""

from __future__ import annotations

import time
from base64 import b32encode
from binascii import unhexlify
from os import urandom
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP
from django_otp.util import random_hex

from governance.fields import EncryptedTextField

__all__ = [
    "BACKUP_CODE_HASH_ITERATIONS",
    "BackupCode",
    "BackupCodeDevice",
    "TOTPDevice",
    "backup_code_hash",
    "random_backup_code",
    "totp_default_key",
]

# A backup code carries 40 random bits; at this cost a stolen hash takes months of
# a GPU to reverse, while checking a typed code against ten stored hashes stays
# well under a second.
BACKUP_CODE_HASH_ITERATIONS = 60_000


_D = TypeVar("_D", bound=models.Model)


class DeviceManager(models.Manager[_D]):
    """django-otp's device manager (``devices_for_user``), typed for our devices."""

    def devices_for_user(self, user: Any, confirmed: bool | None = None) -> models.QuerySet[_D]:
        devices = self.filter(user=user)
        if confirmed is not None:
            devices = devices.filter(confirmed=bool(confirmed))
        return devices


def totp_default_key() -> str:
    """20 random bytes, hex-encoded (the RFC 6238 key size for HMAC-SHA1)."""
    return random_hex(20)


class TOTPDevice(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app (RFC 6238 TOTP) whose key is encrypted at rest."""

    key = EncryptedTextField(
        default=totp_default_key, help_text="A hex-encoded secret key of up to 40 bytes."
    )
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    # The time step of the newest accepted code: a code is accepted only once.
    last_t = models.BigIntegerField(default=-1)

    objects: DeviceManager[TOTPDevice] = DeviceManager()

    class Meta(Device.Meta):
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")

    @property
    def bin_key(self) -> bytes:
        return unhexlify(self.key.encode())

    def get_throttle_factor(self) -> int:
        return int(getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1))

    def verify_token(self, token: Any) -> bool:
        """django-otp's TOTP check: within ``tolerance`` steps, never a step twice."""
        allowed, _info = self.verify_is_allowed()
        if not allowed:
            return False
        try:
            value = int(token)
        except (TypeError, ValueError):
            verified = False
        else:
            totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
            totp.time = time.time()
            verified = bool(totp.verify(value, self.tolerance, self.last_t + 1))
            if verified:
                self.last_t = totp.t()
                if getattr(settings, "OTP_TOTP_SYNC", True):
                    self.drift = totp.drift
                self.throttle_reset(commit=False)
                self.set_last_used_timestamp(commit=False)
                self.save()
        if not verified:
            self.throttle_increment(commit=True)
        return verified

    @property
    def config_url(self) -> str:
        """The otpauth:// address an authenticator app reads from the QR code."""
        label = str(self.user.get_username())
        params = urlencode(
            {
                "secret": b32encode(self.bin_key),
                "algorithm": "SHA1",
                "digits": self.digits,
                "period": self.step,
            }
        )
        issuer = getattr(settings, "OTP_TOTP_ISSUER", "")
        if isinstance(issuer, str) and issuer:
            issuer = issuer.replace(":", "")
            label = f"{issuer}:{label}"
            params += f"&issuer={quote(issuer)}"
        return f"otpauth://totp/{quote(label)}?{params}"


def random_backup_code() -> str:
    """Eight base32 characters (40 random bits), lower case, at least one a letter
    so that a backup code never looks like an authenticator code."""
    while True:
        code = b32encode(urandom(5)).decode("ascii").lower()
        if not code.isdigit():
            return code


def backup_code_hash(code: str) -> str:
    """A salted PBKDF2-SHA256 hash of ``code`` (a fresh salt for every code)."""
    hasher = PBKDF2PasswordHasher()
    return hasher.encode(code, hasher.salt(), iterations=BACKUP_CODE_HASH_ITERATIONS)


class BackupCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """A person's one-time backup codes, each stored only as a salted hash."""

    objects: DeviceManager[BackupCodeDevice] = DeviceManager()

    class Meta(Device.Meta):
        verbose_name = _("backup codes")
        verbose_name_plural = _("backup codes")

    def get_throttle_factor(self) -> int:
        return int(getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1))

    def verify_token(self, token: Any) -> bool:
        """Spend the code if it is one of this device's: its hash is deleted, so the
        same code never works twice. Callers hold the device row lock
        (``django_otp.verify_token`` takes it), so two requests cannot both spend it."""
        allowed, _info = self.verify_is_allowed()
        if not allowed:
            return False
        code = str(token)
        hasher = PBKDF2PasswordHasher()
        match = next(
            (stored for stored in self.code_set.all() if hasher.verify(code, stored.code_hash)),
            None,
        )
        if match is None:
            self.throttle_increment()
            return False
        match.delete()
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class BackupCode(models.Model):
    """One unspent backup code, as a salted hash; deleted when it is used."""

    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="code_set")
    code_hash = models.CharField(max_length=128)

    class Meta:
        verbose_name = _("backup code")
        verbose_name_plural = _("backup codes")

    def __str__(self) -> str:
        return f"backup code #{self.pk}"
