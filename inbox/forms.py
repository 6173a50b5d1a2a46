"""Forms of the inbox pages: they parse input; the services decide."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import forms
from django.forms.utils import ErrorDict
from django.http import QueryDict
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from accounts.models import ChannelAccount
from accounts.selectors import channel_accounts_for_membership, network_summary
from governance.models import Membership, Organization, User
from governance.widgets import (
    QuickFieldsForm,
    QuickHiddenInput,
    QuickSelect,
    QuickTextarea,
    QuickTextInput,
)
from inbox.models import (
    InboxSettings,
    ItemStatus,
    Priority,
    PriorityWord,
    ResponsePolicy,
    SavedReply,
    SignatureRule,
    Tag,
)
from inbox.selectors import (
    InboxFilterChoices,
    InboxFilters,
    assignable_members,
    inbox_filter_choices,
    tags_for,
)
from inbox.services.org_settings import saved_reply_language_codes
from publishing.languages import language_choices

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


def _set_choices(form: forms.Form, name: str, choices: list[Any]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


def _person_label(user: User) -> str:
    return user.get_full_name()


class FilterForm(forms.Form):
    """The list's filters (GET). Unknown or foreign values are simply ignored."""

    account = forms.TypedChoiceField(
        label=_("Account"), required=False, coerce=int, empty_value=None
    )
    network = forms.ChoiceField(label=_("Network"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *ItemStatus.choices],
    )
    assignee = forms.ChoiceField(label=_("Assigned to"), required=False)
    tag = forms.TypedChoiceField(label=_("Tag"), required=False, coerce=int, empty_value=None)
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any priority")), *[(str(v), label) for v, label in Priority.choices]],
    )
    overdue = forms.BooleanField(label=_("Only overdue"), required=False)

    def __init__(
        self,
        data: QueryDict | None,
        *,
        membership: Membership,
        choices: InboxFilterChoices | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, **kwargs)
        # What the choices show, not whole rows (each account's credentials would be
        # decrypted as its row is read); each network's label looked up once.
        accounts = list(
            channel_accounts_for_membership(membership)
            .order_by("network", "handle")
            .values_list("pk", "handle", "network")
        )
        labels = {network: network_summary(network).label for network in {a[2] for a in accounts}}
        _set_choices(
            self,
            "account",
            [("", _("All accounts"))]
            + [(str(pk), f"{handle} ({labels[network]})") for pk, handle, network in accounts],
        )
        _set_choices(
            self,
            "network",
            [("", _("All networks"))] + [(name, labels[name]) for name in sorted(labels)],
        )
        # The organization's people and tags, from the cache.
        choices = choices or inbox_filter_choices(membership.organization_id)
        # The list's bulk form offers the same people.
        self.people = choices.people
        _set_choices(
            self,
            "assignee",
            [
                ("", _("Anyone or nobody")),
                ("me", _("Me")),
                ("none", _("Nobody")),
                *[(str(pk), label) for pk, label in choices.people],
            ],
        )
        _set_choices(
            self,
            "tag",
            [("", _("Any tag"))] + [(str(pk), name) for pk, name in choices.tags],
        )

    def filters(self, before: str = "") -> InboxFilters:
        """The valid filters (invalid ones dropped), and the page position."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        assignee: Any = data.get("assignee") or ""
        if assignee not in ("", "me", "none"):
            assignee = int(assignee)
        return InboxFilters(
            account=data.get("account"),
            network=data.get("network") or "",
            status=data.get("status") or "",
            assignee=assignee,
            tag=data.get("tag"),
            priority=data.get("priority"),
            overdue=bool(data.get("overdue")),
            before=parse_before(before),
        )

    def full_clean(self) -> None:
        super().full_clean()
        # A filter that does not validate is dropped (``cleaned_data`` leaves it out),
        # not shown as an error: a stale bookmark must still list the inbox.
        self._errors = ErrorDict()


def parse_before(value: str) -> tuple[datetime, int] | None:
    """``<ISO time>_<id>`` → (time, id); anything else → None (the first page)."""
    moment, _sep, pk = (value or "").rpartition("_")
    parsed = parse_datetime(moment) if moment else None
    if parsed is None or not pk.isdigit():
        return None
    return parsed, int(pk)


def format_before(position: tuple[datetime, int]) -> str:
    return f"{position[0].isoformat()}_{position[1]}"


class AssignForm(QuickFieldsForm):
    assignee = forms.ChoiceField(label=_("Assign to"), required=False, widget=QuickSelect)

    def __init__(
        self,
        *args: Any,
        organization_id: int,
        account_id: int,
        choices: InboxFilterChoices | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.people: dict[int, User] = {}
        if self.is_bound:
            # An assignment is checked against the people as they are now.
            self.people = {
                user.pk: user for user in assignable_members(organization_id, account_id)
            }
            people = [(pk, _person_label(user)) for pk, user in self.people.items()]
        else:
            # Only shown: the organization's people from the cache.
            choices = choices or inbox_filter_choices(organization_id)
            people = choices.people_for_account(account_id)
        _set_choices(
            self,
            "assignee",
            [("", _("Nobody"))] + [(str(pk), label) for pk, label in people],
        )

    def chosen_person(self) -> User | None:
        value = self.cleaned_data.get("assignee")
        return self.people.get(int(value)) if value else None


class StatusForm(QuickFieldsForm):
    status = forms.ChoiceField(label=_("Status"), choices=ItemStatus.choices, widget=QuickSelect)


class PriorityForm(QuickFieldsForm):
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Priority.choices, coerce=int, widget=QuickSelect
    )


class TagsForm(QuickFieldsForm):
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=500,
        help_text=_("Separate tags with commas. New tags are created as you use them."),
        widget=QuickTextInput,
    )

    def names(self) -> list[str]:
        return [name for name in self.cleaned_data.get("tags", "").split(",") if name.strip()]


class ReplyForm(QuickFieldsForm):
    body = forms.CharField(
        label=_("Your reply"),
        widget=QuickTextarea(attrs={"rows": 4, "data-inbox-reply-box": ""}),
        max_length=5000,
    )
    saved_reply = forms.IntegerField(required=False, widget=QuickHiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Its own ids: the saved-reply picker beside it has a field of the same name.
        kwargs.setdefault("auto_id", "reply_%s")
        super().__init__(*args, **kwargs)


class NoteForm(QuickFieldsForm):
    body = forms.CharField(
        label=_("Internal note"),
        help_text=_("Only your team sees notes; they are never sent to the network."),
        widget=QuickTextarea(attrs={"rows": 2}),
        max_length=5000,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "note_%s")
        super().__init__(*args, **kwargs)


class SavedReplyPickForm(QuickFieldsForm):
    """Choosing a saved reply to start from (GET: fills the reply box)."""

    saved_reply = forms.ChoiceField(label=_("Saved reply"), required=False, widget=QuickSelect)

    def __init__(self, *args: Any, saved_replies: list[SavedReply], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(
            self,
            "saved_reply",
            [("", _("Choose a saved reply"))]
            + [
                (str(reply.pk), f"{reply.title} ({reply.language_name})") for reply in saved_replies
            ],
        )


class DecisionForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class BulkForm(forms.Form):
    ACTIONS = [
        ("", _("Choose an action")),
        ("assign", _("Assign to")),
        ("status", _("Set status")),
        ("tag", _("Add tag")),
        ("priority", _("Set priority")),
    ]
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    assignee = forms.ChoiceField(label=_("Person"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", "—"), *ItemStatus.choices]
    )
    tag = forms.CharField(label=_("Tag"), required=False, max_length=50)
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *[(str(v), label) for v, label in Priority.choices]],
    )
    items = forms.TypedMultipleChoiceField(coerce=int, required=False)

    def __init__(
        self,
        *args: Any,
        organization_id: int,
        item_ids: list[int],
        people: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        """``people``: (pk, label) pairs to offer, when already at hand (the list shows
        the form beside its filters); the people themselves are read when it is valid."""
        super().__init__(*args, **kwargs)
        self.organization_id = organization_id
        self._people: dict[int, User] | None = None
        if people is None:
            self._people = {user.pk: user for user in assignable_members(organization_id)}
            people = [(pk, _person_label(user)) for pk, user in self._people.items()]
        _set_choices(
            self,
            "assignee",
            [("", _("Nobody"))] + [(str(pk), label) for pk, label in people],
        )
        _set_choices(self, "items", [(str(pk), str(pk)) for pk in item_ids])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        action = data.get("action")
        if not data.get("items"):
            raise forms.ValidationError(_("Select at least one item."), code="items")
        if action == "status" and not data.get("status"):
            self.add_error("status", _("Choose a status."))
        if action == "tag" and not (data.get("tag") or "").strip():
            self.add_error("tag", _("Write the tag."))
        if action == "priority" and data.get("priority") is None:
            self.add_error("priority", _("Choose a priority."))
        return data

    def value(self) -> Any:
        action = self.cleaned_data["action"]
        if action == "assign":
            value = self.cleaned_data.get("assignee")
            return self.people.get(int(value)) if value else None
        return self.cleaned_data.get(action)

    @property
    def people(self) -> dict[int, User]:
        if self._people is None:
            self._people = {user.pk: user for user in assignable_members(self.organization_id)}
        return self._people


class SavedViewForm(QuickFieldsForm):
    name = forms.CharField(label=_("Name of the view"), max_length=80, widget=QuickTextInput)
    query = forms.CharField(required=False, max_length=1000, widget=QuickHiddenInput)


class ResponsePolicyForm(forms.ModelForm):
    working_days = forms.TypedMultipleChoiceField(
        label=_("Working days"),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    holidays = forms.CharField(
        label=_("Holidays"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Dates that are not working days, one per line, as YYYY-MM-DD."),
    )

    class Meta:
        model = ResponsePolicy
        fields = [
            "working_days",
            "work_starts",
            "work_ends",
            "target_hours",
            "high_priority_target_hours",
        ]
        widgets = {
            "work_starts": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "work_ends": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["holidays"] = "\n".join(self.instance.holidays or [])

    def clean_holidays(self) -> list[date]:
        days: list[date] = []
        for line in (self.cleaned_data.get("holidays") or "").split():
            try:
                days.append(date.fromisoformat(line.strip()))
            except ValueError as exc:
                raise forms.ValidationError(
                    _("%(value)s is not a date written as YYYY-MM-DD.") % {"value": line}
                ) from exc
        return days


class AccountsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: ChannelAccount) -> str:
        return f"{obj.handle} ({network_summary(obj.network).label})"


class InboxSettingsForm(forms.Form):
    signature_rule = forms.ChoiceField(
        label=_("Sign replies with"), choices=SignatureRule.choices, widget=forms.RadioSelect
    )
    approval_accounts = AccountsField(
        label=_("Replies from these accounts need approval"),
        queryset=ChannelAccount.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    approval_tags = forms.ModelMultipleChoiceField(
        label=_("Replies to items with these tags need approval"),
        queryset=Tag.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self, *args: Any, membership: Membership, instance: InboxSettings, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        organization = membership.organization
        accounts = ChannelAccount.objects.filter(organization=organization).order_by("handle")
        accounts_field = self.fields["approval_accounts"]
        tags_field = self.fields["approval_tags"]
        assert isinstance(accounts_field, forms.ModelMultipleChoiceField)
        assert isinstance(tags_field, forms.ModelMultipleChoiceField)
        accounts_field.queryset = accounts
        tags_field.queryset = tags_for(organization)
        if not self.is_bound:
            self.initial["signature_rule"] = instance.signature_rule
            if instance.pk:
                self.initial["approval_accounts"] = list(instance.approval_accounts.all())
                self.initial["approval_tags"] = list(instance.approval_tags.all())


class PriorityWordForm(forms.ModelForm):
    """A watch word in any language, or in one of the organization's post languages (its
    own list, not only the interface's)."""

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        codes = saved_reply_language_codes(organization, self.instance.language)
        self.fields["language"] = forms.ChoiceField(
            label=_("Language"),
            choices=[("", _("Any language")), *language_choices(codes)],
            required=False,
            error_messages={
                "invalid_choice": _(
                    "Choose one of the organization's post languages (the publishing "
                    "settings list them), or any language."
                )
            },
        )

    class Meta:
        model = PriorityWord
        fields = ["word", "language", "match_prefix", "level"]


class SavedReplyForm(forms.ModelForm):
    """A saved reply in any of the organization's post languages (its own list, not only
    the interface's); an existing reply keeps its language if it has left the list."""

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        codes = saved_reply_language_codes(organization, self.instance.language)
        self.fields["language"] = forms.ChoiceField(
            label=_("Language"), choices=[("", "---------"), *language_choices(codes)]
        )

    class Meta:
        model = SavedReply
        fields = ["title", "language", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 4})}
        help_texts = {
            "body": _(
                "{author} becomes the name of the person you answer, {first_name} your own "
                "first name, {organization} the organization's name."
            )
        }
