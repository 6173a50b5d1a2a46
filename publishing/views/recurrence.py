"""Recurring posts: the composer's "Repeat" section and the series page (its
occurrences, each skippable; ending the series)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from governance.models import Membership
from governance.selectors.access import has_perm, request_membership, require_perm
from publishing.forms_recurrence import RepeatForm, repeat_initial
from publishing.models import Post, PostSeries, PostStatus
from publishing.selectors import post_get_for_user, posts_for_membership
from publishing.services import recurrence as recurrence_services
from publishing.services.queue import org_zone

PREVIEW_SIZE = 5


@dataclass
class RepeatSection:
    """What the composer shows about repeating: the form (a post that may repeat), or
    the series this post is one occurrence of; the rule in words and the next dates."""

    form: RepeatForm | None = None
    series: PostSeries | None = None
    # This post is one occurrence (not the first) of ``series``.
    occurrence: bool = False
    summary: str = ""
    preview: list[datetime] = field(default_factory=list)
    error: str = ""


def repeat_section(
    membership: Membership, post: Post | None, data: QueryDict | None, *, plannable: bool
) -> RepeatSection:
    series = None
    if post is not None and post.series_id is not None:
        series = PostSeries.objects.filter(pk=post.series_id).first()
        if series is not None and series.head_id != post.pk:
            return RepeatSection(series=series, occurrence=True, summary=_summary(series))
    section = RepeatSection(series=series)
    if series is not None and series.ended_at is None:
        section.summary = _summary(series)
    if not plannable:
        return section
    if data is not None:
        section.form = RepeatForm(data)
    else:
        section.form = RepeatForm(initial=repeat_initial(series))
        if series is not None and series.ended_at is None:
            now = timezone.now()
            section.preview = recurrence_services.series_starts(
                series, after=now, before=now + timedelta(days=3660)
            )[:PREVIEW_SIZE]
    return section


def _summary(series: PostSeries) -> str:
    return recurrence_services.series_summary(series) if series.ended_at is None else ""


def repeat_check(
    section: RepeatSection, planned_at: datetime | None, membership: Membership
) -> bool:
    """Validate a posted "Repeat" section against the planned time; fills in the rule
    in words and the next dates. False when it refuses."""
    form = section.form
    if form is None:
        return True
    if not form.is_valid():
        return False
    spec = form.spec()
    if spec is None:
        return True
    if planned_at is None:
        form.add_error("frequency", _("Give the post a planned time: the series starts then."))
        return False
    zone = org_zone(membership.organization)
    local = planned_at.astimezone(zone)
    try:
        rule = recurrence_services.rule_from_spec(spec, local.date())
    except ValidationError as error:
        target = {
            "repeat_interval": "interval",
            "repeat_until": "until",
            "repeat_count": "count",
            "repeat_weekdays": "weekdays",
        }.get(str(error.code), "frequency")
        form.add_error(target, error.messages)
        return False
    at = local.time().replace(second=0, microsecond=0)
    section.summary = recurrence_services.rule_summary(rule, local.date(), at, str(zone.key))
    section.preview = recurrence_services.preview_starts(
        rule, local.date(), at, zone, limit=PREVIEW_SIZE
    )
    return True


def repeat_save(
    request: HttpRequest, membership: Membership, post: Post, section: RepeatSection
) -> None:
    """After the post is saved: start, change or end its series as the section says."""
    form = section.form
    if form is None or not form.is_bound or not form.is_valid():
        return
    spec = form.spec()
    series = section.series
    if spec is None:
        if series is not None and series.ended_at is None:
            recurrence_services.series_end(series=series, membership=membership, request=request)
            messages.info(request, _("The post no longer repeats."))
        return
    post.refresh_from_db()
    if series is not None and series.ended_at is None and post.scheduled_at is not None:
        local = post.scheduled_at.astimezone(recurrence_services.zone_named(series.time_zone))
        rule = recurrence_services.rule_from_spec(spec, local.date())
        if (rule, local.date(), local.time().replace(second=0, microsecond=0)) == (
            series.rule,
            series.starts_on,
            series.time_of_day,
        ):
            return
    recurrence_services.series_set(post=post, membership=membership, spec=spec, request=request)


# --- the series page -----------------------------------------------------------------------------


@dataclass
class OccurrenceRow:
    post: Post
    is_head: bool
    can_skip: bool
    # A plain copy that can become the series' first post (its text then leads).
    can_lead: bool = False


def _series_for(membership: Membership, pk: int) -> PostSeries:
    """A series whose first post the member may see (404 otherwise)."""
    visible = posts_for_membership(membership).values("pk")
    return get_object_or_404(
        PostSeries.objects.select_related("head"),
        pk=pk,
        organization=membership.organization,
        head__in=visible,
    )


@login_required
@require_GET
def series_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "posts.view")
    series = _series_for(membership, pk)
    posts = (
        posts_for_membership(membership).filter(series=series).order_by("occurrence_start", "pk")
    )
    can_write = has_perm(membership, "posts.write")
    rows = [
        OccurrenceRow(
            post=post,
            is_head=post.pk == series.head_id,
            can_skip=can_write and post.is_cancellable,
            can_lead=can_write
            and series.ended_at is None
            and post.pk != series.head_id
            and not post.series_detached
            and post.is_editable
            and not series.head.is_editable,
        )
        for post in posts
    ]
    from publishing.views.posts import publishing_nav

    return render(
        request,
        "publishing/series/detail.html",
        {
            "series": series,
            "summary": _summary(series),
            "rows": rows,
            "can_write": can_write,
            "zone": series.time_zone,
            "publishing_nav": publishing_nav(request),
            "scheduled": PostStatus.SCHEDULED,
        },
    )


@login_required
@require_POST
def occurrence_skip_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "posts.write")
    post = post_get_for_user(membership, pk)
    try:
        recurrence_services.occurrence_skip(post=post, membership=membership, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Skipped the occurrence of %(when)s.")
            % {"when": _local(post.occurrence_start or post.scheduled_at)},
        )
    if post.series_id is None:
        return redirect("publishing:post_detail", pk=post.pk)
    return redirect("publishing:series_detail", pk=post.series_id)


@login_required
@require_POST
def series_edit_from_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "posts.write")
    post = post_get_for_user(membership, pk)
    try:
        recurrence_services.series_edit_from(post=post, membership=membership, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        if post.series_id is None:
            return redirect("publishing:post_detail", pk=post.pk)
        return redirect("publishing:series_detail", pk=post.series_id)
    messages.info(
        request,
        _(
            "A change of this post's text now changes the series from this occurrence on, "
            "and needs approval again."
        ),
    )
    return redirect("publishing:post_edit", pk=post.pk)


@login_required
@require_POST
def series_end_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "posts.write")
    series = _series_for(membership, pk)
    try:
        recurrence_services.series_end(series=series, membership=membership, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The series has ended: no more occurrences are scheduled."))
    return redirect("publishing:series_detail", pk=series.pk)


def _local(at: datetime | None) -> str:
    from django.utils import formats

    if at is None:
        return ""
    return formats.date_format(timezone.localtime(at), "DATETIME_FORMAT")
