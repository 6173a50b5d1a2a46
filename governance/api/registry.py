"""REST API (/api/v1/) for the account registry, access reviews, the credential vault,
the risk report and policies.

Same access rules and services as the pages. Revealing a vault secret follows the
page's rules unchanged: ``vault.reveal``, a reason, and ``otp_code``, a code from
the caller's authenticator app sent with the call itself (a session or an API token
is never a second factor for this).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api.organization import READ_ERRORS, WRITE_ERRORS, service_errors
from governance.models import (
    AccessReview,
    Membership,
    NativeAdmin,
    Organization,
    Policy,
    PolicyKind,
    RegistryEntry,
    RegistryNetwork,
    ReviewCadence,
    SecretKind,
    VaultSecret,
)
from governance.selectors.access import request_membership, require_perm
from governance.selectors.access import request_user as _actor
from governance.selectors.policies import (
    policies_for_member,
    policy_acknowledged_by,
    policy_get,
)
from governance.selectors.registry import (
    IDENTITY_KINDS,
    access_reviews_for_entry,
    connected_account_for_entry,
    login_identity_check,
    native_admin_get,
    registry_entries_for_org,
    registry_entry_can_review,
    registry_entry_can_view,
    registry_entry_get,
    registry_people_choices,
)
from governance.selectors.risks import risk_report_for_org
from governance.selectors.vault import vault_reveal_history, vault_secret_get, vault_secrets_for_org
from governance.services.policies import policy_acknowledge, policy_create
from governance.services.registry import (
    PersonInput,
    RegistryEntryData,
    access_review_record,
    native_admin_add,
    native_admin_remove,
    registry_entry_create,
    registry_entry_delete,
    registry_entry_update,
)
from governance.services.vault import VaultSecretData, vault_secret_create, vault_secret_reveal

_PEOPLE_FIELDS = ("business_owner", "technical_custodian", "backup_owner", "two_factor_holder")


# ---------------------------------------------------------------------------
# Serializers


class PersonRefSerializer(serializers.Serializer[Membership]):
    """A member named in an entry: the membership id, with who it is."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="user.get_full_name", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)


class NativeAdminSerializer(serializers.ModelSerializer[NativeAdmin]):
    is_member = serializers.BooleanField(read_only=True)

    class Meta:
        model = NativeAdmin
        fields = ["id", "name", "email", "role_on_network", "is_member", "added_at"]
        read_only_fields = fields


class PersonInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    role_on_network = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("name") and not attrs.get("email"):
            raise serializers.ValidationError(_("Give a name or an e-mail address."))
        return attrs


class LoginIdentityCheckSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=IDENTITY_KINDS, read_only=True)
    reason = serializers.CharField(read_only=True)


class ConnectedAccountSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk", read_only=True)
    network = serializers.CharField(read_only=True)
    handle = serializers.CharField(read_only=True)
    # "name", not "label": a serializer field cannot be called label (Field.label).
    name = serializers.CharField(source="label", read_only=True)
    status = serializers.CharField(source="status_label", read_only=True)


