"""What the accounts app tells governance about (see ``governance.providers``): the
channel accounts a leaving person connected, for their handover.

Registered in ``AccountsConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import AccountStatus, ChannelAccount
from accounts.selectors import network_summary
from governance.models import Membership, User
from governance.providers import HeldItem
from governance.selectors.access import has_perm
from governance.services.audit import audit_record


class ConnectedAccountsProvider:
    """Channel accounts the person connected. Whoever connected an account is told when
    its sign-in needs renewing, so the new holder must be able to reconnect it."""

    key = "accounts.connected"
    label = gettext_lazy("Channel accounts they connected")

    def items_held_by(self, membership: Membership) -> list[HeldItem]:
        accounts = (
            ChannelAccount.objects.filter(
                organization_id=membership.organization_id, connected_by_id=membership.user_id
            )
            .exclude(status=AccountStatus.DISCONNECTED)
            .order_by("network", "handle")
        )
        return [
            HeldItem(
                object_type="accounts.channelaccount",
                object_id=str(account.pk),
                label=account.display_name or account.handle,
                link=reverse("accounts:detail", args=[account.pk]),
                detail=f"{account.handle}, {network_summary(account.network).label}; "
                f"{account.get_status_display()}",
            )
            for account in accounts
        ]

    def reassign(
        self,
        item_ids: Sequence[str],
        new_holder: Membership,
        actor: User,
        *,
        previous_holder: Membership,
    ) -> None:
        if not has_perm(new_holder, "accounts.manage"):
            user = new_holder.user
            raise ValidationError(
                _(
                    "%(name)s cannot reconnect channel accounts; choose a manager or an admin "
                    "to look after them."
                )
                % {"name": user.full_name or user.email},
                code="holder_cannot_manage_accounts",
            )
        accounts = ChannelAccount.objects.select_for_update().filter(
            organization_id=new_holder.organization_id,
            pk__in=[int(pk) for pk in item_ids if str(pk).isdigit()],
            connected_by_id=previous_holder.user_id,
        )
        for account in accounts.order_by("pk"):
            ChannelAccount.objects.filter(pk=account.pk).update(connected_by=new_holder.user)
            audit_record(
                action="channel_account.holder_changed",
                organization=new_holder.organization,
                actor=actor,
                target=account,
                old={"connected_by": previous_holder.user.email},
                new={"connected_by": new_holder.user.email, "reason": "handover"},
            )
