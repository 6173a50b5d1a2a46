"""What the inbox API reads and writes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.api.representation import DirectReadMixin
from inbox.models import InboxItem, ItemStatus, Priority, Reply, SavedReply
from inbox.selectors import ParentPost, Thread


class PersonSerializer(DirectReadMixin, serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField(source="get_full_name")
    email = serializers.EmailField()


class AccountRefSerializer(DirectReadMixin, serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    handle = serializers.CharField()
    network = serializers.CharField()


class InboxItemSerializer(DirectReadMixin, serializers.ModelSerializer[InboxItem]):
    channel_account = AccountRefSerializer(read_only=True)
    assignee = PersonSerializer(read_only=True, allow_null=True)
    tags = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()
    answer_by = serializers.DateTimeField(source="sla_due_at", allow_null=True)
    link = serializers.SerializerMethodField()

    class Meta:
        model = InboxItem
        fields = [
            "id",
            "network",
            "channel_account",
            "kind",
            "remote_id",
            "author_handle",
            "author_name",
            "text",
            "url",
            "language",
            "posted_at",
            "received_at",
            "status",
            "assignee",
            "priority",
            "matched_words",
            "tags",
            "answer_by",
            "overdue",
            "first_response_at",
            "deleted_on_network_at",
            "thread_key",
            "link",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tags(self, item: InboxItem) -> list[str]:
        return [tag.name for tag in item.tags.all()]

    @extend_schema_field(serializers.BooleanField())
    def get_overdue(self, item: InboxItem) -> bool:
        return item.is_overdue(self.context.get("now") or timezone.now())

    @extend_schema_field(serializers.CharField())
    def get_link(self, item: InboxItem) -> str:
        start, end = self._link_parts
        return f"{start}{item.pk}{end}"

    @cached_property
    def _link_parts(self) -> tuple[str, str]:
        # An item's address around its id, reversed once for a list's rows, not per row.
        marker = 987654321
        start, end = reverse("inbox:item", args=[marker]).split(str(marker))
        return settings.SITE_URL.rstrip("/") + start, end


class ReplySerializer(serializers.ModelSerializer[Reply]):
    author = PersonSerializer(read_only=True, allow_null=True)
    decided_by = PersonSerializer(read_only=True, allow_null=True)
    url = serializers.CharField(source="remote_url")

    class Meta:
        model = Reply
        fields = [
            "id",
            "item",
            "author",
            "body",
            "text",
            "language",
            "status",
            "needs_approval",
            "decided_by",
            "decided_at",
            "decision_comment",
            "remote_id",
            "url",
            "error_kind",
            "error_message",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields


class ParentPostSerializer(serializers.Serializer[ParentPost]):
    remote_id = serializers.CharField()
    url = serializers.CharField()
    ours = serializers.BooleanField()
    text = serializers.CharField()
    post_url = serializers.CharField(
        help_text="The post's page in Publishing, when we published it."
    )
    inbox_item = serializers.SerializerMethodField()

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_inbox_item(self, parent: ParentPost) -> int | None:
        return parent.item.pk if parent.item is not None else None


class ThreadEntrySerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    type = serializers.SerializerMethodField()
    item = InboxItemSerializer(allow_null=True)
    reply = ReplySerializer(allow_null=True)

    @extend_schema_field(serializers.ChoiceField(choices=["item", "reply"]))
    def get_type(self, entry: Any) -> str:
        return "reply" if entry.reply is not None else "item"


class ThreadSerializer(serializers.Serializer[Thread]):
    parent = ParentPostSerializer(allow_null=True)
    root = ParentPostSerializer(allow_null=True)
    entries = ThreadEntrySerializer(many=True)
    truncated = serializers.BooleanField()


class InboxItemDetailSerializer(InboxItemSerializer):
    thread = serializers.SerializerMethodField()

    class Meta(InboxItemSerializer.Meta):
        fields = [*InboxItemSerializer.Meta.fields, "thread"]
        read_only_fields = fields

    @extend_schema_field(ThreadSerializer)
    def get_thread(self, item: InboxItem) -> dict[str, Any]:
        thread = self.context["thread"]
        return dict(ThreadSerializer(thread, context=self.context).data)


class InboxItemPageSerializer(serializers.Serializer[Any]):
    results = InboxItemSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="The next (older) page, or null.")


class InboxFilterSerializer(serializers.Serializer[Any]):
    account = serializers.IntegerField(required=False)
    network = serializers.CharField(required=False)
    status = serializers.ChoiceField(choices=ItemStatus.choices, required=False)
    assignee = serializers.CharField(required=False, help_text='"me", "none", or a user id.')
    tag = serializers.IntegerField(required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    overdue = serializers.BooleanField(required=False)
    before = serializers.CharField(required=False, help_text="From the previous page's next link.")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200)


class AssignSerializer(serializers.Serializer[Any]):
    assignee = serializers.IntegerField(allow_null=True, help_text="A user id, or null for nobody.")


class StatusSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=ItemStatus.choices)


class PrioritySerializer(serializers.Serializer[Any]):
    priority = serializers.ChoiceField(choices=Priority.choices)


class TagsSerializer(serializers.Serializer[Any]):
    tags = serializers.ListField(child=serializers.CharField(max_length=50), allow_empty=True)
    add_only = serializers.BooleanField(default=False)


class ReplyCreateSerializer(serializers.Serializer[Any]):
    body = serializers.CharField(max_length=5000)
    saved_reply = serializers.IntegerField(required=False, allow_null=True)


class NoteCreateSerializer(serializers.Serializer[Any]):
    body = serializers.CharField(max_length=5000)


class NoteSerializer(serializers.Serializer[Any]):
    """An internal note: the team sees it; it is never sent to the network."""

    id = serializers.IntegerField(read_only=True)
    author = serializers.SerializerMethodField()
    body = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    def get_author(self, note: Any) -> str:
        return note.author.get_full_name() if note.author is not None else ""


class DecisionSerializer(serializers.Serializer[Any]):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class SavedReplySerializer(serializers.ModelSerializer[SavedReply]):
    class Meta:
        model = SavedReply
        fields = ["id", "title", "language", "body", "updated_at"]
        read_only_fields = ["id", "updated_at"]