class RegistryEntrySerializer(serializers.ModelSerializer[RegistryEntry]):
    business_owner = PersonRefSerializer(read_only=True, allow_null=True)
    technical_custodian = PersonRefSerializer(read_only=True, allow_null=True)
    backup_owner = PersonRefSerializer(read_only=True, allow_null=True)
    two_factor_holder = PersonRefSerializer(read_only=True, allow_null=True)
    native_admins = NativeAdminSerializer(many=True, read_only=True)
    login_identity_check = LoginIdentityCheckSerializer(read_only=True)
    connected_account = ConnectedAccountSerializer(read_only=True, allow_null=True)
    vault_secrets = serializers.PrimaryKeyRelatedField[VaultSecret](many=True, read_only=True)

    class Meta:
        model = RegistryEntry
        fields = [
            "id",
            "network",
            "handle",
            "display_name",
            "purpose",
            "business_owner",
            "technical_custodian",
            "backup_owner",
            "login_identity",
            "login_identity_check",
            "two_factor_location",
            "two_factor_holder",
            "native_admins",
            "vault_secrets",
            "connected_account",
            "review_cadence_months",
            "last_reviewed_at",
            "next_review_due",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class RegistryEntryWriteSerializer(serializers.Serializer[Any]):
    network = serializers.ChoiceField(choices=RegistryNetwork.choices)
    handle = serializers.CharField(max_length=255)
    display_name = serializers.CharField(max_length=255, required=False, allow_blank=True)
    purpose = serializers.CharField(required=False, allow_blank=True)
    business_owner = serializers.IntegerField(
        required=False, allow_null=True, help_text="Membership id."
    )
    technical_custodian = serializers.IntegerField(
        required=False, allow_null=True, help_text="Membership id."
    )
    backup_owner = serializers.IntegerField(
        required=False, allow_null=True, help_text="Membership id."
    )
    two_factor_holder = serializers.IntegerField(
        required=False, allow_null=True, help_text="Membership id."
    )
    login_identity = serializers.CharField(max_length=254, required=False, allow_blank=True)
    two_factor_location = serializers.CharField(max_length=255, required=False, allow_blank=True)
    review_cadence_months = serializers.ChoiceField(choices=ReviewCadence.choices, required=False)
    next_review_due = serializers.DateField(required=False, allow_null=True)
    channel_account = serializers.IntegerField(
        required=False, allow_null=True, help_text="Id of a connected channel account, or null."
    )
    native_admins = PersonInputSerializer(
        many=True, required=False, help_text="People with access on the network (create only)."
    )


class AccessReviewSerializer(serializers.ModelSerializer[AccessReview]):
    reviewer = serializers.EmailField(source="reviewer.email", read_only=True, allow_null=True)
    people_confirmed = serializers.ListField(child=serializers.DictField(), read_only=True)
    people_removed = serializers.ListField(child=serializers.DictField(), read_only=True)
    people_added = serializers.ListField(child=serializers.DictField(), read_only=True)

    class Meta:
        model = AccessReview
        fields = [
            "id",
            "reviewer",
            "reviewed_at",
            "people_confirmed",
            "people_removed",
            "people_added",
            "notes",
            "next_due",
        ]
        read_only_fields = fields


class AccessReviewCreateSerializer(serializers.Serializer[Any]):
    keep = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids of the native admins who still have access; the others are removed.",
    )
    added = PersonInputSerializer(many=True, required=False)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class VaultSecretSerializer(serializers.ModelSerializer[VaultSecret]):
    """A secret's description. The value is never in it."""

    known_by = PersonRefSerializer(many=True, read_only=True)

    class Meta:
        model = VaultSecret
        fields = [
            "id",
            "name",
            "kind",
            "registry_entry",
            "notes",
            "rotate_by",
            "last_rotated_at",
            "known_by",
            "created_at",
        ]
        read_only_fields = fields


class RevealEventSerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField(source="created_at", read_only=True)
    by = serializers.CharField(source="actor_label", read_only=True)
    revealed = serializers.BooleanField(read_only=True)
    reason = serializers.CharField(read_only=True)


class VaultSecretDetailSerializer(VaultSecretSerializer):
    reveal_history = RevealEventSerializer(many=True, read_only=True)

    class Meta(VaultSecretSerializer.Meta):
        fields = [*VaultSecretSerializer.Meta.fields, "reveal_history"]
        read_only_fields = fields


class VaultSecretCreateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=SecretKind.choices, default=SecretKind.PASSWORD)
    value = serializers.CharField(trim_whitespace=False, write_only=True)
    registry_entry = serializers.IntegerField(required=False, allow_null=True)
    rotate_by = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class VaultRevealSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500)
    otp_code = serializers.CharField(
        max_length=12,
        required=False,
        allow_blank=True,
        default="",
        help_text=(
            "The code your authenticator app shows now. Required with every reveal, "
            "whether the call comes with an API token or a browser session."
        ),
    )


VAULT_REVEALED_RESPONSE = inline_serializer(
    name="VaultSecretRevealed",
    fields={
        "id": serializers.IntegerField(),
        "name": serializers.CharField(),
        "value": serializers.CharField(),
    },
)


