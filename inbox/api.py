"""The inbox through the REST API (/api/v1/inbox/…).

The same access layer and services as the pages: reading needs ``inbox.view``;
triage and replies ``inbox.reply``; deciding on held replies ``inbox.approve``;
saved replies are read by anyone with the inbox and written with ``inbox.manage``.
An item of another organization, or of an account the caller may not see, is a 404.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api.organization import READ_ERRORS, WRITE_ERRORS, service_errors
from governance.models import Membership
from governance.selectors.access import request_membership_with_perm as _membership
from governance.selectors.access import request_user as _actor
from inbox import services
from inbox.forms import format_before, parse_before
from inbox.models import InboxItem, Reply
from inbox.selectors import (
    PAGE_SIZE,
    InboxFilters,
    assignable_members,
    inbox_item_get_for_membership,
    inbox_item_list,
    inbox_notes_for,
    inbox_thread,
    reply_get_for_membership,
    saved_replies_for,
)
from inbox.serializers import (
    AssignSerializer,
    DecisionSerializer,
    InboxFilterSerializer,
    InboxItemDetailSerializer,
    InboxItemPageSerializer,
    InboxItemSerializer,
    NoteCreateSerializer,
    NoteSerializer,
    PrioritySerializer,
    ReplyCreateSerializer,
    ReplySerializer,
    SavedReplySerializer,
    StatusSerializer,
    TagsSerializer,
)

TAGS = ["inbox"]


def _item(request: Request, pk: int, perm: str) -> tuple[Membership, InboxItem]:
    membership = _membership(request, perm)
    return membership, inbox_item_get_for_membership(membership, pk)


def _item_data(item: InboxItem) -> dict[str, Any]:
    item.refresh_from_db()
    return dict(InboxItemSerializer(item).data)


class InboxItemListView(APIView):
    @extend_schema(
        operation_id="inbox_items_list",
        summary="Inbox items",
        description="Replies, mentions, quotes and direct messages to the accounts the "
        "caller may see, newest first. Page with the ``next`` link (keyset paging: "
        "stable while new items arrive).",
        parameters=[InboxFilterSerializer],
        responses={200: InboxItemPageSerializer, **READ_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        membership = _membership(request, "inbox.view")
        params = InboxFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        assignee: Any = data.get("assignee", "")
        if assignee not in ("", "me", "none"):
            if not str(assignee).isdigit():
                raise exceptions.ValidationError({"assignee": ['Give "me", "none" or a user id.']})
            assignee = int(assignee)
        before = data.get("before", "")
        filters = InboxFilters(
            account=data.get("account"),
            network=data.get("network", ""),
            status=data.get("status", ""),
            assignee=assignee,
            tag=data.get("tag"),
            priority=data.get("priority"),
            overdue=bool(data.get("overdue")),
            before=parse_before(before),
        )
        if before and filters.before is None:
            raise exceptions.ValidationError({"before": ["Use the next link of a page."]})
        page = inbox_item_list(membership, filters, limit=data.get("limit", PAGE_SIZE))
        next_link = None
        if page.next_before is not None:
            query = request.query_params.copy()
            query["before"] = format_before(page.next_before)
            next_link = (
                request.build_absolute_uri(request.path)
                + "?"
                + urlencode(list(query.lists()), doseq=True)
            )
        now = timezone.now()
        return Response(
            {
                "results": InboxItemSerializer(page.items, many=True, context={"now": now}).data,
                "next": next_link,
            }
        )


class InboxItemDetailView(APIView):
    @extend_schema(
        summary="One inbox item, with its thread",
        description="The item, the post it answers (ours, with its Publishing page when we "
        "published it, or someone else's), where the conversation started, and every "
        "message and reply of ours in it, oldest first.",
        responses={200: InboxItemDetailSerializer, **READ_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        _, item = _item(request, pk, "inbox.view")
        serializer = InboxItemDetailSerializer(item, context={"thread": inbox_thread(item)})
        return Response(serializer.data)


class InboxItemAssignView(APIView):
    @extend_schema(
        summary="Assign an item",
        description="To a member who may answer for the item's account (they are told), "
        "or to nobody.",
        request=AssignSerializer,
        responses={200: InboxItemSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        membership, item = _item(request, pk, "inbox.reply")
        serializer = AssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assignee_id = serializer.validated_data["assignee"]
        assignee = None
        if assignee_id is not None:
            people = {
                user.pk: user
                for user in assignable_members(item.organization_id, item.channel_account_id)
            }
            assignee = people.get(assignee_id)
            if assignee is None:
                raise exceptions.ValidationError(
                    {"assignee": ["Choose someone who may answer for this account."]}
                )
        with service_errors(assignee="assignee"):
            services.inbox_item_assign(
                item=item,
                assignee=assignee,
                actor=_actor(request),
                membership=membership,
                request=request._request,
            )
        return Response(_item_data(item))


class InboxItemStatusView(APIView):
    @extend_schema(
        summary="Set an item's status",
        request=StatusSerializer,
        responses={200: InboxItemSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        membership, item = _item(request, pk, "inbox.reply")
        serializer = StatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors(status="status"):
            services.inbox_item_set_status(
                item=item,
                status=serializer.validated_data["status"],
                actor=_actor(request),
                membership=membership,
                request=request._request,
            )
        return Response(_item_data(item))


class InboxItemPriorityView(APIView):
    @extend_schema(
        summary="Set an item's priority",
        request=PrioritySerializer,
        responses={200: InboxItemSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        membership, item = _item(request, pk, "inbox.reply")
        serializer = PrioritySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors(priority="priority"):
            services.inbox_item_set_priority(
                item=item,
                priority=int(serializer.validated_data["priority"]),
                actor=_actor(request),
                membership=membership,
                request=request._request,
            )
        return Response(_item_data(item))


class InboxItemTagsView(APIView):
    @extend_schema(
        summary="Set (or add to) an item's tags",
        description="Tags are matched by name, ignoring case; new names make new tags.",
        request=TagsSerializer,
        responses={200: InboxItemSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        membership, item = _item(request, pk, "inbox.reply")
        serializer = TagsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors(tags="tags"):
            services.inbox_item_set_tags(
                item=item,
                names=serializer.validated_data["tags"],
                add_only=serializer.validated_data["add_only"],
                actor=_actor(request),
                membership=membership,
                request=request._request,
            )
        return Response(_item_data(item))


class InboxItemNotesView(APIView):
    @extend_schema(
        summary="An item's internal notes",
        description="Notes the team keeps on an item, oldest first. Never sent anywhere.",
        responses={200: NoteSerializer(many=True), **READ_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        _member, item = _item(request, pk, "inbox.view")
        return Response(NoteSerializer(inbox_notes_for(item), many=True).data)

    @extend_schema(
        summary="Keep an internal note on an item",
        description="Visible to the team in the inbox and kept with the item's records; "
        "never sent to the network. Audited.",
        request=NoteCreateSerializer,
        responses={201: NoteSerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        membership, item = _item(request, pk, "inbox.reply")
        serializer = NoteCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors(body="body"):
            note = services.inbox_note_add(
                item=item,
                body=serializer.validated_data["body"],
                actor=_actor(request),
                membership=membership,
                request=request._request,
            )
        return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)


class InboxItemReplyView(APIView):
    @extend_schema(
        summary="Reply to an item",
        description="Sent at once as a reply on the network, signed per the organization's "
        "rule; or, where the organization asks for approval, held with status "
        "pending_approval until a reviewer approves it. A reply the network refused or "
        "could not confirm comes back with status failed or unknown and its error.",
        request=ReplyCreateSerializer,
        responses={201: ReplySerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        membership, item = _item(request, pk, "inbox.reply")
        serializer = ReplyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        saved = None
        saved_id = serializer.validated_data.get("saved_reply")
        if saved_id:
            saved = saved_replies_for(item.organization).filter(pk=saved_id).first()
            if saved is None:
                raise exceptions.ValidationError({"saved_reply": ["No such saved reply."]})
        with service_errors(body="body", item="non_field_errors"):
            reply = services.inbox_reply_create(
                item=item,
                body=serializer.validated_data["body"],
                saved_reply=saved,
                actor=_actor(request),
                membership=membership,
                request=request._request,
            )
        return Response(ReplySerializer(reply).data, status=status.HTTP_201_CREATED)


def _reply(request: Request, pk: int, perm: str) -> tuple[Membership, Reply]:
    membership = _membership(request, perm)
    return membership, reply_get_for_membership(membership, pk)


class ReplyApproveView(APIView):
    @extend_schema(
        summary="Approve a held reply and send it",
        request=DecisionSerializer,
        responses={200: ReplySerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        membership, reply = _reply(request, pk, "inbox.approve")
        serializer = DecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            reply = services.inbox_reply_approve(
                reply=reply,
                actor=_actor(request),
                membership=membership,
                comment=serializer.validated_data["comment"],
                request=request._request,
            )
        return Response(ReplySerializer(reply).data)


class ReplyRejectView(APIView):
    @extend_schema(
        summary="Turn a held reply down",
        description="The comment (required) tells the author why.",
        request=DecisionSerializer,
        responses={200: ReplySerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        membership, reply = _reply(request, pk, "inbox.approve")
        serializer = DecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors(comment="comment"):
            reply = services.inbox_reply_reject(
                reply=reply,
                actor=_actor(request),
                membership=membership,
                comment=serializer.validated_data["comment"],
                request=request._request,
            )
        return Response(ReplySerializer(reply).data)


class SavedReplyListView(APIView):
    @extend_schema(
        summary="Saved replies",
        description="Canned answers, one per title and language. {author}, {first_name} "
        "and {organization} in the text are filled in when a reply is written from one.",
        parameters=[OpenApiParameter("language", str, required=False)],
        responses={200: SavedReplySerializer(many=True), **READ_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        membership = _membership(request, "inbox.view")
        replies = saved_replies_for(membership.organization)
        language = request.query_params.get("language")
        if language:
            replies = replies.filter(language=language)
        return Response(SavedReplySerializer(replies, many=True).data)

    @extend_schema(
        summary="Add a saved reply",
        request=SavedReplySerializer,
        responses={201: SavedReplySerializer, **WRITE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        membership = _membership(request, "inbox.manage")
        serializer = SavedReplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with service_errors(title="title", body="body"):
            saved = services.saved_reply_save(
                membership=membership,
                actor=_actor(request),
                title=data["title"],
                language=data["language"],
                body=data["body"],
                request=request._request,
            )
        return Response(SavedReplySerializer(saved).data, status=status.HTTP_201_CREATED)
