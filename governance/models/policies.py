"""Policies staff work by (tone of voice, hashtag sets, the signature rule, crisis
contacts) as versioned documents people acknowledge, and the review date of the
governance model itself."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PolicyKind(models.TextChoices):
    TONE_OF_VOICE = "tone_of_voice", _("Tone of voice")
    HASHTAGS = "hashtags", _("Hashtag sets")
    SIGNATURE = "signature", _("Signature rule")
    CRISIS_CONTACTS = "crisis_contacts", _("Crisis contacts")
    OTHER = "other", _("Other guideline")


class Policy(models.Model):
    """A guideline; its text lives in versions, the newest published one is current."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="policies"
    )
    kind = models.CharField(
        _("kind"), max_length=32, choices=PolicyKind.choices, default=PolicyKind.OTHER
    )
    title = models.CharField(_("title"), max_length=200)
    current_version = models.ForeignKey(
        "governance.PolicyVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("policy")
        verbose_name_plural = _("policies")
        ordering = ["title", "pk"]

    def __str__(self) -> str:
        return self.title


class PolicyVersion(models.Model):
    """One published text of a policy. Versions are never edited: a change is a new one."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    body = models.TextField(_("text"))
    change_note = models.CharField(_("what changed"), max_length=300, blank=True)
    published_at = models.DateTimeField(_("published"), default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("policy version")
        verbose_name_plural = _("policy versions")
        ordering = ["policy", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="uniq_policy_version"),
        ]

    def __str__(self) -> str:
        return f"{self.policy} v{self.number}"


class PolicyAcknowledgement(models.Model):
    """A member's statement that they have read one version of a policy."""

    version = models.ForeignKey(
        PolicyVersion, on_delete=models.CASCADE, related_name="acknowledgements"
    )
    membership = models.ForeignKey(
        "governance.Membership", on_delete=models.CASCADE, related_name="policy_acknowledgements"
    )
    acknowledged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("policy acknowledgement")
        verbose_name_plural = _("policy acknowledgements")
        ordering = ["-acknowledged_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "membership"], name="uniq_policy_acknowledgement"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.membership} read {self.version}"


class GovernanceReview(models.Model):
    """The organization's schedule for reviewing its governance model as a whole (who
    owns what, the cadences, the policies), with a reminder when it falls due."""

    organization = models.OneToOneField(
        "governance.Organization", on_delete=models.CASCADE, related_name="governance_review"
    )
    cadence_months = models.PositiveSmallIntegerField(_("review every (months)"), default=12)
    due_on = models.DateField(_("next review due"))
    last_reviewed_at = models.DateTimeField(_("last reviewed"), null=True, blank=True)
    last_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes = models.TextField(_("notes of the last review"), blank=True)
    reminded_for = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("governance model review")
        verbose_name_plural = _("governance model reviews")

    def __str__(self) -> str:
        return f"{self.organization}: due {self.due_on:%Y-%m-%d}"