class RiskLineSerializer(serializers.Serializer[Any]):
    kind = serializers.CharField(read_only=True)
    kind_label = serializers.CharField(read_only=True)
    subject = serializers.CharField(read_only=True)
    detail = serializers.CharField(read_only=True)
    fix_url = serializers.CharField(read_only=True)
    fix_label = serializers.CharField(read_only=True)


class PolicyVersionSerializer(serializers.Serializer[Any]):
    number = serializers.IntegerField(read_only=True)
    body = serializers.CharField(read_only=True)
    change_note = serializers.CharField(read_only=True)
    published_at = serializers.DateTimeField(read_only=True)
    author = serializers.EmailField(source="author.email", read_only=True, allow_null=True)


class PolicySerializer(serializers.ModelSerializer[Policy]):
    current_version = PolicyVersionSerializer(read_only=True, allow_null=True)
    acknowledged = serializers.BooleanField(read_only=True)

    class Meta:
        model = Policy
        fields = ["id", "title", "kind", "current_version", "acknowledged", "created_at"]
        read_only_fields = fields


class PolicyCreateSerializer(serializers.Serializer[Any]):
    title = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=PolicyKind.choices, default=PolicyKind.OTHER)
    body = serializers.CharField()


POLICY_ACK_RESPONSE = inline_serializer(
    name="PolicyAcknowledgement",
    fields={
        "policy": serializers.IntegerField(),
        "version": serializers.IntegerField(),
        "acknowledged_at": serializers.DateTimeField(),
    },
)


# ---------------------------------------------------------------------------
# Registry


def _member_in_org(organization: Organization, field: str, pk: int | None) -> Membership | None:
    if pk is None:
        return None
    membership = registry_people_choices(organization).filter(pk=pk).first()
    if membership is None:
        raise exceptions.ValidationError(
            {field: [_("Choose an active member of the organization.")]}
        )
    return membership


def _entry_data(
    organization: Organization, data: dict[str, Any], entry: RegistryEntry | None
) -> RegistryEntryData:
    """The service's input: what the request gave, the rest as the entry has it."""

    def current(name: str, default: Any = "") -> Any:
        return getattr(entry, name) if entry is not None else default

    people = {
        name: (
            _member_in_org(organization, name, data[name]) if name in data else current(name, None)
        )
        for name in _PEOPLE_FIELDS
    }
    return RegistryEntryData(
        network=data.get("network", current("network")),
        handle=data.get("handle", current("handle")),
        display_name=data.get("display_name", current("display_name")),
        purpose=data.get("purpose", current("purpose")),
        login_identity=data.get("login_identity", current("login_identity")).strip(),
        two_factor_location=data.get("two_factor_location", current("two_factor_location")),
        review_cadence_months=int(
            data.get("review_cadence_months", current("review_cadence_months", 3))
        ),
        next_review_due=data.get("next_review_due", current("next_review_due", None)),
        **people,
    )


def _entry_payload(entry: RegistryEntry, organization: Organization) -> dict[str, Any]:
    fresh = registry_entry_get(organization, entry.pk)
    members = list(registry_people_choices(organization))
    fresh.login_identity_check = login_identity_check(fresh.login_identity, members)  # type: ignore[attr-defined]
    fresh.connected_account = connected_account_for_entry(fresh)  # type: ignore[attr-defined]
    return dict(RegistryEntrySerializer(fresh).data)


