"""A Sandbox account's feed, where its posts land and the simulated audience answers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts import services
from accounts.connectors.sandbox import AudienceActivity
from accounts.forms import SimulateAudienceForm
from accounts.models import AccountStatus, ChannelAccount
from accounts.selectors import channel_account_get_for_membership, sandbox_feed
from accounts.views.common import account_view, membership_with, user_of
from governance.models import Membership
from governance.selectors.access import has_perm


def _sandbox_account(membership: Membership, pk: int) -> ChannelAccount:
    account = channel_account_get_for_membership(membership, pk)
    if account.network != "sandbox":
        raise Http404
    return account


@login_required
@require_GET
def sandbox_feed_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = membership_with(request, "accounts.view")
    account = _sandbox_account(membership, pk)
    can_simulate = has_perm(membership, "accounts.manage")
    return render(
        request,
        "accounts/sandbox_feed.html",
        {
            "account": account,
            "row": account_view(account),
            "threads": sandbox_feed(account),
            "followers": account.sandbox_followers.count(),
            "can_simulate": can_simulate,
            "simulate_form": SimulateAudienceForm() if can_simulate else None,
        },
    )


def _activity_summary(activity: AudienceActivity) -> str:
    parts = [
        ngettext("%(n)d reply", "%(n)d replies", activity.replies),
        ngettext("%(n)d mention", "%(n)d mentions", activity.mentions),
        ngettext("%(n)d direct message", "%(n)d direct messages", activity.messages),
        ngettext("%(n)d quote", "%(n)d quotes", activity.quotes),
        ngettext("%(n)d like", "%(n)d likes", activity.likes),
        ngettext("%(n)d repost", "%(n)d reposts", activity.reposts),
        ngettext("%(n)d new follower", "%(n)d new followers", activity.follows),
    ]
    counts = [
        activity.replies,
        activity.mentions,
        activity.messages,
        activity.quotes,
        activity.likes,
        activity.reposts,
        activity.follows,
    ]
    return ", ".join(part % {"n": n} for part, n in zip(parts, counts, strict=True) if n)


@login_required
@require_POST
def sandbox_simulate_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = membership_with(request, "accounts.manage")
    account = _sandbox_account(membership, pk)
    if account.status == AccountStatus.DISCONNECTED:
        messages.error(request, _("This practice account is disconnected. Reconnect it first."))
        return redirect("accounts:sandbox_feed", pk=account.pk)
    form = SimulateAudienceForm(request.POST)
    mood = form.cleaned_data["mood"] if form.is_valid() else "everyday"
    activity = services.sandbox_audience_simulate(
        account=account, actor=user_of(request), mood=mood, request=request
    )
    summary = _activity_summary(activity)
    messages.success(
        request,
        _("The simulated audience reacted: %(summary)s.") % {"summary": summary}
        if summary
        else _("The simulated audience did not react this time."),
    )
    return redirect("accounts:sandbox_feed", pk=account.pk)
