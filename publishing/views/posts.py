"""Posts: the list, compose (new and edit) with live counts, the post's page with its
review, schedule and targets, and "Waiting for me".

Views parse, call the services in ``publishing.services`` and render; every rule
(who may approve, what a network refuses, which state allows what) is the
services' and the connectors'. A post another organization owns, or one a limited
member cannot see, is a 404; a forbidden action on a visible post is a 403.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import ChannelAccount
from accounts.selectors import channel_accounts_for_membership
from governance.models import AuditEvent, Membership, User
from governance.selectors.access import has_perm, request_membership, require_perm
from publishing.forms import (
    MAX_THREAD_PARTS,
    PICKER_SIZE,
    CancelForm,
    ComposedVariant,
    PostForm,
    ReviewForm,
    ScheduleForm,
    VariantForm,
    composed_from_variant,
    initial_for,
    language_name,
    network_connector,
    parse_target_key,
    target_key,
)
from publishing.models import (
    Campaign,
    HoldReason,
    JobStatus,
    MediaAsset,
    Post,
    PostStatus,
    PublishJob,
    Variant,
)
from publishing.selectors import (
    ApprovalState,
    media_assets_for_membership,
    post_approval_state,
    post_get_for_user,
    post_history,
    post_targets,
    posts_for_membership,
    posts_waiting_for_reviewer,
    publish_job_get_for_user,
)
from publishing.services import approval as approval_services
from publishing.services import dispatch as dispatch_services
from publishing.services import posts as post_services
from publishing.validation import publishing_rules, variants_with_content

POSTS_PER_PAGE = 50

# What the post's page says each state means, and what comes next.
STATUS_EXPLANATIONS: dict[str, Any] = {
    PostStatus.DRAFT: gettext_lazy(
        "A draft: only its writers work on it. Send it for review when it is ready."
    ),
    PostStatus.IN_REVIEW: gettext_lazy("Waiting for the reviewers named below."),
    PostStatus.CHANGES_REQUESTED: gettext_lazy(
        "A reviewer asked for changes. Edit the post, then send it for review again."
    ),
    PostStatus.APPROVED: gettext_lazy("Approved. Choose when it goes out and schedule it."),
    PostStatus.SCHEDULED: gettext_lazy("Scheduled: it goes out at the time shown."),
    PostStatus.PUBLISHING: gettext_lazy("Going out now."),
    PostStatus.PUBLISHED: gettext_lazy("Published on every account."),
    PostStatus.FAILED: gettext_lazy("Not every account took the post. See the targets below."),
    PostStatus.CANCELLED: gettext_lazy("Cancelled. It will not be published."),
}

# The post's history in words: audit action → what happened.
HISTORY_LABELS: dict[str, Any] = {
    "post.created": gettext_lazy("Started the post"),
    "post.updated": gettext_lazy("Changed the title or campaign"),
    "post.edited": gettext_lazy("Edited the text"),
    "post.returned_to_review": gettext_lazy("Edited the post, which sent it back to review"),
    "post.submitted": gettext_lazy("Sent it for review"),
    "post.withdrawn": gettext_lazy("Took it back to draft"),
    "post.review_approved": gettext_lazy("Approved"),
    "post.changes_requested": gettext_lazy("Asked for changes"),
    "post.approved": gettext_lazy("The post is approved"),
    "post.scheduled": gettext_lazy("Scheduled it"),
    "post.rescheduled": gettext_lazy("Moved it to another time"),
    "post.unscheduled": gettext_lazy("Took it off the schedule"),
    "post.cancelled": gettext_lazy("Cancelled the post"),
    "post.publishing": gettext_lazy("Publishing started"),
    "post.published": gettext_lazy("Published on every account"),
    "post.failed": gettext_lazy("Publishing failed on some accounts"),
    "post.retried": gettext_lazy("Tried publishing again"),
    "publish_job.published": gettext_lazy("Published to an account"),
    "publish_job.failed": gettext_lazy("Could not publish to an account"),
    "publish_job.held": gettext_lazy("Held back from an account"),
    "publish_job.released": gettext_lazy("Released a held target"),
    "publish_job.cancelled": gettext_lazy("Cancelled a target"),
    "publish_job.rescheduled": gettext_lazy("Moved a held target to another time"),
    "publish_job.retried": gettext_lazy("Tried an account again"),
    "publish_job.deleted_from_network": gettext_lazy("Deleted it from the network"),
    "publishing.emergency_publish": gettext_lazy("Published during a pause (emergency)"),
}


def _membership(request: HttpRequest, perm: str = "posts.view") -> Membership:
    """The caller's membership: 404 without one, 403 without ``perm``."""
    membership = request_membership(request)
    require_perm(membership, perm)
    return membership