class RegistryEntryListView(APIView):
    @extend_schema(
        summary="The account registry",
        responses={200: RegistryEntrySerializer(many=True), **READ_ERRORS},
        tags=["registry"],
    )
    def get(self, request: Request) -> Response:
        membership = request_membership(request)
        require_perm(membership, "registry.view")
        organization = membership.organization
        members = list(registry_people_choices(organization))
        entries = list(
            registry_entries_for_org(organization).prefetch_related(
                "native_admins",
                Prefetch("vault_secrets", queryset=VaultSecret.objects.defer("value")),
            )
        )
        for entry in entries:
            entry.login_identity_check = login_identity_check(entry.login_identity, members)  # type: ignore[attr-defined]
            entry.connected_account = connected_account_for_entry(entry)  # type: ignore[attr-defined]
        return Response(RegistryEntrySerializer(entries, many=True).data)

    @extend_schema(
        summary="Add an account to the registry (admins)",
        request=RegistryEntryWriteSerializer,
        responses={201: RegistryEntrySerializer, **WRITE_ERRORS},
        tags=["registry"],
    )
    def post(self, request: Request) -> Response:
        membership = request_membership(request)
        require_perm(membership, "registry.manage")
        serializer = RegistryEntryWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        organization = membership.organization
        with service_errors():
            entry = registry_entry_create(
                organization=organization,
                actor=_actor(request),
                data=_entry_data(organization, data, None),
                channel_account_id=data.get("channel_account"),
                request=request._request,
            )
            for person in data.get("native_admins", []):
                native_admin_add(
                    entry=entry,
                    actor=_actor(request),
                    person=PersonInput(**person),
                    request=request._request,
                )
        return Response(_entry_payload(entry, organization), status=status.HTTP_201_CREATED)


def _entry_for(request: Request, pk: int) -> tuple[Membership, RegistryEntry]:
    membership = request_membership(request)
    return membership, registry_entry_get(membership.organization, pk)


