"""Handover and records endpoints under /api/v1/: handover cases (list, detail,
reassign, refresh, sign off), retention rules, legal holds and records-request
exports (create, status, download).

The views check access through ``governance.selectors.access`` and call the
same services as the HTML pages; a service's ``ValidationError`` becomes a 400.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api.organization import READ_ERRORS, WRITE_ERRORS, service_errors
from governance.api.pagination import query_choice
from governance.models import (
    ExportStatus,
    HandoverCase,
    HandoverItem,
    LegalHold,
    Membership,
    RecordsExport,
    RetentionAction,
    RetentionRule,
)
from governance.models.handover import HandoverReason, HandoverStatus
from governance.selectors.access import request_membership, require_perm
from governance.selectors.access import request_user as _actor
from governance.selectors.handover import (
    handover_case_get_for_org,
    handover_cases_for_org,
    handover_holder_choices,
    handover_items,
    handover_source_label,
)
from governance.selectors.records import (
    legal_hold_get_for_org,
    legal_holds_for_org,
    record_type_label,
    records_export_get_for_org,
    records_exports_for_org,
    retention_rule_get_for_org,
    scope_labels,
)
from governance.services import handover as handover_services
from governance.services import records as records_services


def _allowed(request: Request, perm: str) -> Membership:
    membership = request_membership(request)
    require_perm(membership, perm)
    return membership


# ---------------------------------------------------------------------------
# Serializers


class HandoverPersonSerializer(serializers.Serializer[Any]):
    membership_id = serializers.IntegerField(source="pk")
    email = serializers.EmailField(source="user.email")
    full_name = serializers.CharField(source="user.full_name")
    role = serializers.CharField()


class HandoverItemSerializer(serializers.ModelSerializer[HandoverItem]):
    object_type = serializers.SerializerMethodField()
    new_holder = HandoverPersonSerializer(allow_null=True)

    class Meta:
        model = HandoverItem
        fields = [
            "id",
            "kind",
            "object_type",
            "object_id",
            "label",
            "link",
            "detail",
            "needs_rotation",
            "new_holder",
            "reassigned_at",
        ]

    def get_object_type(self, item: HandoverItem) -> str:
        content_type = item.content_type
        return f"{content_type.app_label}.{content_type.model}" if content_type else ""


class HandoverCaseSerializer(serializers.ModelSerializer[HandoverCase]):
    member = HandoverPersonSerializer(source="membership")
    status = serializers.ChoiceField(choices=HandoverStatus.choices)
    reason = serializers.ChoiceField(choices=HandoverReason.choices)
    opened_by = serializers.EmailField(source="opened_by.email", allow_null=True, default=None)
    signed_off_by = serializers.EmailField(
        source="signed_off_by.email", allow_null=True, default=None
    )
    item_count = serializers.SerializerMethodField()
    unassigned_count = serializers.SerializerMethodField()
    incomplete_sources = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = HandoverCase
        fields = [
            "id",
            "member",
            "status",
            "reason",
            "opened_by",
            "opened_at",
            "refreshed_at",
            "signed_off_by",
            "signed_off_at",
            "notes",
            "item_count",
            "unassigned_count",
            "incomplete_sources",
        ]

    def get_item_count(self, case: HandoverCase) -> int:
        return int(getattr(case, "item_count", None) or case.items.count())

    def get_unassigned_count(self, case: HandoverCase) -> int:
        count = getattr(case, "unassigned_count", None)
        if count is None:
            count = case.items.filter(new_holder__isnull=True).count()
        return int(count)


class HandoverCaseDetailSerializer(HandoverCaseSerializer):
    items = serializers.SerializerMethodField()
    incomplete_source_labels = serializers.SerializerMethodField()
    possible_holders = serializers.SerializerMethodField()

    class Meta(HandoverCaseSerializer.Meta):
        fields = [
            *HandoverCaseSerializer.Meta.fields,
            "incomplete_source_labels",
            "items",
            "possible_holders",
        ]

    @extend_schema_field(HandoverItemSerializer(many=True))
    def get_items(self, case: HandoverCase) -> list[dict[str, Any]]:
        return list(HandoverItemSerializer(handover_items(case), many=True).data)

    def get_incomplete_source_labels(self, case: HandoverCase) -> list[str]:
        return [handover_source_label(key) for key in case.incomplete_sources]

    @extend_schema_field(HandoverPersonSerializer(many=True))
    def get_possible_holders(self, case: HandoverCase) -> list[dict[str, Any]]:
        if not case.is_open:
            return []
        return list(HandoverPersonSerializer(handover_holder_choices(case), many=True).data)


class HandoverReassignSerializer(serializers.Serializer[Any]):
    items = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)
    new_holder = serializers.IntegerField(help_text="The membership id of the person taking over.")


class HandoverSignOffSerializer(serializers.Serializer[Any]):
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class HandoverRefreshSerializer(serializers.Serializer[Any]):
    added = serializers.IntegerField()
    removed = serializers.IntegerField()


class RetentionRuleSerializer(serializers.ModelSerializer[RetentionRule]):
    record_type_label = serializers.SerializerMethodField()
    action = serializers.ChoiceField(choices=RetentionAction.choices)

    class Meta:
        model = RetentionRule
        fields = [
            "id",
            "record_type",
            "record_type_label",
            "keep_for_days",
            "action",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_record_type_label(self, rule: RetentionRule) -> str:
        return record_type_label(rule.record_type)


class RetentionRuleWriteSerializer(serializers.Serializer[Any]):
    record_type = serializers.CharField()
    keep_for_days = serializers.IntegerField(min_value=1)
    action = serializers.ChoiceField(choices=RetentionAction.choices)


class ScopeSerializerMixin(serializers.Serializer[Any]):
    record_types = serializers.ListField(child=serializers.CharField(), allow_empty=False)
    channel_accounts = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list
    )
    start_date = serializers.DateField(required=False, allow_null=True, default=None)
    end_date = serializers.DateField(required=False, allow_null=True, default=None)


class LegalHoldSerializer(serializers.ModelSerializer[LegalHold]):
    channel_accounts = serializers.ListField(source="account_ids", child=serializers.IntegerField())
    record_types = serializers.ListField(child=serializers.CharField())
    placed_by = serializers.EmailField(source="placed_by.email", allow_null=True, default=None)
    released_by = serializers.EmailField(source="released_by.email", allow_null=True, default=None)

    class Meta:
        model = LegalHold
        fields = [
            "id",
            "name",
            "reason",
            "record_types",
            "channel_accounts",
            "start_date",
            "end_date",
            "is_active",
            "placed_by",
            "placed_at",
            "released_by",
            "released_at",
            "release_reason",
        ]


class LegalHoldCreateSerializer(ScopeSerializerMixin):
    name = serializers.CharField(max_length=200)
    reason = serializers.CharField()


class LegalHoldReleaseSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField()


class RecordsExportSerializer(serializers.ModelSerializer[RecordsExport]):
    channel_accounts = serializers.ListField(source="account_ids", child=serializers.IntegerField())
    record_types = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=ExportStatus.choices)
    requested_by = serializers.EmailField(
        source="requested_by.email", allow_null=True, default=None
    )
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = RecordsExport
        fields = [
            "id",
            "reference",
            "record_types",
            "channel_accounts",
            "start_date",
            "end_date",
            "requested_by",
            "created_at",
            "status",
            "progress",
            "processed",
            "total",
            "started_at",
            "finished_at",
            "file_size",
            "file_sha256",
            "download_url",
        ]

    def get_download_url(self, export: RecordsExport) -> str | None:
        if export.status != ExportStatus.READY:
            return None
        return f"/api/v1/records-exports/{export.pk}/download/"


class RecordsExportCreateSerializer(ScopeSerializerMixin):
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


SCOPE_ERRORS = {
    "no_record_types": "record_types",
    "invalid_record_type": "record_types",
    "invalid_accounts": "channel_accounts",
    "invalid_dates": "end_date",
}


# ---------------------------------------------------------------------------
# Handover


class HandoverCaseListView(generics.ListAPIView[HandoverCase]):
    serializer_class = HandoverCaseSerializer

    def get_queryset(self) -> QuerySet[HandoverCase]:
        membership = _allowed(self.request, "handover.view")
        status = query_choice(self.request, "status", choices=list(HandoverStatus.values))
        return handover_cases_for_org(membership.organization, status)

    @extend_schema(
        summary="Handover cases (admins, managers, auditors)",
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=HandoverStatus.values,
                description="Only open or only signed-off cases.",
            )
        ],
        responses={200: HandoverCaseSerializer(many=True), **READ_ERRORS},
        tags=["handover"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


def _case(request: Request, pk: int, perm: str) -> HandoverCase:
    membership = _allowed(request, perm)
    # Another organization's case is a 404: the lookup is inside the caller's org.
    return handover_case_get_for_org(membership.organization, pk)


def _case_detail(case: HandoverCase) -> dict[str, Any]:
    fresh = handover_case_get_for_org(case.organization, case.pk)
    return dict(HandoverCaseDetailSerializer(fresh).data)


class HandoverCaseDetailView(APIView):
    @extend_schema(
        summary="One handover case with everything the person holds",
        responses={200: HandoverCaseDetailSerializer, **READ_ERRORS},
        tags=["handover"],
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_case_detail(_case(request, pk, "handover.view")))


class HandoverReassignView(APIView):
    @extend_schema(
        summary="Give items of the case to a new holder (admins, managers)",
        description=(
            "items: ids of the case's items; new_holder: the membership id of an active, "
            "non-auditor member other than the person leaving. All or nothing."
        ),
        request=HandoverReassignSerializer,
        responses={200: HandoverCaseDetailSerializer, **WRITE_ERRORS},
        tags=["handover"],
    )
    def post(self, request: Request, pk: int) -> Response:
        case = _case(request, pk, "handover.manage")
        serializer = HandoverReassignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        holder = Membership.objects.filter(
            pk=data["new_holder"], organization_id=case.organization_id
        ).first()
        if holder is None:
            raise serializers.ValidationError(
                {"new_holder": ["Choose an active member of the organization."]}
            )
        with service_errors(invalid_holder="new_holder", no_items="items", unknown_items="items"):
            handover_services.handover_items_reassign(
                case=case,
                item_ids=data["items"],
                new_holder=holder,
                actor=_actor(request),
                request=request._request,
            )
        return Response(_case_detail(case))


class HandoverRefreshView(APIView):
    @extend_schema(
        summary="List again what the person holds (admins, managers)",
        request=None,
        responses={200: HandoverRefreshSerializer, **WRITE_ERRORS},
        tags=["handover"],
    )
    def post(self, request: Request, pk: int) -> Response:
        case = _case(request, pk, "handover.manage")
        with service_errors():
            result = handover_services.handover_case_refresh(
                case=case, actor=_actor(request), request=request._request
            )
        return Response({"added": result.added, "removed": result.removed})


class HandoverSignOffView(APIView):
    @extend_schema(
        summary="Sign the handover off (managers, admins)",
        description="Refused (400, code unassigned) while any item has no new holder.",
        request=HandoverSignOffSerializer,
        responses={200: HandoverCaseDetailSerializer, **WRITE_ERRORS},
        tags=["handover"],
    )
    def post(self, request: Request, pk: int) -> Response:
        case = _case(request, pk, "handover.sign_off")
        serializer = HandoverSignOffSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            handover_services.handover_case_sign_off(
                case=case,
                actor=_actor(request),
                notes=serializer.validated_data["notes"],
                request=request._request,
            )
        return Response(_case_detail(case))


# ---------------------------------------------------------------------------
# Retention rules


class RetentionRuleListView(generics.ListAPIView[RetentionRule]):
    serializer_class = RetentionRuleSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[RetentionRule]:
        membership = _allowed(self.request, "records.view")
        return RetentionRule.objects.filter(organization=membership.organization).order_by(
            "record_type"
        )

    @extend_schema(
        summary="Retention rules (admins, managers, auditors)",
        responses={200: RetentionRuleSerializer(many=True), **READ_ERRORS},
        tags=["records"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Set the retention rule of a record type (admins)",
        description=(
            "One rule per record type: posting again replaces it. Audit entries and vault "
            "access accept only the action archive (the audit log is never cut)."
        ),
        request=RetentionRuleWriteSerializer,
        responses={200: RetentionRuleSerializer, **WRITE_ERRORS},
        tags=["records"],
    )
    def post(self, request: Request) -> Response:
        membership = _allowed(request, "records.manage")
        serializer = RetentionRuleWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with service_errors(
            invalid_record_type="record_type",
            invalid_days="keep_for_days",
            invalid_action="action",
        ):
            rule = records_services.retention_rule_save(
                organization=membership.organization,
                actor=_actor(request),
                record_type=data["record_type"],
                keep_for_days=data["keep_for_days"],
                action=data["action"],
                request=request._request,
            )
        return Response(RetentionRuleSerializer(rule).data)


class RetentionRuleDetailView(APIView):
    @extend_schema(
        summary="One retention rule",
        responses={200: RetentionRuleSerializer, **READ_ERRORS},
        tags=["records"],
    )
    def get(self, request: Request, pk: int) -> Response:
        membership = _allowed(request, "records.view")
        return Response(
            RetentionRuleSerializer(retention_rule_get_for_org(membership.organization, pk)).data
        )

    @extend_schema(
        summary="Remove a retention rule (admins): the records are then kept",
        responses={204: OpenApiResponse(description="Removed."), **READ_ERRORS},
        tags=["records"],
    )
    def delete(self, request: Request, pk: int) -> Response:
        membership = _allowed(request, "records.manage")
        rule = retention_rule_get_for_org(membership.organization, pk)
        records_services.retention_rule_delete(
            rule=rule, actor=_actor(request), request=request._request
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------------------
# Legal holds


class LegalHoldListView(generics.ListAPIView[LegalHold]):
    serializer_class = LegalHoldSerializer

    def get_queryset(self) -> QuerySet[LegalHold]:
        membership = _allowed(self.request, "records.view")
        return legal_holds_for_org(membership.organization)

    @extend_schema(
        summary="Legal holds, active first (admins, managers, auditors)",
        responses={200: LegalHoldSerializer(many=True), **READ_ERRORS},
        tags=["records"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Place a legal hold (admins)",
        description=(
            "Stops disposal of the records in scope: record_types, channel_accounts "
            "(empty: all) and start_date..end_date (inclusive, either may be null)."
        ),
        request=LegalHoldCreateSerializer,
        responses={201: LegalHoldSerializer, **WRITE_ERRORS},
        tags=["records"],
    )
    def post(self, request: Request) -> Response:
        membership = _allowed(request, "records.manage")
        serializer = LegalHoldCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with service_errors(name_required="name", reason_required="reason", **SCOPE_ERRORS):
            hold = records_services.legal_hold_place(
                organization=membership.organization,
                actor=_actor(request),
                name=data["name"],
                reason=data["reason"],
                record_types=data["record_types"],
                account_ids=data["channel_accounts"],
                start_date=data["start_date"],
                end_date=data["end_date"],
                request=request._request,
            )
        return Response(LegalHoldSerializer(hold).data, status=status.HTTP_201_CREATED)


class LegalHoldDetailView(APIView):
    @extend_schema(
        summary="One legal hold",
        responses={200: LegalHoldSerializer, **READ_ERRORS},
        tags=["records"],
    )
    def get(self, request: Request, pk: int) -> Response:
        membership = _allowed(request, "records.view")
        return Response(
            LegalHoldSerializer(legal_hold_get_for_org(membership.organization, pk)).data
        )


class LegalHoldReleaseView(APIView):
    @extend_schema(
        summary="Release a legal hold (admins)",
        request=LegalHoldReleaseSerializer,
        responses={200: LegalHoldSerializer, **WRITE_ERRORS},
        tags=["records"],
    )
    def post(self, request: Request, pk: int) -> Response:
        membership = _allowed(request, "records.manage")
        hold = legal_hold_get_for_org(membership.organization, pk)
        serializer = LegalHoldReleaseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors(reason_required="reason"):
            hold = records_services.legal_hold_release(
                hold=hold,
                actor=_actor(request),
                reason=serializer.validated_data["reason"],
                request=request._request,
            )
        return Response(LegalHoldSerializer(hold).data)


# ---------------------------------------------------------------------------
# Records-request exports


class RecordsExportListView(generics.ListAPIView[RecordsExport]):
    serializer_class = RecordsExportSerializer

    def get_queryset(self) -> QuerySet[RecordsExport]:
        membership = _allowed(self.request, "records.view")
        return records_exports_for_org(membership.organization)

    @extend_schema(
        summary="Records-request exports, newest first",
        responses={200: RecordsExportSerializer(many=True), **READ_ERRORS},
        tags=["records"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Ask for a records-request export (admins, managers)",
        description=(
            "Built by a worker: poll the export until status is ready (progress 0-100), "
            "then fetch download_url: a zip of JSON, CSV and media with manifest.json "
            "listing each file's SHA-256 and size."
        ),
        request=RecordsExportCreateSerializer,
        responses={202: RecordsExportSerializer, **WRITE_ERRORS},
        tags=["records"],
    )
    def post(self, request: Request) -> Response:
        membership = _allowed(request, "records.export")
        serializer = RecordsExportCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with service_errors(**SCOPE_ERRORS):
            export = records_services.records_export_request(
                organization=membership.organization,
                actor=_actor(request),
                record_types=data["record_types"],
                account_ids=data["channel_accounts"],
                start_date=data["start_date"],
                end_date=data["end_date"],
                reference=data["reference"],
                request=request._request,
            )
        return Response(RecordsExportSerializer(export).data, status=status.HTTP_202_ACCEPTED)


class RecordsExportDetailView(APIView):
    @extend_schema(
        summary="One export: its status and progress",
        responses={200: RecordsExportSerializer, **READ_ERRORS},
        tags=["records"],
    )
    def get(self, request: Request, pk: int) -> Response:
        membership = _allowed(request, "records.view")
        export = records_export_get_for_org(membership.organization, pk)
        data = dict(RecordsExportSerializer(export).data)
        data["scope"] = scope_labels(
            membership.organization, export.record_types, export.account_ids
        )
        return Response(data)


class RecordsExportDownloadView(APIView):
    @extend_schema(
        summary="Download a ready export (a zip file); every download is audited",
        responses={
            (200, "application/zip"): OpenApiResponse(
                response=OpenApiTypes.BINARY, description="The zip file."
            ),
            **READ_ERRORS,
        },
        tags=["records"],
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        membership = _allowed(request, "records.view")
        export = records_export_get_for_org(membership.organization, pk)
        if export.status != ExportStatus.READY or not export.file:
            raise Http404
        records_services.records_export_record_download(
            export=export, actor=_actor(request), request=request._request
        )
        return FileResponse(
            export.file.open("rb"),
            as_attachment=True,
            filename=(export.file.name or "").rsplit("/", 1)[-1],
            content_type="application/zip",
        )