@dataclass
class NavItem:
    url: str
    label: str
    current: bool


# The publishing area's own navigation: (url name, label, permission needed).
PUBLISHING_NAV: list[tuple[str, Any, str]] = [
    ("publishing:post_list", gettext_lazy("Posts"), "posts.view"),
    ("publishing:compose", gettext_lazy("New post"), "posts.write"),
    ("publishing:review_queue", gettext_lazy("Waiting for me"), "posts.approve"),
    ("publishing:calendar", gettext_lazy("Calendar"), "posts.view"),
    ("publishing:media", gettext_lazy("Media library"), "posts.view"),
    ("publishing:approval_policies", gettext_lazy("Approval policies"), "org.manage"),
    ("publishing:rules", gettext_lazy("Publishing rules"), "org.manage"),
    ("publishing:link_settings", gettext_lazy("Links in posts"), "org.manage"),
]


def publishing_nav(request: HttpRequest) -> list[NavItem]:
    """Links between the publishing pages the caller may use; "Waiting for me" carries
    the number of posts waiting for the caller's review."""
    membership: Membership | None = getattr(request, "membership", None)
    items: list[NavItem] = []
    if membership is None:
        return items
    for name, label, perm in PUBLISHING_NAV:
        if not has_perm(membership, perm):
            continue
        url = reverse(name)
        text = str(label)
        if name == "publishing:review_queue":
            text = _("Waiting for me (%(count)d)") % {
                "count": len(posts_waiting_for_reviewer(membership))
            }
        items.append(NavItem(url=url, label=text, current=request.path == url))
    return items


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """``render`` with the publishing area's navigation."""
    return render(
        request, template, {**context, "publishing_nav": publishing_nav(request)}, status=status
    )


def _messages_of(error: ValidationError) -> list[str]:
    return [str(message) for message in error.messages]


def _posted(request: HttpRequest) -> QueryDict | None:
    return request.POST if request.method == "POST" else None


# --- the list and "Waiting for me" -------------------------------------------------------


STATUS_FILTERS: list[tuple[str, Any]] = [
    ("", gettext_lazy("All")),
    *[(status.value, status.label) for status in PostStatus],
]


