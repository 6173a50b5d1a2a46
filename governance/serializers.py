"""API shapes for governance: people, the organization, the audit log and API tokens.

Serializers only describe and validate input; every write goes through a service.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.models import ApiToken, AuditEvent, Invitation, Membership, Organization, Role
from governance.services.tokens import NAME_MAX_LENGTH


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")


class ApiTokenStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    REVOKED = "revoked", _("Revoked")


def _validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise serializers.ValidationError(_("Unknown time zone."))


class OrganizationBriefSerializer(serializers.ModelSerializer[Organization]):
    class Meta:
        model = Organization
        fields = ["id", "name", "slug"]
        read_only_fields = fields


class UserBriefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(read_only=True)
    full_name = serializers.CharField(read_only=True)


class MeSerializer(serializers.Serializer[Any]):
    """The caller: their profile, and the organization and role the request acts in."""

    id = serializers.IntegerField(source="user.id", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.full_name", read_only=True)
    preferred_language = serializers.CharField(source="user.preferred_language", read_only=True)
    time_zone = serializers.CharField(source="user.time_zone", read_only=True)
    organization = OrganizationBriefSerializer(
        source="membership.organization", read_only=True, allow_null=True
    )
    role = serializers.ChoiceField(
        source="membership.role", choices=Role.choices, read_only=True, allow_null=True
    )


class OrganizationSerializer(serializers.ModelSerializer[Organization]):
    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "slug",
            "time_zone",
            "default_language",
            "require_2fa",
            "created_at",
        ]
        read_only_fields = fields


class OrganizationUpdateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200, required=False)
    time_zone = serializers.CharField(
        max_length=64, required=False, validators=[_validate_time_zone]
    )
    default_language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)
    require_2fa = serializers.BooleanField(required=False)
    disable_2fa_confirmation = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        help_text=_(
            "Needed to turn require_2fa off: the organization's current name, as confirmation."
        ),
    )

    def validate_name(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError(_("The organization needs a name."))
        return value


class MemberSerializer(serializers.ModelSerializer[Membership]):
    user = UserBriefSerializer(read_only=True)
    channel_accounts = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = [
            "id",
            "user",
            "role",
            "all_accounts",
            "channel_accounts",
            "is_active",
            "joined_at",
            "deactivated_at",
            "leaving_on",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_channel_accounts(self, membership: Membership) -> list[int]:
        """Ids of the accounts a limited member may use (empty when ``all_accounts``)."""
        if membership.all_accounts:
            return []
        # Reads the prefetched relation when the selector prefetched it.
        return sorted(account.pk for account in membership.channel_accounts.all())


class MemberUpdateSerializer(serializers.Serializer[Any]):
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    all_accounts = serializers.BooleanField(
        required=False,
        help_text=_("False limits an editor or reviewer to the listed channel accounts."),
    )
    channel_accounts = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        help_text=_("Ids of the channel accounts a limited member may use."),
    )
    leaving_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=_("The day the member leaves, so their handover can be planned."),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("all_accounts") and attrs.get("channel_accounts"):
            raise serializers.ValidationError(
                {"channel_accounts": [_("Leave this empty when all_accounts is true.")]}
            )
        if attrs.get("all_accounts") is False and not attrs.get("channel_accounts"):
            raise serializers.ValidationError(
                {"channel_accounts": [_("List the accounts a limited member may use.")]}
            )
        return attrs


class MemberDeactivateSerializer(serializers.Serializer[Any]):
    leaving_on = serializers.DateField(required=False, allow_null=True)


class InvitationCreateSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices, default=Role.EDITOR)
    channel_accounts = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        default=list,
        help_text=_(
            "Ids of channel accounts to limit an editor or reviewer to; "
            "leave empty for all accounts."
        ),
    )

    def validate_email(self, value: str) -> str:
        return value.strip().lower()


class InvitationSerializer(serializers.ModelSerializer[Invitation]):
    channel_accounts = serializers.ListField(
        source="channel_account_ids", child=serializers.IntegerField(), read_only=True
    )
    invited_by = serializers.EmailField(source="invited_by.email", read_only=True, allow_null=True)
    status = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "role",
            "all_accounts",
            "channel_accounts",
            "invited_by",
            "status",
            "created_at",
            "expires_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=InvitationStatus.choices))
    def get_status(self, invitation: Invitation) -> str:
        if invitation.accepted_at is not None:
            return InvitationStatus.ACCEPTED
        if invitation.revoked_at is not None:
            return InvitationStatus.REVOKED
        if invitation.is_expired:
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING


class AuditEventFilterSerializer(serializers.Serializer[Any]):
    """The audit log's query parameters."""

    actor = serializers.IntegerField(required=False, help_text=_("User id of the actor."))
    action = serializers.CharField(
        required=False, help_text=_("Exact action code, e.g. member.role_changed.")
    )
    since = serializers.DateTimeField(
        required=False, help_text=_("Entries at or after this time (ISO 8601).")
    )
    until = serializers.DateTimeField(
        required=False, help_text=_("Entries before this time (ISO 8601).")
    )


class AuditEventSerializer(serializers.ModelSerializer[AuditEvent]):
    actor = serializers.IntegerField(source="actor_id", read_only=True, allow_null=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "action",
            "actor",
            "actor_label",
            "target_type",
            "target_id",
            "target_label",
            "old_values",
            "new_values",
            "ip_address",
            "seq",
            "key_id",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields


class ApiTokenSerializer(serializers.ModelSerializer[ApiToken]):
    """A token as listed: never the token itself, which only its creator saw, once."""

    status = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "status", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=ApiTokenStatus.choices))
    def get_status(self, token: ApiToken) -> str:
        return ApiTokenStatus.ACTIVE if token.is_active else ApiTokenStatus.REVOKED


class ApiTokenCreateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(
        max_length=NAME_MAX_LENGTH,
        help_text=_("What the token is for, e.g. 'Weekly report script'."),
    )


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(
        read_only=True,
        help_text=_("The token. Shown this once: store it now, it cannot be shown again."),
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields
