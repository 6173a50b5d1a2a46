"""Crisis pause pages: stop publishing with a reason, decide about held posts when
publishing resumes, name emergency publishers, and publish through a pause.

Every change goes through ``publishing.services.pause``, which checks the
permission and the state and writes the audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import ChannelAccount
from accounts.selectors import channel_accounts_for_membership
from governance.models import Membership, Role
from governance.selectors.access import get_in_org, has_perm, request_membership, require_perm
from publishing.models import PostStatus, PublishingPause, PublishJob
from publishing.selectors import (
    active_pauses_for_membership,
    emergency_publishers,
    held_jobs,
    is_emergency_publisher,
    pauses_for_membership,
    post_get_for_user,
    posts_for_membership,
    publish_job_get_for_user,
)
from publishing.services.pause import (
    emergency_publish,
    emergency_publisher_add,
    emergency_publisher_remove,
    held_job_cancel,
    held_job_publish_now,
    held_job_reschedule,
    publishing_pause_end,
    publishing_pause_start,
)
from publishing.views.calendar import LocalDateTimeForm, post_url_builder, post_words
from publishing.views.posts import render_page

RECENT_PAUSES = 10
EMERGENCY_CANDIDATES = 50


# --- forms --------------------------------------------------------------------------------------


class PauseStartForm(forms.Form):
    scope = forms.TypedChoiceField(
        label=gettext_lazy("What to pause"), required=False, coerce=int, empty_value=None
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Everyone in the organization sees this on every page."),
    )

    def __init__(self, *args: Any, accounts: list[ChannelAccount], org_name: str, **kw: Any):
        super().__init__(*args, **kw)
        self.accounts = {a.pk: a for a in accounts}
        self.fields["scope"].choices = [  # type: ignore[attr-defined]
            ("", _("All publishing of %(organization)s") % {"organization": org_name})
        ] + [(str(a.pk), _("Only %(account)s") % {"account": a.handle}) for a in accounts]

    @property
    def channel_account(self) -> ChannelAccount | None:
        pk = self.cleaned_data.get("scope")
        return self.accounts.get(pk) if pk else None


class EmergencyPublisherForm(forms.Form):
    member = forms.TypedChoiceField(label=gettext_lazy("Member"), coerce=int)

    def __init__(self, *args: Any, candidates: list[Membership], **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["member"].choices = [  # type: ignore[attr-defined]
            (str(m.pk), f"{m.user.full_name or m.user.email} ({m.get_role_display()})")
            for m in candidates
        ]


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why must it be published now?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Kept in the audit log with your name."),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (optional)"), max_length=1000, required=False
    )


# --- the pause page -----------------------------------------------------------------------------


def _candidates(membership: Membership) -> list[Membership]:
    """Members who could be named emergency publishers (not auditors, not already named)."""
    named = {p.membership_id for p in emergency_publishers(membership.organization)}
    return [
        m
        for m in Membership.objects.filter(
            organization_id=membership.organization_id, is_active=True, user__is_active=True
        )
        .exclude(role=Role.AUDITOR)
        .select_related("user")
        .order_by("user__full_name", "user__email")
        if m.pk not in named
    ]


def _pause_page(
    request: HttpRequest,
    membership: Membership,
    *,
    start_form: PauseStartForm | None = None,
    publisher_form: EmergencyPublisherForm | None = None,
    status: int = 200,
) -> HttpResponse:
    organization = membership.organization
    can_manage = has_perm(membership, "publishing.pause")
    pauses = list(active_pauses_for_membership(membership))
    context: dict[str, Any] = {
        "pauses": pauses,
        "recent": list(
            pauses_for_membership(membership)
            .filter(ended_at__isnull=False)
            .select_related("channel_account", "started_by", "ended_by")
            .order_by("-ended_at")[:RECENT_PAUSES]
        ),
        "can_manage": can_manage,
        "publishers": list(emergency_publishers(organization).order_by("membership__user__email")),
        "is_emergency_publisher": is_emergency_publisher(membership),
    }
    if can_manage:
        context["start_form"] = start_form or PauseStartForm(
            accounts=list(channel_accounts_for_membership(membership).order_by("handle")),
            org_name=organization.name,
        )
        context["publisher_form"] = publisher_form or EmergencyPublisherForm(
            candidates=_candidates(membership)
        )
        context["held_count"] = held_jobs(membership).count()
    context["show_emergency"] = bool(pauses) and context["is_emergency_publisher"]
    if context["show_emergency"]:
        post_url = post_url_builder()
        posts = (
            posts_for_membership(membership)
            .filter(status__in=[PostStatus.APPROVED, PostStatus.SCHEDULED])
            .prefetch_related("variants__channel_account")
            .order_by("scheduled_at", "pk")[:EMERGENCY_CANDIDATES]
        )
        context["emergency_posts"] = [
            {
                "post": post,
                "label": post_words(post.title, [v.text for v in post.variants.all()], post.pk),
                "accounts": ", ".join(v.channel_account.handle for v in post.variants.all()),
                "url": post_url(post.pk),
            }
            for post in posts
        ]
    return render_page(request, "publishing/pause/index.html", context, status=status)


@login_required
@require_GET
def pause_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "posts.view")
    return _pause_page(request, membership)


@login_required
@require_POST
def pause_start_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "publishing.pause")
    form = PauseStartForm(
        request.POST,
        accounts=list(channel_accounts_for_membership(membership).order_by("handle")),
        org_name=membership.organization.name,
    )
    if form.is_valid():
        try:
            publishing_pause_start(
                membership=membership,
                reason=form.cleaned_data["reason"],
                channel_account=form.channel_account,
                request=request,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _(
                    "Publishing is paused. Posts that fall due now are held until you resume "
                    "and decide about each one."
                ),
            )
            return redirect("publishing:pause")
    return _pause_page(request, membership, start_form=form, status=400)


@login_required
@require_POST
def pause_end_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "publishing.pause")
    pause = get_in_org(PublishingPause.objects.all(), membership.organization, pk=pk)
    try:
        publishing_pause_end(pause=pause, membership=membership, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("publishing:pause")
    held = held_jobs(membership).count()
    if held:
        messages.success(
            request,
            ngettext(
                "Publishing has resumed. %(count)d held post is waiting: publish, reschedule "
                "or cancel it.",
                "Publishing has resumed. %(count)d held posts are waiting: publish, reschedule "
                "or cancel each one.",
                held,
            )
            % {"count": held},
        )
        return redirect("publishing:held_jobs")
    messages.success(request, _("Publishing has resumed. No posts were held."))
    return redirect("publishing:pause")


# --- held posts ---------------------------------------------------------------------------------


@dataclass
class HeldRow:
    job: PublishJob
    label: str
    url: str
    due: datetime
    held_at: datetime | None
    form: LocalDateTimeForm
    cancel_form: CancelForm


def _held_page(
    request: HttpRequest,
    membership: Membership,
    *,
    bound: dict[int, LocalDateTimeForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    tz = timezone.get_current_timezone()
    post_url = post_url_builder()
    rows = []
    for job in held_jobs(membership):
        form = (bound or {}).get(job.pk) or LocalDateTimeForm(prefix=f"job{job.pk}")
        rows.append(
            HeldRow(
                job=job,
                label=post_words(job.post.title, [job.variant.text], job.post_id),
                url=post_url(job.post_id),
                due=job.due_at.astimezone(tz),
                held_at=job.held_at.astimezone(tz) if job.held_at else None,
                form=form,
                cancel_form=CancelForm(prefix=f"cancel{job.pk}"),
            )
        )
    return render_page(
        request,
        "publishing/pause/held.html",
        {
            "rows": rows,
            "pauses": list(active_pauses_for_membership(membership)),
            "time_zone": str(tz),
        },
        status=status,
    )


@login_required
@require_GET
def held_jobs_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "publishing.pause")
    return _held_page(request, membership)


def _held_job(request: HttpRequest, pk: int) -> tuple[Membership, PublishJob]:
    membership = request_membership(request)
    require_perm(membership, "publishing.pause")
    return membership, publish_job_get_for_user(membership, pk)


def _job_label(job: PublishJob) -> str:
    words = post_words(job.post.title, [job.variant.text], job.post_id)
    return f"{job.channel_account.handle}: {words}"


@login_required
@require_POST
def held_job_publish_now_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership, job = _held_job(request, pk)
    try:
        held_job_publish_now(job=job, membership=membership, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("“%(post)s” is being published now.") % {"post": _job_label(job)}
        )
    return redirect("publishing:held_jobs")


@login_required
@require_POST
def held_job_reschedule_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership, job = _held_job(request, pk)
    form = LocalDateTimeForm(request.POST, prefix=f"job{job.pk}")
    if form.is_valid():
        try:
            job = held_job_reschedule(
                job=job, membership=membership, at=form.cleaned_data["at"], request=request
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            when = timezone.localtime(job.due_at)
            messages.success(
                request,
                _("“%(post)s” is rescheduled for %(date)s at %(time)s.")
                % {
                    "post": _job_label(job),
                    "date": formats.date_format(when, "DATE_FORMAT"),
                    "time": formats.time_format(when, "TIME_FORMAT"),
                },
            )
            return redirect("publishing:held_jobs")
    return _held_page(request, membership, bound={job.pk: form}, status=400)


@login_required
@require_POST
def held_job_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership, job = _held_job(request, pk)
    form = CancelForm(request.POST, prefix=f"cancel{job.pk}")
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        held_job_cancel(job=job, membership=membership, reason=reason, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("“%(post)s” will not be published to this account.") % {"post": _job_label(job)},
        )
    return redirect("publishing:held_jobs")


# --- emergency publishers -----------------------------------------------------------------------


@login_required
@require_POST
def emergency_publisher_add_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "publishing.pause")
    form = EmergencyPublisherForm(request.POST, candidates=_candidates(membership))
    if not form.is_valid():
        return _pause_page(request, membership, publisher_form=form, status=400)
    member = get_in_org(
        Membership.objects.select_related("user"),
        membership.organization,
        pk=form.cleaned_data["member"],
    )
    try:
        emergency_publisher_add(membership=membership, member=member, request=request)
    except ValidationError as exc:
        form.add_error("member", exc)
        return _pause_page(request, membership, publisher_form=form, status=400)
    messages.success(
        request,
        _("%(person)s may now publish during a pause.")
        % {"person": member.user.full_name or member.user.email},
    )
    return redirect("publishing:pause")


@login_required
@require_POST
def emergency_publisher_remove_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "publishing.pause")
    member = get_in_org(Membership.objects.select_related("user"), membership.organization, pk=pk)
    emergency_publisher_remove(membership=membership, member=member, request=request)
    messages.success(
        request,
        _("%(person)s is no longer an emergency publisher.")
        % {"person": member.user.full_name or member.user.email},
    )
    return redirect("publishing:pause")


@login_required
@require_http_methods(["GET", "POST"])
def emergency_publish_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Publish one post now, through an active pause (emergency publishers only)."""
    membership = request_membership(request)
    if not is_emergency_publisher(membership):
        raise PermissionDenied(_("Only emergency publishers may publish during a pause."))
    post = post_get_for_user(membership, pk)
    variants = list(post.variants.select_related("channel_account"))
    label = post_words(post.title, [v.text for v in variants], post.pk)
    form = ReasonForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                emergency_publish(
                    post=post,
                    membership=membership,
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    _("“%(post)s” is being published now, through the pause.") % {"post": label},
                )
                return redirect("publishing:pause")
        status = 400
    return render_page(
        request,
        "publishing/pause/emergency_publish.html",
        {
            "post": post,
            "label": label,
            "variants": variants,
            "post_url": post_url_builder()(post.pk),
            "form": form,
            "pauses": list(active_pauses_for_membership(membership)),
        },
        status=status,
    )
