"""The account registry: every official account of the organization, connected to the
app or not, with the people who answer for it and the people who can get into it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RegistryNetwork(models.TextChoices):
    """Networks an official account can live on. Connected accounts use the connector's
    name (``mastodon``, ``bluesky``, ``sandbox``); the rest are run natively."""

    FACEBOOK = "facebook", _("Facebook")
    INSTAGRAM = "instagram", _("Instagram")
    X = "x", _("X (Twitter)")
    LINKEDIN = "linkedin", _("LinkedIn")
    YOUTUBE = "youtube", _("YouTube")
    TIKTOK = "tiktok", _("TikTok")
    THREADS = "threads", _("Threads")
    MASTODON = "mastodon", _("Mastodon")
    BLUESKY = "bluesky", _("Bluesky")
    SANDBOX = "sandbox", _("Sandbox (training)")
    OTHER = "other", _("Other")


class ReviewCadence(models.IntegerChoices):
    """How often the list of people with access is checked, in months."""

    MONTHLY = 1, _("Every month")
    QUARTERLY = 3, _("Every three months")
    HALF_YEARLY = 6, _("Every six months")
    YEARLY = 12, _("Every year")


class RegistryEntry(models.Model):
    """One official account, and who answers for it.

    The three owners are members of the organization. ``next_review_due`` is kept
    on the row (not computed) so the daily reminder finds due reviews with one
    indexed query; ``review_reminded_for`` holds the due date a reminder was sent
    for, so each due review is announced once.
    """

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="registry_entries"
    )
    network = models.CharField(_("network"), max_length=32, choices=RegistryNetwork.choices)
    handle = models.CharField(_("handle or address"), max_length=255)
    display_name = models.CharField(_("name"), max_length=255, blank=True)
    purpose = models.TextField(_("purpose"), blank=True)
    business_owner = models.ForeignKey(
        "governance.Membership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="registry_entries_owned",
        verbose_name=_("business owner"),
    )
    technical_custodian = models.ForeignKey(
        "governance.Membership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="registry_entries_in_custody",
        verbose_name=_("technical custodian"),
    )
    backup_owner = models.ForeignKey(
        "governance.Membership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="registry_entries_backed_up",
        verbose_name=_("backup owner"),
    )
    # The address or user name the native login uses; a role mailbox is recommended.
    login_identity = models.CharField(_("login identity"), max_length=254, blank=True)
    two_factor_location = models.CharField(
        _("where the two-factor authentication lives"), max_length=255, blank=True
    )
    two_factor_holder = models.ForeignKey(
        "governance.Membership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="registry_two_factor_held",
        verbose_name=_("person holding the two-factor device"),
    )
    review_cadence_months = models.PositiveSmallIntegerField(
        _("access review cadence"), choices=ReviewCadence.choices, default=ReviewCadence.QUARTERLY
    )
    last_reviewed_at = models.DateTimeField(_("last access review"), null=True, blank=True)
    next_review_due = models.DateField(_("next access review due"), db_index=True)
    review_reminded_for = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("registry entry")
        verbose_name_plural = _("registry entries")
        ordering = ["network", "handle"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "network", "handle"], name="uniq_registry_entry"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.handle} ({self.get_network_display()})"


class NativeAdmin(models.Model):
    """A person with direct access to the account on the network itself, member of the
    organization or not (an agency's consultant, a colleague in another unit)."""

    entry = models.ForeignKey(RegistryEntry, on_delete=models.CASCADE, related_name="native_admins")
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail address"), blank=True)
    role_on_network = models.CharField(_("role on the network"), max_length=100, blank=True)
    # Set when the e-mail address is an active member's; None for outsiders.
    membership = models.ForeignKey(
        "governance.Membership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="native_admin_of",
    )
    added_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("native platform admin")
        verbose_name_plural = _("native platform admins")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.email else self.name

    @property
    def is_member(self) -> bool:
        return self.membership_id is not None

    def as_person(self) -> dict[str, str]:
        """How the person is written into an access review's record."""
        return {"name": self.name, "email": self.email, "role": self.role_on_network}


class AccessReview(models.Model):
    """One completed check of who has access to an account: the record is the list as
    it was confirmed, with the people removed and added at that review."""

    entry = models.ForeignKey(
        RegistryEntry, on_delete=models.CASCADE, related_name="access_reviews"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(default=timezone.now)
    # Each a list of {"name", "email", "role"}.
    people_confirmed = models.JSONField(default=list, blank=True)
    people_removed = models.JSONField(default=list, blank=True)
    people_added = models.JSONField(default=list, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    next_due = models.DateField(_("next review due"))

    class Meta:
        verbose_name = _("access review")
        verbose_name_plural = _("access reviews")
        ordering = ["-reviewed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.entry} @ {self.reviewed_at:%Y-%m-%d}"
