"""Queue slots: the page where a team keeps the times of the week it likes to post on
each account. Everyone who sees posts sees the slots of the accounts they may see;
editors, managers and admins add and remove them."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import ChannelAccount
from accounts.selectors import channel_accounts_for_membership
from governance.models import Membership
from governance.selectors.access import get_in_org, has_perm, request_membership_with_perm
from publishing.models import QueueSlot, Weekday
from publishing.services import queue as queue_services
from publishing.views.posts import render_page


class QueueSlotForm(forms.Form):
    account = forms.ModelChoiceField(
        label=gettext_lazy("Account"), queryset=ChannelAccount.objects.none()
    )
    weekday = forms.TypedChoiceField(
        label=gettext_lazy("Day of the week"), choices=Weekday.choices, coerce=int
    )
    time = forms.TimeField(
        label=gettext_lazy("Time of day"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )

    def __init__(self, *args: object, accounts: list[ChannelAccount], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["account"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = ChannelAccount.objects.filter(pk__in=[a.pk for a in accounts]).order_by(
            "network", "handle", "pk"
        )


@dataclass
class AccountSlots:
    account: ChannelAccount
    slots: list[QueueSlot]


def _rows(accounts: list[ChannelAccount]) -> list[AccountSlots]:
    by_account: dict[int, list[QueueSlot]] = {account.pk: [] for account in accounts}
    for slot in QueueSlot.objects.filter(channel_account__in=accounts).order_by(
        "weekday", "time", "pk"
    ):
        by_account[slot.channel_account_id].append(slot)
    return [AccountSlots(account, by_account[account.pk]) for account in accounts]


@login_required
@require_http_methods(["GET", "POST"])
def queue_slots_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership_with_perm(request, "posts.view")
    accounts = list(channel_accounts_for_membership(membership).order_by("network", "handle", "pk"))
    can_write = has_perm(membership, "posts.write")
    status = 200
    if request.method == "POST":
        membership = request_membership_with_perm(request, "posts.write")
        form = QueueSlotForm(request.POST, accounts=accounts)
        if form.is_valid():
            try:
                slot = queue_services.queue_slot_add(
                    membership=membership,
                    account=form.cleaned_data["account"],
                    weekday=form.cleaned_data["weekday"],
                    at=form.cleaned_data["time"],
                    request=request,
                )
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                messages.success(
                    request,
                    _("Added a queue slot to %(account)s: %(weekday)s at %(time)s.")
                    % {
                        "account": slot.channel_account.handle,
                        "weekday": slot.get_weekday_display(),
                        "time": slot.time.strftime("%H:%M"),
                    },
                )
                return redirect("publishing:queue_slots")
        status = 400
    else:
        form = QueueSlotForm(accounts=accounts)
    return render_page(
        request,
        "publishing/queue/slots.html",
        {
            "rows": _rows(accounts),
            "form": form,
            "can_write": can_write,
            "zone": queue_services.org_zone(membership.organization).key,
        },
        status=status,
    )


def _slot_for_action(request: HttpRequest, pk: int) -> tuple[Membership, QueueSlot]:
    # Visibility first (404 for another organization's or an unseen account's slot),
    # then the permission (403).
    membership = request_membership_with_perm(request, "posts.view")
    visible = channel_accounts_for_membership(membership)
    slot = get_in_org(
        QueueSlot.objects.filter(channel_account__in=visible).select_related("channel_account"),
        membership.organization,
        pk=pk,
    )
    return request_membership_with_perm(request, "posts.write"), slot


@login_required
@require_POST
def queue_slot_toggle_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership, slot = _slot_for_action(request, pk)
    slot = queue_services.queue_slot_set_enabled(
        membership=membership, slot=slot, enabled=not slot.enabled, request=request
    )
    values = {
        "weekday": slot.get_weekday_display(),
        "time": slot.time.strftime("%H:%M"),
        "account": slot.channel_account.handle,
    }
    if slot.enabled:
        message = _("The queue slot %(weekday)s %(time)s of %(account)s is in use again.")
    else:
        message = _(
            "Paused the queue slot %(weekday)s %(time)s of %(account)s: "
            '"Add to queue" skips it until you take it back in use.'
        )
    messages.success(request, message % values)
    return redirect("publishing:queue_slots")


@login_required
@require_POST
def queue_slot_remove_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership, slot = _slot_for_action(request, pk)
    label = _("%(weekday)s at %(time)s") % {
        "weekday": slot.get_weekday_display(),
        "time": slot.time.strftime("%H:%M"),
    }
    queue_services.queue_slot_remove(membership=membership, slot=slot, request=request)
    messages.success(
        request,
        _("Removed the queue slot %(slot)s of %(account)s.")
        % {"slot": label, "account": slot.channel_account.handle},
    )
    return redirect("publishing:queue_slots")
