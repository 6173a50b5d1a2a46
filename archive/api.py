"""The records search through the REST API (/api/v1/records/search/…).

The same access layer and services as the page: searching needs ``records.view``
and is audited (who searched for what); exporting the matches needs
``records.export`` and answers the export to poll at /api/v1/records-exports/{id}/.
A member limited to some accounts searches and exports those only.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import channel_accounts_for_membership
from archive.models import RecordEntry, RecordKind
from archive.selectors import RECORDS_COUNT_CAP, RecordQuery
from archive.services.search import records_search_export_request, records_search_run
from governance.api.organization import WRITE_ERRORS, service_errors
from governance.api.pagination import MAX_OFFSET
from governance.api.records import SCOPE_ERRORS, RecordsExportSerializer
from governance.models import Membership
from governance.selectors.access import request_membership_with_perm as _membership
from governance.selectors.access import request_user as _actor
from governance.services.records import day_bounds

TAGS = ["records"]


class RecordSearchSerializer(serializers.Serializer[Any]):
    q = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text=_("Words, found in each text's own language; inside words when none match."),
    )
    account = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    start = serializers.DateField(required=False, help_text=_("First day, inclusive."))
    end = serializers.DateField(required=False, help_text=_("Last day, inclusive."))
    author = serializers.CharField(max_length=255, required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=RecordKind.choices, required=False, allow_blank=True)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        start, end = data.get("start"), data.get("end")
        if start is not None and end is not None and start > end:
            raise exceptions.ValidationError(
                {"end": [_("The end date must not be before the start date.")]}
            )
        return data


class RecordSearchPageSerializer(RecordSearchSerializer):
    limit = serializers.IntegerField(min_value=1, max_value=200, required=False, default=50)
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, required=False, default=0)


class RecordExportSerializer(RecordSearchSerializer):
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True)


class RecordEntrySerializer(serializers.ModelSerializer[RecordEntry]):
    channel_account = serializers.IntegerField(source="channel_account_id", allow_null=True)
    archived_post = serializers.IntegerField(source="post_id", allow_null=True)
    kind = serializers.ChoiceField(choices=RecordKind.choices)
    deleted_on_network_at = serializers.DateTimeField(source="found_gone_at", allow_null=True)

    class Meta:
        model = RecordEntry
        fields = [
            "id",
            "kind",
            "object_id",
            "channel_account",
            "archived_post",
            "author",
            "occurred_at",
            "text",
            "language",
            "deleted_on_network_at",
        ]
        read_only_fields = fields


class RecordResultsSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField(
        help_text=f"Matches counted, at most {RECORDS_COUNT_CAP} (see capped)."
    )
    capped = serializers.BooleanField(help_text="More matched than were counted.")
    method = serializers.ChoiceField(
        choices=["fulltext", "trigram", "similar", "substring"],
        help_text="How the words matched: full-text search, inside words, or close words.",
    )
    results = RecordEntrySerializer(many=True)
    next = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_next(self, page: Any) -> str | None:
        return page.get("next")


def _query(membership: Membership, data: dict[str, Any]) -> RecordQuery:
    account_id = data.get("account")
    visible = channel_accounts_for_membership(membership)
    if account_id is not None and not visible.filter(pk=account_id).exists():
        raise exceptions.ValidationError({"account": [_("Choose a channel account you may see.")]})
    start_day: date | None = data.get("start")
    end_day: date | None = data.get("end")
    start, end = day_bounds(membership.organization, start_day, end_day)
    kind = data.get("kind") or ""
    return RecordQuery(
        text=data.get("q") or "",
        account_ids=(account_id,) if account_id is not None else (),
        start=start,
        end=end,
        author=data.get("author") or "",
        kinds=(kind,) if kind else (),
    )


class RecordSearchView(APIView):
    @extend_schema(
        operation_id="records_search",
        summary="Search the records",
        description="Our posts and their earlier versions, comments on them (also those "
        "deleted since), inbox messages, our replies and internal notes, newest first, "
        "within the accounts the caller may see. Each search is audited.",
        parameters=[RecordSearchPageSerializer],
        responses={200: RecordResultsSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        membership = _membership(request, "records.view")
        params = RecordSearchPageSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        limit, offset = data["limit"], data["offset"]
        results = records_search_run(
            membership=membership,
            actor=_actor(request),
            query=_query(membership, data),
            offset=offset,
            limit=limit,
            request=request._request,
        )
        next_link = None
        if offset + limit < results.count:
            query = request.query_params.copy()
            query["offset"] = str(offset + limit)
            query["limit"] = str(limit)
            next_link = request.build_absolute_uri(request.path) + "?" + query.urlencode()
        page = {
            "count": results.count,
            "capped": results.capped,
            "method": results.method,
            "results": results.entries,
            "next": next_link,
        }
        return Response(RecordResultsSerializer(page).data)


class RecordSearchExportView(APIView):
    @extend_schema(
        operation_id="records_search_export",
        summary="Export a search's matches",
        description="A records export of every match, each with the archived post it "
        "belongs to and that post's capture, built by a worker: poll "
        "/api/v1/records-exports/{id}/ until status is ready, then fetch download_url.",
        request=RecordExportSerializer,
        responses={202: RecordsExportSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        membership = _membership(request, "records.export")
        serializer = RecordExportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with service_errors(**SCOPE_ERRORS):
            export = records_search_export_request(
                membership=membership,
                actor=_actor(request),
                query=_query(membership, data),
                start_date=data.get("start"),
                end_date=data.get("end"),
                reference=data.get("reference") or "",
                request=request._request,
            )
        return Response(RecordsExportSerializer(export).data, status=status.HTTP_202_ACCEPTED)
