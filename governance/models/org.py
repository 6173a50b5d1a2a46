from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Organization(models.Model):
    """One public body: a ministry, an agency, a municipality."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name"), max_length=64, unique=True)
    require_2fa = models.BooleanField(
        _("two-factor authentication required"),
        default=True,
        help_text=_("Members must log in with a second factor (authenticator app)."),
    )
    allow_passkey_sign_in = models.BooleanField(
        _("passkey sign-in allowed"),
        default=False,
        help_text=_(
            "Members may sign in with a passkey alone (it proves both who they are and a "
            "second factor). Passkeys always count as a second factor after the password."
        ),
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Helsinki")
    default_language = models.CharField(
        _("default language"), max_length=10, choices=settings.LANGUAGES, default="fi"
    )
    # ISO 3166-1 alpha-2; empty: the time zone's country (see governance.holidays).
    country = models.CharField(_("country"), max_length=2, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    MANAGER = "manager", _("Manager")
    EDITOR = "editor", _("Editor")
    REVIEWER = "reviewer", _("Reviewer")
    AUDITOR = "auditor", _("Auditor")


# Roles whose membership may be limited to some channel accounts.
LIMITABLE_ROLES = frozenset({Role.EDITOR, Role.REVIEWER})


class Membership(models.Model):
    """A user's place in an organization: the role, and optionally the accounts they may use.

    ``all_accounts`` False limits an editor or reviewer to the channel accounts
    linked through ``accounts.ChannelAccount.limited_members``.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.EDITOR)
    all_accounts = models.BooleanField(_("all channel accounts"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    joined_at = models.DateTimeField(default=timezone.now)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    leaving_on = models.DateField(_("leaving date"), null=True, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="uniq_membership"),
        ]
        ordering = ["organization", "user__email"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"


class Invitation(models.Model):
    """An e-mailed invitation to join an organization; the link holds a token stored hashed."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.EDITOR)
    all_accounts = models.BooleanField(_("all channel accounts"), default=True)
    # Channel account ids the invitee will be limited to when all_accounts is False.
    channel_account_ids = models.JSONField(default=list, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.organization}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and not self.is_expired

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()