@login_required
@require_GET
def post_list_view(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    status = request.GET.get("status", "")
    if status not in PostStatus.values:
        status = ""
    posts = posts_for_membership(membership)
    if status:
        posts = posts.filter(status=status)
    posts = (
        posts.select_related("campaign", "created_by")
        .prefetch_related(
            Prefetch(
                "variants",
                queryset=Variant.objects.select_related("channel_account").order_by(
                    "channel_account__handle", "language"
                ),
            )
        )
        .order_by("-updated_at", "-pk")
    )
    page = Paginator(posts, POSTS_PER_PAGE).get_page(request.GET.get("page"))
    return render_page(
        request,
        "publishing/posts/list.html",
        {
            "page": page,
            "posts": [_list_row(post) for post in page.object_list],
            "status": status,
            "status_filters": STATUS_FILTERS,
            "can_write": has_perm(membership, "posts.write"),
            "can_manage": has_perm(membership, "org.manage"),
        },
    )


@dataclass
class ListRow:
    post: Post
    targets: list[str]
    languages: list[str]


def _list_row(post: Post) -> ListRow:
    variants = list(post.variants.all())
    return ListRow(
        post=post,
        targets=sorted({v.channel_account.handle for v in variants}),
        languages=sorted({language_name(v.language) for v in variants}),
    )


@login_required
@require_GET
def review_queue_view(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    posts = posts_waiting_for_reviewer(membership)
    return render_page(
        request,
        "publishing/posts/review_queue.html",
        {"posts": [_list_row(post) for post in posts]},
    )


# --- compose -------------------------------------------------------------------------------


@dataclass
class VariantPanel:
    """A variant form with what the page shows beside it: counts, problems, preview."""

    form: VariantForm
    composed: ComposedVariant
    require_alt_text: bool
    problems: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.form.key


def _panel(form: VariantForm, require_alt_text: bool) -> VariantPanel:
    composed = form.composed()
    return VariantPanel(
        form=form,
        composed=composed,
        require_alt_text=require_alt_text,
        problems=composed.problems(require_alt_text=require_alt_text),
    )


@dataclass
class AccountGroup:
    account: ChannelAccount
    panels: list[VariantPanel]


@dataclass
class Compose:
    post: Post | None
    post_form: PostForm
    panels: list[VariantPanel]
    locked: list[ComposedVariant]  # targets on accounts this member may not write for
    existing: dict[str, Variant]
    existing_composed: dict[str, ComposedVariant]
    focus: str = ""
    # Errors are shown once a save was tried, not while accounts or thread parts change.
    validated: bool = False

    @property
    def groups(self) -> list[AccountGroup]:
        groups: dict[int, AccountGroup] = {}
        for panel in self.panels:
            account = panel.form.account
            groups.setdefault(account.pk, AccountGroup(account=account, panels=[])).panels.append(
                panel
            )
        return list(groups.values())

    @property
    def previews(self) -> list[ComposedVariant]:
        return [panel.composed for panel in self.panels] + self.locked

    @property
    def error_count(self) -> int:
        if not self.validated:
            return 0
        count = sum(len(errors) for errors in self.post_form.errors.values())
        for panel in self.panels:
            count += sum(len(errors) for errors in panel.form.errors.values())
        return count

    def is_valid(self) -> bool:
        self.validated = True
        valid = self.post_form.is_valid()
        for panel in self.panels:
            valid = panel.form.is_valid() and valid
        return valid


def _posted_asset_ids(data: QueryDict | None) -> set[int]:
    ids: set[int] = set()
    if data is None:
        return ids
    for key in data:
        if "-media_" in key:
            ids.update(int(value) for value in data.getlist(key) if value.isdigit())
    return ids


def _picker(
    membership: Membership, attached: Iterable[MediaAsset], posted_ids: set[int]
) -> list[MediaAsset]:
    """The images each variant offers: the library's newest, plus any already attached
    or just ticked (only the organization's own: other ids are refused by the form)."""
    assets = {asset.pk: asset for asset in attached}
    library = media_assets_for_membership(membership).order_by("-created_at", "-pk")
    for asset in library[:PICKER_SIZE]:
        assets.setdefault(asset.pk, asset)
    missing = posted_ids - set(assets)
    if missing:
        for asset in library.filter(pk__in=missing):
            assets[asset.pk] = asset
    return sorted(assets.values(), key=lambda a: (a.created_at, a.pk), reverse=True)


def _apply_structure_action(data: QueryDict, action: str) -> str:
    """Add or remove a post of a thread in the posted data; returns the field to focus."""
    verb, _sep, rest = action.partition(":")
    if verb == "add_part":
        prefix = f"v-{rest}"
        count = _int(data.get(f"{prefix}-parts"))
        if count >= MAX_THREAD_PARTS:
            return f"id_{prefix}-part_{count}"
        data[f"{prefix}-parts"] = str(count + 1)
        data[f"{prefix}-part_{count + 1}"] = ""
        data.setlist(f"{prefix}-media_{count + 1}", [])
        return f"id_{prefix}-part_{count + 1}"
    if verb == "remove_part":
        key, _sep, number_text = rest.rpartition(":")
        prefix = f"v-{key}"
        count = _int(data.get(f"{prefix}-parts"))
        number = _int(number_text)
        if not 1 <= number <= count:
            return ""
        for later in range(number, count):
            data[f"{prefix}-part_{later}"] = data.get(f"{prefix}-part_{later + 1}", "")
            data.setlist(f"{prefix}-media_{later}", data.getlist(f"{prefix}-media_{later + 1}"))
        data.pop(f"{prefix}-part_{count}", None)
        data.pop(f"{prefix}-media_{count}", None)
        data[f"{prefix}-parts"] = str(count - 1)
        return f"id_{prefix}-text"
    return ""


def _int(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def _default_languages() -> list[str]:
    current = translation.get_language() or settings.LANGUAGE_CODE
    codes = [code for code, _name in settings.LANGUAGES]
    return [current] if current in codes else [codes[0]]


def _build_compose(
    request: HttpRequest,
    membership: Membership,
    post: Post | None,
    data: QueryDict | None,
    *,
    focus: str = "",
) -> Compose:
    accounts = list(channel_accounts_for_membership(membership).order_by("network", "handle", "pk"))
    usable = {account.pk: account for account in accounts}
    existing: dict[str, Variant] = {}
    existing_composed: dict[str, ComposedVariant] = {}
    locked: list[ComposedVariant] = []
    if post is not None:
        for variant in variants_with_content(post):
            composed = composed_from_variant(variant)
            if variant.channel_account_id in usable:
                existing[composed.key] = variant
                existing_composed[composed.key] = composed
            else:
                locked.append(composed)
    rules = publishing_rules(membership.organization_id)
    campaigns = Campaign.objects.filter(organization_id=membership.organization_id)
    language_codes = [code for code, _name in settings.LANGUAGES]

    planning: dict[str, Any] = {
        "planned_was": post.scheduled_at if post is not None else None,
        "plannable": post is None or post.status in post_services.PLANNABLE_STATUSES,
    }
    if data is not None:
        chosen_ids = {int(v) for v in data.getlist("accounts") if v.isdigit()}
        chosen_accounts = [a for a in accounts if a.pk in chosen_ids]
        chosen_languages = [c for c in language_codes if c in data.getlist("languages")]
        post_form = PostForm(data, accounts=accounts, campaigns=campaigns, **planning)
    else:
        if existing_composed:
            account_ids = {c.account.pk for c in existing_composed.values()}
            chosen_accounts = [a for a in accounts if a.pk in account_ids]
            # Languages of targets this member cannot edit are not offered as empty texts.
            languages = {c.language for c in existing_composed.values()}
            chosen_languages = [c for c in language_codes if c in languages]
        else:
            wanted = request.GET.get("account", "")
            chosen_accounts = [a for a in accounts if str(a.pk) == wanted]
            if not chosen_accounts and len(accounts) == 1:
                chosen_accounts = accounts
            chosen_languages = _default_languages()
        initial = {
            "accounts": [a.pk for a in chosen_accounts],
            "languages": chosen_languages,
        }
        if post is not None:
            initial.update(
                {"title": post.title, "campaign": post.campaign_id, "planned_at": post.scheduled_at}
            )
        post_form = PostForm(initial=initial, accounts=accounts, campaigns=campaigns, **planning)

    attached = [asset for c in existing_composed.values() for images in c.media for asset in images]
    picker = _picker(membership, attached, _posted_asset_ids(data))
    forms_by_key: dict[str, VariantForm] = {}
    by_language: dict[str, ComposedVariant] = {}
    slots = [(account, language) for account in chosen_accounts for language in chosen_languages]
    # Targets on the page keep what was typed; a target just added starts from the same
    # language's text elsewhere (typed, or saved), so nobody types it twice.
    for account, language in slots:
        key = target_key(account.pk, language)
        prefix = f"v-{key}"
        if data is not None and data.get(f"{prefix}-present"):
            form = VariantForm(
                data,
                account=account,
                language=language,
                part_count=_int(data.get(f"{prefix}-parts")),
                picker=picker,
            )
            forms_by_key[key] = form
            by_language.setdefault(language, form.composed())
    for composed in existing_composed.values():
        by_language.setdefault(composed.language, composed)
    for account, language in slots:
        key = target_key(account.pk, language)
        if key in forms_by_key:
            continue
        source = existing_composed.get(key) or by_language.get(language)
        if source is not None and source.account.pk != account.pk:
            source = ComposedVariant(
                account=account,
                language=language,
                texts=list(source.texts),
                media=[list(images) for images in source.media],
                content_warning=source.content_warning,
                visibility=source.visibility,
            )
        forms_by_key[key] = VariantForm(
            initial=initial_for(source) if source else {"parts": 0, "present": "1"},
            account=account,
            language=language,
            part_count=len(source.texts) - 1 if source else 0,
            picker=picker,
        )
    panels: list[VariantPanel] = []
    for account, language in slots:
        form = forms_by_key[target_key(account.pk, language)]
        if focus:
            form.focus(focus)
        panels.append(_panel(form, rules.require_alt_text))
    return Compose(
        post=post,
        post_form=post_form,
        panels=panels,
        locked=locked,
        existing=existing,
        existing_composed=existing_composed,
        focus=focus,
    )


def _render_compose(request: HttpRequest, compose: Compose, *, status: int = 200) -> HttpResponse:
    post = compose.post
    return render_page(
        request,
        "publishing/posts/compose.html",
        {
            "compose": compose,
            "post": post,
            "form": compose.post_form,
            "returns_to_review": post is not None
            and post.status in (PostStatus.IN_REVIEW, PostStatus.APPROVED, PostStatus.SCHEDULED),
            "can_submit": post is None
            or post.status in (PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED),
            "max_parts": MAX_THREAD_PARTS,
        },
        status=status,
    )


def _check_before_submit(compose: Compose) -> bool:
    """Refuse, next to each variant, what its network would refuse (alt text may still
    be added before scheduling, as the review service allows)."""
    ok = True
    for panel in compose.panels:
        problems = panel.composed.problems(require_alt_text=False)
        for problem in problems:
            panel.form.add_error(None, problem)
        if problems:
            ok = False
            # The refusal is about the text field's content: let screen readers find it there.
            attrs = panel.form.fields["text"].widget.attrs
            attrs["aria-describedby"] = f"{panel.form.prefix}-errors"
            attrs["aria-invalid"] = "true"  # WCAG 3.3.1 / 4.1.2: the box says it is wrong
    return ok


def _save_compose(
    request: HttpRequest, membership: Membership, compose: Compose
) -> tuple[Post, int]:
    """Save the post and every changed variant, all or nothing; returns the post and how
    many variants changed. Unchanged variants are not saved, so they keep the post's
    version (and approval) as it is."""
    data = compose.post_form.cleaned_data
    post = compose.post
    changed = 0
    with transaction.atomic():
        campaign: Campaign | None = data.get("campaign")
        if data.get("new_campaign", "").strip():
            campaign = post_services.campaign_create(
                membership=membership, name=data["new_campaign"], request=request
            )
        title = data.get("title", "")
        # Absent when the post is scheduled: its time then moves only with its jobs.
        planned_at: datetime | None = data.get("planned_at")
        if post is None:
            post = post_services.post_create(
                membership=membership,
                title=title,
                campaign=campaign,
                planned_at=planned_at,
                request=request,
            )
        else:
            changes: dict[str, Any] = {}
            if title.strip() != post.title:
                changes["title"] = title
            if (campaign.pk if campaign else None) != post.campaign_id:
                changes["campaign"] = campaign
            if "planned_at" in data and planned_at != post.scheduled_at:
                changes["planned_at"] = planned_at
            if changes:
                post = post_services.post_update(
                    post=post, membership=membership, request=request, **changes
                )
        kept: set[str] = set()
        for panel in compose.panels:
            composed = panel.form.composed()
            kept.add(composed.key)
            old = compose.existing_composed.get(composed.key)
            if old is not None and old.signature() == composed.signature():
                continue
            post_services.variant_save(
                post=post,
                membership=membership,
                channel_account=composed.account,
                language=composed.language,
                text=composed.texts[0],
                content_warning=composed.content_warning,
                visibility=composed.visibility,
                thread_parts=composed.texts[1:],
                media=composed.media_slots(),
                request=request,
            )
            changed += 1
        for key, variant in compose.existing.items():
            if key not in kept:
                post_services.variant_delete(
                    variant=variant, membership=membership, request=request
                )
                changed += 1
    return post, changed


def _compose_view(request: HttpRequest, post: Post | None) -> HttpResponse:
    membership = _membership(request, "posts.write")
    if post is not None and not post.is_editable:
        messages.error(
            request,
            _("This post is %(status)s, so it cannot be edited.")
            % {"status": PostStatus(post.status).label.lower()},
        )
        return redirect("publishing:post_detail", pk=post.pk)
    if request.method != "POST":
        return _render_compose(request, _build_compose(request, membership, post, None))
    data = request.POST.copy()
    action = data.get("action", "save")
    focus = ""
    if action.startswith(("add_part:", "remove_part:")):
        focus = _apply_structure_action(data, action)
    compose = _build_compose(request, membership, post, data, focus=focus)
    if action not in ("save", "submit"):
        return _render_compose(request, compose)
    if not compose.is_valid() or (action == "submit" and not _check_before_submit(compose)):
        return _render_compose(request, compose, status=400)
    was_status = post.status if post is not None else None
    try:
        saved, changed = _save_compose(request, membership, compose)
    except ValidationError as error:
        for message in _messages_of(error):
            compose.post_form.add_error(None, message)
        return _render_compose(request, compose, status=400)
    if action == "submit":
        try:
            post_services.post_submit_for_review(post=saved, membership=membership, request=request)
        except ValidationError as error:
            messages.error(
                request,
                _("Saved, but not sent for review: %(reason)s")
                % {"reason": " ".join(_messages_of(error))},
            )
            return redirect("publishing:post_detail", pk=saved.pk)
        saved.refresh_from_db(fields=["status"])
        if saved.status == PostStatus.APPROVED:
            messages.success(
                request, _("Saved. The approval policy has no stages, so the post is approved.")
            )
        else:
            messages.success(request, _("Saved and sent for review."))
    elif (
        was_status in (PostStatus.IN_REVIEW, PostStatus.APPROVED, PostStatus.SCHEDULED) and changed
    ):
        messages.warning(
            request, _("Saved. The post changed, so it went back to review and needs approval.")
        )
    elif post is None:
        messages.success(request, _("Draft saved."))
    else:
        messages.success(request, _("Saved."))
    return redirect("publishing:post_detail", pk=saved.pk)


@login_required
@require_http_methods(["GET", "POST"])
def compose_view(request: HttpRequest) -> HttpResponse:
    return _compose_view(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def post_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    return _compose_view(request, post_get_for_user(membership, pk))


@login_required
@require_POST
def compose_check_view(request: HttpRequest) -> HttpResponse:
    """The live count and problems of one variant as typed (htmx, on input), with its
    preview card swapped in out of band. Nothing is saved."""
    membership = _membership(request, "posts.write")
    target = parse_target_key(request.POST.get("check", ""))
    if target is None:
        raise Http404
    account_id, language = target
    account = channel_accounts_for_membership(membership).filter(pk=account_id).first()
    if account is None:
        raise Http404
    prefix = f"v-{target_key(account_id, language)}"
    picker = list(
        media_assets_for_membership(membership).filter(pk__in=_posted_asset_ids(request.POST))
    )
    form = VariantForm(
        request.POST,
        account=account,
        language=language,
        part_count=_int(request.POST.get(f"{prefix}-parts")),
        picker=picker,
    )
    panel = _panel(form, publishing_rules(membership.organization_id).require_alt_text)
    return render(
        request, "publishing/posts/_variant_check.html", {"panel": panel, "variant": panel.composed}
    )


# --- the post's page --------------------------------------------------------------------


@dataclass
class StageRow:
    name: str
    policy_name: str
    require_all: bool
    is_open: bool
    satisfied: bool
    approved_by: list[str]
    waiting_for: list[str]
    eligible: list[str]


def _stage_rows(state: ApprovalState) -> list[StageRow]:
    ids: set[int] = set()
    for stage in state.stages:
        ids |= stage.eligible_user_ids | stage.approved_user_ids
    names = {user.pk: str(user) for user in User.objects.filter(pk__in=ids)}

    def named(user_ids: Iterable[int]) -> list[str]:
        return sorted(names.get(pk, "?") for pk in user_ids)

    return [
        StageRow(
            name=stage.name or _("Approval"),
            policy_name=stage.policy_name,
            require_all=stage.require_all,
            is_open=stage.is_open,
            satisfied=stage.satisfied,
            approved_by=named(stage.approved_user_ids),
            waiting_for=named(stage.waiting_for_user_ids),
            eligible=named(stage.eligible_user_ids),
        )
        for stage in state.stages
    ]


@dataclass
class TargetRow:
    variant: Variant
    job: PublishJob | None
    network_label: str
    language: str
    can_retry: bool
    can_delete: bool
    # Held for review, and this person may decide on held posts.
    can_review: bool = False


def _target_rows(
    post: Post, variants: Sequence[Variant], membership: Membership
) -> list[TargetRow]:
    jobs = {job.variant_id: job for job in post_targets(post)}
    can_write = has_perm(membership, "posts.write")
    can_decide = has_perm(membership, "publishing.pause")
    usable = set(channel_accounts_for_membership(membership).values_list("pk", flat=True))
    rows = []
    for variant in variants:
        job = jobs.get(variant.pk)
        connector = network_connector(variant.channel_account)
        may_act = can_write and variant.channel_account_id in usable and job is not None
        rows.append(
            TargetRow(
                variant=variant,
                job=job,
                network_label=str(connector.label)
                if connector
                else variant.channel_account.network,
                language=language_name(variant.language),
                can_retry=may_act and job is not None and job.status == JobStatus.FAILED,
                can_delete=may_act
                and job is not None
                and job.status == JobStatus.PUBLISHED
                and job.deleted_at is None
                and bool(connector and connector.capabilities.delete),
                can_review=can_decide
                and variant.channel_account_id in usable
                and job is not None
                and job.status == JobStatus.HELD
                and job.hold_reason == HoldReason.REVIEW,
            )
        )
    return rows


@dataclass
class HistoryEntry:
    event: AuditEvent
    label: str
    details: list[tuple[str, str]]
    comment: str
    link: str


# Values in an audit entry a person reading the post's history cares about.
_HISTORY_DETAILS: list[tuple[str, Any]] = [
    ("channel_account", gettext_lazy("Account")),
    ("language", gettext_lazy("Language")),
    ("reason", gettext_lazy("Reason")),
    ("stage", gettext_lazy("Stage")),
    ("stages", gettext_lazy("Stages")),
    ("scheduled_at", gettext_lazy("Time")),
    ("version", gettext_lazy("Version")),
]


def _history_value(key: str, value: Any, handles: dict[int, str]) -> str:
    """One audit value as a person reads it: an account by its handle, a language by its
    name, a time in the reader's time zone."""
    if key == "channel_account" and isinstance(value, int):
        return handles.get(value, str(value))
    if key == "language":
        return language_name(str(value))
    if key == "scheduled_at" and isinstance(value, str):
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            return value
        return formats.date_format(timezone.localtime(at), "DATETIME_FORMAT")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _history(post: Post) -> list[HistoryEntry]:
    events = list(post_history(post))
    account_ids = {
        value
        for event in events
        if isinstance(value := (event.new_values or {}).get("channel_account"), int)
    }
    handles = dict(
        ChannelAccount.objects.filter(
            organization_id=post.organization_id, pk__in=account_ids
        ).values_list("pk", "handle")
    )
    entries = []
    for event in events:
        values = event.new_values or {}
        details: list[tuple[str, str]] = []
        old_status = (event.old_values or {}).get("status")
        new_status = values.get("status")
        if old_status and new_status and old_status != new_status:
            details.append(
                (
                    _("Status"),
                    _("%(old)s → %(new)s")
                    % {"old": _status_label(old_status), "new": _status_label(new_status)},
                )
            )
        for key, label in _HISTORY_DETAILS:
            value = values.get(key)
            if value in (None, "", []):
                continue
            details.append((str(label), _history_value(key, value, handles)))
        entries.append(
            HistoryEntry(
                event=event,
                label=str(HISTORY_LABELS.get(event.action, event.action)),
                details=details,
                comment=str(values.get("comment") or ""),
                link=str(values.get("url") or ""),
            )
        )
    return entries


def _status_label(value: str) -> str:
    try:
        return str(PostStatus(value).label)
    except ValueError:
        return value


def _self_approval_note(post: Post, membership: Membership, state: ApprovalState) -> str:
    """Why a reviewer who wrote the post is not asked to approve it, in words."""
    if post.status != PostStatus.IN_REVIEW or not has_perm(membership, "posts.approve"):
        return ""
    user_id = membership.user_id
    if user_id not in (post.created_by_id, post.submitted_by_id):
        return ""
    if state.open_stages_for(user_id):
        return ""
    return _(
        "You wrote or submitted this post, and its approval policy does not let authors "
        "approve their own posts. Someone else must review it."
    )


def _detail_context(
    request: HttpRequest, membership: Membership, post: Post, **forms: Any
) -> dict[str, Any]:
    variants = variants_with_content(post)
    state = post_approval_state(post)
    can_write = has_perm(membership, "posts.write")
    rules = publishing_rules(membership.organization_id)
    composed = [composed_from_variant(variant) for variant in variants]
    problems: list[str] = []
    if post.status in (PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED, PostStatus.APPROVED):
        problems = post_services.problem_messages(
            post, with_org_rules=post.status == PostStatus.APPROVED
        )
    may_review = post.status == PostStatus.IN_REVIEW and bool(
        state.open_stages_for(membership.user_id)
    )
    context = {
        "post": post,
        "status_explanation": STATUS_EXPLANATIONS.get(post.status, ""),
        "previews": composed,
        "stages": _stage_rows(state) if post.status == PostStatus.IN_REVIEW else [],
        "open_stages": [s.name or _("Approval") for s in state.open_stages_for(membership.user_id)],
        "may_review": may_review,
        "self_approval_note": _self_approval_note(post, membership, state),
        "targets": _target_rows(post, variants, membership),
        "history": _history(post),
        "problems": problems,
        "require_alt_text": rules.require_alt_text,
        "can_write": can_write,
        "can_edit": can_write and post.is_editable,
        "can_submit": can_write and post.status in (PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED),
        "can_withdraw": can_write
        and post.status in (PostStatus.IN_REVIEW, PostStatus.CHANGES_REQUESTED),
        "can_schedule": can_write and post.status == PostStatus.APPROVED,
        "can_unschedule": can_write and post.status == PostStatus.SCHEDULED,
        "can_cancel": can_write and post.is_cancellable,
        "edit_returns_to_review": post.status
        in (PostStatus.IN_REVIEW, PostStatus.APPROVED, PostStatus.SCHEDULED),
        "review_form": forms.get("review_form") or ReviewForm(),
        "schedule_form": forms.get("schedule_form")
        or ScheduleForm(initial={"at": post.scheduled_at or ScheduleForm.default_time()}),
        "cancel_form": forms.get("cancel_form") or CancelForm(),
        "review_error": forms.get("review_error", ""),
    }
    return context


def _render_detail(
    request: HttpRequest, membership: Membership, post: Post, *, status: int = 200, **forms: Any
) -> HttpResponse:
    return render_page(
        request,
        "publishing/posts/detail.html",
        _detail_context(request, membership, post, **forms),
        status=status,
    )


@login_required
@require_GET
def post_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    return _render_detail(request, membership, post_get_for_user(membership, pk))


def _post_for_action(request: HttpRequest, pk: int, perm: str) -> tuple[Membership, Post]:
    # Visibility first (404), then the permission (403).
    membership = _membership(request)
    post = post_get_for_user(membership, pk)
    require_perm(membership, perm)
    return membership, post


def _done(request: HttpRequest, post: Post, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("publishing:post_detail", pk=post.pk)


def _refused(request: HttpRequest, post: Post, error: ValidationError) -> HttpResponse:
    for message in _messages_of(error):
        messages.error(request, message)
    return redirect("publishing:post_detail", pk=post.pk)


@login_required
@require_POST
def post_submit_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership, post = _post_for_action(request, pk, "posts.write")
    try:
        post = post_services.post_submit_for_review(
            post=post, membership=membership, request=request
        )
    except ValidationError as error:
        return _refused(request, post, error)
    if post.status == PostStatus.APPROVED:
        return _done(
            request, post, _("The approval policy has no stages, so the post is approved.")
        )
    return _done(request, post, _("Sent for review. The reviewers have been told."))


@login_required
@require_POST
def post_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership, post = _post_for_action(request, pk, "posts.write")
    try:
        post_services.post_withdraw(post=post, membership=membership, request=request)
    except ValidationError as error:
        return _refused(request, post, error)
    return _done(request, post, _("The post is a draft again."))


@login_required
@require_POST
def post_review_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve, or request changes (``decision`` says which), with a comment."""
    membership = _membership(request)
    post = post_get_for_user(membership, pk)
    form = ReviewForm(request.POST)
    decision = request.POST.get("decision", "")
    if not form.is_valid() or decision not in ("approve", "request_changes"):
        return _render_detail(request, membership, post, status=400, review_form=form)
    comment = form.cleaned_data["comment"]
    try:
        if decision == "approve":
            post = approval_services.post_approve(
                post=post, membership=membership, comment=comment, request=request
            )
        else:
            post = approval_services.post_request_changes(
                post=post, membership=membership, comment=comment, request=request
            )
    except PermissionDenied as error:
        # The service says why (your own post, already approved, not your stage).
        reason = str(error) or _("You cannot review this post.")
        return _render_detail(
            request, membership, post, status=403, review_form=form, review_error=reason
        )
    except ValidationError as error:
        if decision == "request_changes" and error.code == "comment_required":
            form.add_error("comment", error)
            return _render_detail(request, membership, post, status=400, review_form=form)
        return _refused(request, post, error)
    if decision == "request_changes":
        return _done(request, post, _("Sent back to the author with your comment."))
    if post.status == PostStatus.APPROVED:
        return _done(request, post, _("Approved. The post can be scheduled now."))
    return _done(request, post, _("Your approval is recorded. The next reviewers have been told."))


@login_required
@require_POST
def post_schedule_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership, post = _post_for_action(request, pk, "posts.write")
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, membership, post, status=400, schedule_form=form)
    at = form.cleaned_data["at"]
    try:
        if post.status == PostStatus.SCHEDULED:
            post = post_services.post_reschedule(
                post=post, membership=membership, at=at, request=request
            )
        else:
            post = post_services.post_schedule(
                post=post, membership=membership, at=at, request=request
            )
    except ValidationError as error:
        for message in _messages_of(error):
            form.add_error("at", message)
        return _render_detail(request, membership, post, status=400, schedule_form=form)
    return _done(request, post, _("Scheduled."))


@login_required
@require_POST
def post_unschedule_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership, post = _post_for_action(request, pk, "posts.write")
    try:
        post_services.post_unschedule(post=post, membership=membership, request=request)
    except ValidationError as error:
        return _refused(request, post, error)
    return _done(request, post, _("Taken off the schedule. It stays approved."))


@login_required
@require_POST
def post_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership, post = _post_for_action(request, pk, "posts.write")
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, membership, post, status=400, cancel_form=form)
    try:
        post_services.post_cancel(
            post=post, membership=membership, reason=form.cleaned_data["reason"], request=request
        )
    except ValidationError as error:
        return _refused(request, post, error)
    return _done(request, post, _("The post is cancelled. It will not be published."))


# --- a target's outcome: retry, delete from the network ----------------------------------


@login_required
@require_POST
def job_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    job = publish_job_get_for_user(membership, pk)
    require_perm(membership, "posts.write")
    try:
        dispatch_services.publish_job_retry(job=job, membership=membership, request=request)
    except ValidationError as error:
        return _refused(request, job.post, error)
    return _done(
        request,
        job.post,
        _("Trying %(account)s again now.") % {"account": job.channel_account.handle},
    )


@login_required
@require_http_methods(["GET", "POST"])
def job_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    job = publish_job_get_for_user(membership, pk)
    require_perm(membership, "posts.write")
    if request.method == "POST":
        try:
            dispatch_services.published_variant_delete(
                job=job, membership=membership, request=request
            )
        except ValidationError as error:
            return _refused(request, job.post, error)
        return _done(
            request,
            job.post,
            _("Deleted from %(account)s.") % {"account": job.channel_account.handle},
        )
    connector = network_connector(job.channel_account)
    return render_page(
        request,
        "publishing/posts/job_delete.html",
        {
            "job": job,
            "post": job.post,
            "network_label": connector.label if connector else job.channel_account.network,
            "language": language_name(job.variant.language),
            "back": reverse("publishing:post_detail", args=[job.post_id]),
        },
    )