class RegistryEntryDetailView(APIView):
    @extend_schema(
        summary="One registry entry",
        responses={200: RegistryEntrySerializer, **READ_ERRORS},
        tags=["registry"],
    )
    def get(self, request: Request, pk: int) -> Response:
        membership, entry = _entry_for(request, pk)
        if not registry_entry_can_view(membership, entry):
            raise PermissionDenied
        return Response(_entry_payload(entry, membership.organization))

    @extend_schema(
        summary="Change a registry entry (admins)",
        description="Give only what changes. channel_account null unlinks the connected account.",
        request=RegistryEntryWriteSerializer,
        responses={200: RegistryEntrySerializer, **WRITE_ERRORS},
        tags=["registry"],
    )
    def patch(self, request: Request, pk: int) -> Response:
        membership, entry = _entry_for(request, pk)
        require_perm(membership, "registry.manage")
        serializer = RegistryEntryWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "native_admins" in data:
            raise exceptions.ValidationError(
                {"native_admins": [_("Change people with access through native-admins/.")]}
            )
        with service_errors():
            registry_entry_update(
                entry=entry,
                actor=_actor(request),
                data=_entry_data(membership.organization, data, entry),
                channel_account_id=data.get("channel_account", "unchanged"),
                request=request._request,
            )
        return Response(_entry_payload(entry, membership.organization))

    @extend_schema(
        summary="Remove an account from the registry (admins)",
        responses={204: None, **READ_ERRORS},
        tags=["registry"],
    )
    def delete(self, request: Request, pk: int) -> Response:
        membership, entry = _entry_for(request, pk)
        require_perm(membership, "registry.manage")
        registry_entry_delete(entry=entry, actor=_actor(request), request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class NativeAdminListView(APIView):
    @extend_schema(
        summary="Record a person with access on the network (admins)",
        request=PersonInputSerializer,
        responses={201: NativeAdminSerializer, **WRITE_ERRORS},
        tags=["registry"],
    )
    def post(self, request: Request, pk: int) -> Response:
        membership, entry = _entry_for(request, pk)
        require_perm(membership, "registry.manage")
        serializer = PersonInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            admin = native_admin_add(
                entry=entry,
                actor=_actor(request),
                person=PersonInput(**serializer.validated_data),
                request=request._request,
            )
        return Response(NativeAdminSerializer(admin).data, status=status.HTTP_201_CREATED)


class NativeAdminDetailView(APIView):
    @extend_schema(
        summary="Remove a person from the list of people with access (admins)",
        responses={204: None, **READ_ERRORS},
        tags=["registry"],
    )
    def delete(self, request: Request, pk: int, admin_pk: int) -> Response:
        membership, entry = _entry_for(request, pk)
        require_perm(membership, "registry.manage")
        admin = native_admin_get(entry, admin_pk)
        native_admin_remove(admin=admin, actor=_actor(request), request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AccessReviewListView(APIView):
    @extend_schema(
        summary="Access reviews of one account, newest first",
        responses={200: AccessReviewSerializer(many=True), **READ_ERRORS},
        tags=["registry"],
    )
    def get(self, request: Request, pk: int) -> Response:
        membership, entry = _entry_for(request, pk)
        if not registry_entry_can_view(membership, entry):
            raise PermissionDenied
        return Response(AccessReviewSerializer(access_reviews_for_entry(entry), many=True).data)

    @extend_schema(
        summary="Record an access review",
        description=(
            "By an admin, or by the account's business owner, technical custodian or "
            "backup owner. keep lists the native admins who still have access; the "
            "others are removed. The next review falls due one cadence from today."
        ),
        request=AccessReviewCreateSerializer,
        responses={201: AccessReviewSerializer, **WRITE_ERRORS},
        tags=["registry"],
    )
    def post(self, request: Request, pk: int) -> Response:
        membership, entry = _entry_for(request, pk)
        if not registry_entry_can_review(membership, entry):
            raise PermissionDenied
        serializer = AccessReviewCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with service_errors():
            review = access_review_record(
                entry=entry,
                reviewer=_actor(request),
                keep_ids=set(data["keep"]),
                added=[PersonInput(**person) for person in data.get("added", [])],
                notes=data["notes"],
                request=request._request,
            )
        return Response(AccessReviewSerializer(review).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------
# Vault


class VaultSecretListView(generics.ListAPIView[VaultSecret]):
    serializer_class = VaultSecretSerializer

    def get_queryset(self) -> QuerySet[VaultSecret]:
        membership = request_membership(self.request)
        require_perm(membership, "vault.view")
        return vault_secrets_for_org(membership.organization)

    @extend_schema(
        summary="Secrets in the vault (never their values)",
        responses={200: VaultSecretSerializer(many=True), **READ_ERRORS},
        tags=["vault"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Store a secret (admins)",
        request=VaultSecretCreateSerializer,
        responses={201: VaultSecretSerializer, **WRITE_ERRORS},
        tags=["vault"],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership = request_membership(request)
        require_perm(membership, "vault.manage")
        serializer = VaultSecretCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        organization = membership.organization
        entry = None
        if data.get("registry_entry") is not None:
            entry = RegistryEntry.objects.filter(
                organization=organization, pk=data["registry_entry"]
            ).first()
            if entry is None:
                raise exceptions.ValidationError(
                    {"registry_entry": [_("Choose one of the organization's accounts.")]}
                )
        with service_errors():
            secret = vault_secret_create(
                organization=organization,
                actor=_actor(request),
                data=VaultSecretData(
                    name=data["name"],
                    kind=data["kind"],
                    notes=data["notes"],
                    registry_entry=entry,
                    rotate_by=data.get("rotate_by"),
                ),
                value=data["value"],
                request=request._request,
            )
        fresh = vault_secret_get(organization, secret.pk)
        return Response(VaultSecretSerializer(fresh).data, status=status.HTTP_201_CREATED)


class VaultSecretDetailView(APIView):
    @extend_schema(
        summary="One secret's description and reveal history (never its value)",
        responses={200: VaultSecretDetailSerializer, **READ_ERRORS},
        tags=["vault"],
    )
    def get(self, request: Request, pk: int) -> Response:
        membership = request_membership(request)
        secret = vault_secret_get(membership.organization, pk)
        require_perm(membership, "vault.view")
        secret.reveal_history = [  # type: ignore[attr-defined]
            {
                "created_at": event.created_at,
                "actor_label": event.actor_label,
                "revealed": event.action == "vault.secret_revealed",
                "reason": str(event.new_values.get("reason", "")),
            }
            for event in vault_reveal_history(secret)
        ]
        return Response(VaultSecretDetailSerializer(secret).data)


class OtpRequired(exceptions.APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = _lazy("A fresh two-factor check is needed: send otp_code.")
    default_code = "otp_required"


class VaultSecretRevealView(APIView):
    @extend_schema(
        summary="Reveal a secret's value (admins and managers)",
        description=(
            "Needs a reason and a fresh second factor: otp_code, a code from your "
            "authenticator app, with every call. Audited with the reason. "
            "The response is not cached."
        ),
        request=VaultRevealSerializer,
        responses={200: VAULT_REVEALED_RESPONSE, 429: READ_ERRORS[403], **WRITE_ERRORS},
        tags=["vault"],
    )
    def post(self, request: Request, pk: int) -> Response:
        membership = request_membership(request)
        secret = vault_secret_get(membership.organization, pk)
        require_perm(membership, "vault.reveal")
        serializer = VaultRevealSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcome = vault_secret_reveal(
            secret=secret,
            membership=membership,
            reason=serializer.validated_data["reason"],
            otp_code=serializer.validated_data["otp_code"],
            request=request._request,
        )
        if outcome.refused == "reason_required":
            raise exceptions.ValidationError({"reason": [_("Say why you need the secret.")]})
        if outcome.refused == "throttled":
            raise exceptions.Throttled(wait=outcome.wait_seconds)
        if outcome.refused == "wrong_code":
            raise exceptions.ValidationError({"otp_code": [_("That code is not right.")]})
        if outcome.refused == "otp_required":
            raise OtpRequired
        response = Response({"id": secret.pk, "name": secret.name, "value": outcome.value})
        response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
        response["Pragma"] = "no-cache"
        return response


# ---------------------------------------------------------------------------
# Risks and policies


class RiskReportView(APIView):
    @extend_schema(
        summary="The risk report",
        responses={200: RiskLineSerializer(many=True), **READ_ERRORS},
        tags=["registry"],
    )
    def get(self, request: Request) -> Response:
        membership = request_membership(request)
        require_perm(membership, "registry.view")
        lines = risk_report_for_org(membership.organization)
        return Response(RiskLineSerializer(lines, many=True).data)


class PolicyListView(generics.ListAPIView[Policy]):
    serializer_class = PolicySerializer

    def get_queryset(self) -> QuerySet[Policy]:
        membership = request_membership(self.request)
        require_perm(membership, "org.view")
        return policies_for_member(membership)

    @extend_schema(
        summary="Policies, with whether you acknowledged each current version",
        responses={200: PolicySerializer(many=True), **READ_ERRORS},
        tags=["policies"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Publish a new policy (admins and managers)",
        request=PolicyCreateSerializer,
        responses={201: PolicySerializer, **WRITE_ERRORS},
        tags=["policies"],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership = request_membership(request)
        require_perm(membership, "policies.manage")
        serializer = PolicyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            policy = policy_create(
                organization=membership.organization,
                actor=_actor(request),
                request=request._request,
                **serializer.validated_data,
            )
        fresh = policies_for_member(membership).get(pk=policy.pk)
        return Response(PolicySerializer(fresh).data, status=status.HTTP_201_CREATED)


class PolicyDetailView(APIView):
    @extend_schema(
        summary="One policy and its current text",
        responses={200: PolicySerializer, **READ_ERRORS},
        tags=["policies"],
    )
    def get(self, request: Request, pk: int) -> Response:
        membership = request_membership(request)
        policy = policy_get(membership.organization, pk)
        require_perm(membership, "org.view")
        policy.acknowledged = policy_acknowledged_by(policy, membership) is not None  # type: ignore[attr-defined]
        return Response(PolicySerializer(policy).data)


class PolicyAcknowledgeView(APIView):
    @extend_schema(
        summary="Acknowledge the current version of a policy",
        request=None,
        responses={200: POLICY_ACK_RESPONSE, **WRITE_ERRORS},
        tags=["policies"],
    )
    def post(self, request: Request, pk: int) -> Response:
        membership = request_membership(request)
        policy = policy_get(membership.organization, pk)
        require_perm(membership, "org.view")
        with service_errors():
            ack = policy_acknowledge(policy=policy, membership=membership, request=request._request)
        return Response(
            {
                "policy": policy.pk,
                "version": ack.version.number,
                "acknowledged_at": ack.acknowledged_at,
            }
        )
