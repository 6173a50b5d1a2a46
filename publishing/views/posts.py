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

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
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
from publishing.languages import (
    is_language_tag,
    language_direction,
    language_label,
    organization_language_codes,
)
from publishing.models import (
    Campaign,
    HashtagSet,
    HoldReason,
    JobStatus,
    MediaAsset,
    OutsideReview,
    Post,
    PostStatus,
    PublishJob,
    StyleGuide,
    Variant,
    WordRule,
)
from publishing.selectors import (
    ApprovalState,
    PostTarget,
    finished_video_copies,
    held_post_ids,
    media_assets_for_membership,
    outside_reviews_for_post,
    post_approval_state,
    post_get_for_user,
    post_history,
    post_list_targets,
    post_targets,
    posts_for_membership,
    posts_waiting_for_reviewer,
    posts_waiting_for_reviewer_count,
    publish_job_get_for_user,
)
from publishing.selectors_guidelines import (
    WordHit,
    hashtag_sets_for,
    missing_hashtags,
    missing_hashtags_message,
    style_guides_for,
    word_hits,
    word_rules_for,
)
from publishing.services import approval as approval_services
from publishing.services import dispatch as dispatch_services
from publishing.services import media as media_services
from publishing.services import posts as post_services
from publishing.services import queue as queue_services
from publishing.services.media import MAX_ALT_TEXT
from publishing.services.outside_review import outside_link_problem
from publishing.services.quiet_days import quiet_day_warning
from publishing.validation import (
    default_post_languages,
    publishing_rules,
    variant_problem_items,
    variants_with_content,
)
from publishing.views.recurrence import RepeatSection, repeat_check, repeat_save, repeat_section

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

# A scheduled post with a target held back does not go out at the time shown: what
# its page says instead, by why it is held.
HELD_EXPLANATIONS: dict[str, Any] = {
    HoldReason.PAUSE: gettext_lazy(
        "Held by the crisis pause: it did not go out at the time shown. When publishing "
        "resumes, a manager decides whether it is published, moved or cancelled."
    ),
    HoldReason.ACCOUNT: gettext_lazy(
        "Held: an account cannot publish until it is reconnected or resumed. "
        "See where it goes, below."
    ),
    HoldReason.REVIEW: gettext_lazy(
        "Held for review: we could not tell whether it was published. See where it goes, below."
    ),
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
    "post.language_approved": gettext_lazy("Approved a language version"),
    "post.outside_review_sent": gettext_lazy("Sent the outside reviewer a link"),
    "post.outside_review_resent": gettext_lazy("Sent the outside reviewer a new link"),
    "post.outside_review_revoked": gettext_lazy("Withdrew the outside reviewer's link"),
    "post.outside_review_approved": gettext_lazy("Approved (outside reviewer)"),
    "post.outside_changes_requested": gettext_lazy("Asked for changes (outside reviewer)"),
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
    "post.series_set": gettext_lazy("Set how the post repeats"),
    "post.series_ended": gettext_lazy("Ended the series"),
    "post.series_edit_from": gettext_lazy("Made the series' text start from this occurrence"),
    "post.series_approved": gettext_lazy("Approved the series with its first post"),
    "post.series_approval_ended": gettext_lazy("The series needs approval again"),
    "post.series_detached": gettext_lazy("Edited on its own, apart from its series"),
    "post.occurrence_scheduled": gettext_lazy("Scheduled as an occurrence of its series"),
    "post.occurrence_skipped": gettext_lazy("Skipped this occurrence"),
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
    ("publishing:import", gettext_lazy("Import"), "posts.write"),
    ("publishing:review_queue", gettext_lazy("Waiting for me"), "posts.approve"),
    ("publishing:calendar", gettext_lazy("Calendar"), "posts.view"),
    ("publishing:queue_slots", gettext_lazy("Queue slots"), "posts.view"),
    ("publishing:media", gettext_lazy("Media library"), "posts.view"),
    ("publishing:approval_policies", gettext_lazy("Approval policies"), "org.manage"),
    ("publishing:rules", gettext_lazy("Publishing rules"), "org.manage"),
    ("publishing:languages", gettext_lazy("Languages of posts"), "org.manage"),
    ("publishing:link_settings", gettext_lazy("Links in posts"), "org.manage"),
    ("publishing:guidelines", gettext_lazy("Writing guidelines"), "org.manage"),
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
                "count": posts_waiting_for_reviewer_count(membership)
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
        .only(*LIST_FIELDS)
        .order_by("-updated_at", "-pk")
    )
    page = Paginator(posts, POSTS_PER_PAGE).get_page(request.GET.get("page"))
    page_posts = list(page.object_list)
    post_ids = [post.pk for post in page_posts]
    return render_page(
        request,
        "publishing/posts/list.html",
        {
            "page": page,
            "posts": _list_rows(
                page_posts,
                post_list_targets(post_ids),
                held_post_ids(membership.organization_id, post_ids),
            ),
            "status": status,
            "status_label": PostStatus(status).label if status else "",
            "status_filters": STATUS_FILTERS,
            "can_write": has_perm(membership, "posts.write"),
            "can_manage": has_perm(membership, "org.manage"),
        },
    )


# What a row of a post list shows: the author's name, not their whole row (password hash
# and all).
LIST_FIELDS = (
    "title",
    "status",
    "scheduled_at",
    "campaign__name",
    "created_by__full_name",
    "created_by__email",
)


@dataclass
class ListRow:
    """One post of a list, its texts made once in Python (a page has fifty rows)."""

    post: Post
    url: str
    status_label: str
    targets: str  # the accounts' handles, comma-separated; empty when none
    languages: str
    author: str
    scheduled_iso: str  # empty when not scheduled
    scheduled_text: str
    # A target is held back (crisis pause, account, review): not going out at the time shown.
    held: bool = False


def _list_rows(
    posts: Sequence[Post],
    targets: dict[int, list[PostTarget]],
    held: set[int] | frozenset[int] = frozenset(),
) -> list[ListRow]:
    """A list's rows, from each post's targets. Status labels and language names are
    looked up once a page, not once a row."""
    status_labels = {value: str(label) for value, label in PostStatus.choices}
    names: dict[str, str] = {}
    # A post's address around its id, reversed once for the page, not once a row.
    marker = 987654321
    url_start, url_end = reverse("publishing:post_detail", args=[marker]).split(str(marker))
    rows = []
    for post in posts:
        post_targets = targets.get(post.pk, [])
        for target in post_targets:
            if target.language not in names:
                names[target.language] = language_name(target.language)
        local = timezone.localtime(post.scheduled_at) if post.scheduled_at else None
        rows.append(
            ListRow(
                post=post,
                url=f"{url_start}{post.pk}{url_end}",
                status_label=status_labels.get(post.status, post.status),
                targets=", ".join(sorted({target.handle for target in post_targets})),
                languages=", ".join(sorted({names[target.language] for target in post_targets})),
                author=str(post.created_by) if post.created_by else "",
                scheduled_iso=local.isoformat() if local else "",
                scheduled_text=formats.date_format(local, "DATETIME_FORMAT") if local else "",
                held=post.pk in held,
            )
        )
    return rows


@login_required
@require_GET
def review_queue_view(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    posts = posts_waiting_for_reviewer(membership)
    # Waiting posts come with their variants and accounts (the approval state needs them).
    targets = {
        post.pk: [
            PostTarget(v.channel_account_id, v.channel_account.handle, v.language)
            for v in post.variants.all()
        ]
        for post in posts
    }
    return render_page(
        request,
        "publishing/posts/review_queue.html",
        {"posts": _list_rows(posts, targets)},
    )


# --- compose -------------------------------------------------------------------------------


@dataclass
class VariantPanel:
    """A variant form with what the page shows beside it: counts, problems, preview."""

    form: VariantForm
    composed: ComposedVariant
    require_alt_text: bool
    problems: list[str] = field(default_factory=list)
    # What submitting refused in this version's text, shown beside the text box.
    refusals: list[str] = field(default_factory=list)
    # Words the organization's guidelines avoid, found in this version's texts.
    word_hits: list[WordHit] = field(default_factory=list)
    # What submitting refused under the organization's writing guidelines.
    guideline_refusals: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.form.key


def _panel(
    form: VariantForm, require_alt_text: bool, word_rules: Sequence[WordRule] = ()
) -> VariantPanel:
    composed = form.composed()
    return VariantPanel(
        form=form,
        composed=composed,
        require_alt_text=require_alt_text,
        problems=composed.problems(require_alt_text=require_alt_text),
        word_hits=word_hits(word_rules, composed.texts, composed.language),
    )


@dataclass
class AltField:
    """One image's alt text in one language of the post, as typed in the composer."""

    asset: MediaAsset
    language: str
    value: str
    saved: str  # what the library holds
    error: str = ""

    @property
    def name(self) -> str:
        return f"alt-{self.asset.pk}-{self.language}"

    @property
    def id(self) -> str:
        return f"id_{self.name}"

    @property
    def language_name(self) -> str:
        return language_name(self.language)


@dataclass
class ComposeImage:
    """An image attached to the first post of every version, with its alt text fields."""

    asset: MediaAsset
    alts: list[AltField]


@dataclass
class SummaryItem:
    message: str
    href: str = ""


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
    images: list[ComposeImage] = field(default_factory=list)
    image_errors: list[str] = field(default_factory=list)
    # What submitting for review would refuse, each linked to the field that fixes it.
    submit_problems: list[SummaryItem] = field(default_factory=list)
    image_problems: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    # The library's newest images, offered to add to the post.
    library: list[MediaAsset] = field(default_factory=list)
    focus: str = ""
    # Errors are shown once a save was tried, not while accounts or thread parts change.
    validated: bool = False
    # The organization's writing guidelines, beside the texts.
    guides: list[StyleGuide] = field(default_factory=list)
    hashtag_sets: list[HashtagSet] = field(default_factory=list)
    # What "Add to queue" found (or why it found nothing).
    queue_message: str = ""
    # The "Repeat" section: how the post repeats, or the series it is one occurrence of.
    repeat: RepeatSection = field(default_factory=RepeatSection)

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
    def has_tiktok(self) -> bool:
        """TikTok asks for its Music Usage Confirmation beside the button that posts."""
        return any(panel.form.account.network == "tiktok" for panel in self.panels)

    @property
    def previews(self) -> list[ComposedVariant]:
        return [panel.composed for panel in self.panels] + self.locked

    @property
    def alt_fields(self) -> list[AltField]:
        return [alt for image in self.images for alt in image.alts]

    def summary(self) -> list[SummaryItem]:
        """Every problem once, each a link to the field that fixes it (WCAG 3.3.1)."""
        if not self.validated:
            return []
        items = [SummaryItem(str(message)) for message in self.post_form.non_field_errors()]
        for bound in self.post_form.visible_fields():
            suffix = "_0" if bound.field.widget.use_fieldset else ""
            items += [
                SummaryItem(f"{bound.label}: {message}", f"#{bound.auto_id}{suffix}")
                for message in bound.errors
            ]
        items += [SummaryItem(message, "#compose-upload") for message in self.image_errors]
        items += [
            SummaryItem(f"{alt.asset} ({alt.language_name}): {alt.error}", f"#{alt.id}")
            for alt in self.alt_fields
            if alt.error
        ]
        for panel in self.panels:
            where = f"{panel.form.account.handle} ({panel.composed.language_name})"
            items += [
                SummaryItem(f"{where}: {message}", f"#{panel.form['text'].auto_id}")
                for message in panel.form.non_field_errors()
            ]
            for bound in panel.form.visible_fields():
                suffix = "_0" if bound.field.widget.use_fieldset else ""
                items += [
                    SummaryItem(f"{bound.label}: {message}", f"#{bound.auto_id}{suffix}")
                    for message in bound.errors
                ]
        return items + self.submit_problems

    @property
    def error_count(self) -> int:
        return len(self.summary())

    def is_valid(self) -> bool:
        self.validated = True
        valid = self.post_form.is_valid()
        for panel in self.panels:
            valid = panel.form.is_valid() and valid
        for alt in self.alt_fields:
            if len(alt.value.strip()) > MAX_ALT_TEXT:
                alt.error = _("Alt text can be at most %(max)d characters.") % {"max": MAX_ALT_TEXT}
                valid = False
        return valid and not self.image_errors


def _posted_asset_ids(data: QueryDict | None) -> set[int]:
    ids: set[int] = set()
    if data is None:
        return ids
    for key in data:
        if "-media_" in key or key == "images" or key.endswith("-video"):
            ids.update(int(value) for value in data.getlist(key) if value.isdigit())
    return ids


def _compose_images(
    data: QueryDict | None,
    picker: Sequence[MediaAsset],
    existing: Iterable[ComposedVariant],
    languages: Sequence[str],
) -> tuple[list[ComposeImage], list[str]]:
    """The images of the post's first post (shared by every version) with their alt text in
    each language as typed, and what is wrong with the list. The typed alt texts are put
    on the assets (``typed_alt_texts``), so previews and checks read them before a save."""
    # Videos go per version (the variant's video field), never on the shared image list.
    by_id = {asset.pk: asset for asset in picker if not asset.is_video}
    errors: list[str] = []
    ids: list[int] = []
    if data is not None and data.get("images_present"):
        for value in data.getlist("images"):
            if value.isdigit() and int(value) in by_id:
                if int(value) not in ids:
                    ids.append(int(value))
            elif not errors:
                errors.append(_("That image is not in your organization's library."))
    else:
        for composed in existing:
            for asset in composed.media[0] if composed.media else []:
                if asset.pk not in ids and asset.pk in by_id:
                    ids.append(asset.pk)
    images = []
    for pk in ids:
        asset = by_id[pk]
        alts = []
        for language in languages:
            saved = asset.alt_text_for(language)
            alt = AltField(asset=asset, language=language, value=saved, saved=saved)
            if data is not None and alt.name in data:
                alt.value = str(data.get(alt.name, ""))
            alts.append(alt)
        asset.typed_alt_texts = {alt.language: alt.value.strip() for alt in alts}  # type: ignore[attr-defined]
        images.append(ComposeImage(asset=asset, alts=alts))
    return images, errors


def _takes_images(account: ChannelAccount) -> bool:
    connector = network_connector(account)
    return bool(connector and connector.capabilities.images)


def _picker(
    membership: Membership, attached: Iterable[MediaAsset], posted_ids: set[int]
) -> list[MediaAsset]:
    """The images and videos each variant offers: the library's newest of each, plus any
    already attached or just ticked (only the organization's own: other ids are refused
    by the form)."""
    assets = {asset.pk: asset for asset in attached}
    library = media_assets_for_membership(membership).order_by("-created_at", "-pk")
    for kind in ("image", "video"):
        for asset in library.filter(kind=kind)[:PICKER_SIZE]:
            assets.setdefault(asset.pk, asset)
    missing = posted_ids - set(assets)
    if missing:
        for asset in library.filter(pk__in=missing):
            assets[asset.pk] = asset
    # The finished compatible copies of the videos offered, so that a video's verdict
    # can offer its copy that fits ("Does not fit Instagram ... use this copy").
    videos = [asset for asset in assets.values() if asset.is_video]
    for copies in finished_video_copies(videos).values():
        for copy in copies[:PICKER_SIZE]:
            assets.setdefault(copy.pk, copy)
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


def _default_languages(membership: Membership) -> list[str]:
    """The organization's languages of a new post (Finnish and Swedish for a Finnish body)."""
    rules = publishing_rules(membership.organization_id)
    return default_post_languages(rules, membership.organization.default_language)


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
    language_codes = organization_language_codes(rules)
    if post is not None:
        # A version in a language since removed from the list stays editable.
        language_codes += [
            c.language for c in existing_composed.values() if c.language not in language_codes
        ]

    planning: dict[str, Any] = {
        "planned_was": post.scheduled_at if post is not None else None,
        "plannable": post is None or post.status in post_services.PLANNABLE_STATUSES,
    }
    if data is not None:
        chosen_ids = {int(v) for v in data.getlist("accounts") if v.isdigit()}
        chosen_accounts = [a for a in accounts if a.pk in chosen_ids]
        chosen_languages = [c for c in language_codes if c in data.getlist("languages")]
        post_form = PostForm(
            data, accounts=accounts, campaigns=campaigns, languages=language_codes, **planning
        )
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
            chosen_languages = _default_languages(membership)
        initial = {
            "accounts": [a.pk for a in chosen_accounts],
            "languages": chosen_languages,
        }
        if post is not None:
            initial.update(
                {"title": post.title, "campaign": post.campaign_id, "planned_at": post.scheduled_at}
            )
        post_form = PostForm(
            initial=initial,
            accounts=accounts,
            campaigns=campaigns,
            languages=language_codes,
            **planning,
        )

    attached = [asset for c in existing_composed.values() for images in c.media for asset in images]
    picker = _picker(membership, attached, _posted_asset_ids(data))
    images, image_errors = _compose_images(
        data, picker, existing_composed.values(), chosen_languages
    )
    shared = [str(image.asset.pk) for image in images]
    forms_by_key: dict[str, VariantForm] = {}
    by_language: dict[str, ComposedVariant] = {}
    slots = [(account, language) for account in chosen_accounts for language in chosen_languages]
    if data is not None and data.get("images_present"):
        # The images of the composer's image list go with the first post of every version
        # whose network takes images.
        for account, language in slots:
            if _takes_images(account):
                data.setlist(f"v-{target_key(account.pk, language)}-media_0", shared)
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
        start = initial_for(source) if source else {"parts": 0, "present": "1"}
        if _takes_images(account):
            start["media_0"] = shared
        forms_by_key[key] = VariantForm(
            initial=start,
            account=account,
            language=language,
            part_count=len(source.texts) - 1 if source else 0,
            picker=picker,
        )
    panels: list[VariantPanel] = []
    word_rules = word_rules_for(membership.organization_id)
    for account, language in slots:
        form = forms_by_key[target_key(account.pk, language)]
        if focus:
            form.focus(focus)
        panels.append(_panel(form, rules.require_alt_text, word_rules))
    return Compose(
        post=post,
        post_form=post_form,
        panels=panels,
        locked=locked,
        existing=existing,
        existing_composed=existing_composed,
        images=images,
        image_errors=image_errors,
        languages=chosen_languages,
        library=[asset for asset in picker if not asset.is_video][:PICKER_SIZE],
        focus=focus,
        guides=style_guides_for(membership.organization_id, chosen_languages),
        hashtag_sets=hashtag_sets_for(membership.organization_id),
        repeat=repeat_section(membership, post, data, plannable=planning["plannable"]),
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
            "max_upload_mb": media_services.MAX_UPLOAD_BYTES // (1024 * 1024),
            "quiet_day_warning": quiet_day_warning(post.organization, post.scheduled_at)
            if post is not None
            else "",
        },
        status=status,
    )


def _check_before_submit(compose: Compose, membership: Membership) -> bool:
    """Everything scheduling would refuse, checked on the post as typed before it goes to
    review (the service checks the saved post again): each network's rules, the
    organization's alt-text rule, accounts that cannot publish, a planned time passed.
    Each problem is linked from the error summary to the field that fixes it."""
    rules = publishing_rules(membership.organization_id)
    images = {image.asset.pk: image for image in compose.images}
    form = compose.post_form
    campaign: Campaign | None = form.cleaned_data.get("campaign")
    seen: set[tuple[str, str]] = set()

    def add(message: str, href: str) -> None:
        if (message, href) not in seen:
            seen.add((message, href))
            compose.submit_problems.append(SummaryItem(message, href))

    for panel in compose.panels:
        account = panel.form.account
        blocked = post_services.account_problem(account)
        if blocked and blocked not in form.errors.get("accounts", []):
            form.add_error("accounts", blocked)
        where = f"{account.handle} ({panel.composed.language_name})"
        prefix = panel.form.prefix
        for problem in variant_problem_items(
            panel.composed.as_variant(), require_alt_text=rules.require_alt_text
        ):
            chosen_video = panel.form.assets.get(str(problem.asset_id or ""))
            if chosen_video is not None and chosen_video.is_video and "video" in panel.form.fields:
                # About the version's video (its captions): shown there, linked to its field.
                panel.refusals.append(problem.message)
                add(f"{where}: {problem.message}", f"#{panel.form['video'].auto_id}_0")
            elif problem.where == "alt" and problem.asset_id in images:
                for alt in images[problem.asset_id].alts:
                    if alt.language == panel.form.language and not alt.error:
                        alt.error = problem.message
            elif problem.where == "images":
                compose.image_problems.append(f"{where}: {problem.message}")
                add(f"{where}: {problem.message}", "#compose-upload")
            elif problem.where == "options":
                # A choice of the network's own (a title, a privacy level): beside its field.
                name = panel.form.option_field(problem.option)
                if name in panel.form.fields and problem.message not in panel.form[name].errors:
                    panel.form.add_error(name, problem.message)
            elif problem.where in ("accounts", "languages"):
                if problem.message not in form.errors.get(problem.where, []):
                    form.add_error(problem.where, problem.message)
            else:
                panel.refusals.append(problem.message)
                if problem.where == "alt":
                    # An image of a later post of a thread: its picker's first box.
                    picker = f"media_{problem.thread_index}"
                    if picker in panel.form.fields:
                        add(f"{where}: {problem.message}", f"#{panel.form[picker].auto_id}_0")
                        continue
                name = "text" if problem.thread_index == 0 else f"part_{problem.thread_index}"
                bound = panel.form[name] if name in panel.form.fields else panel.form["text"]
                add(f"{where}: {problem.message}", f"#{bound.auto_id}")
                # WCAG 3.3.1 / 4.1.2: the box says it is wrong, and why.
                attrs = bound.field.widget.attrs
                attrs["aria-describedby"] = f"{prefix}-errors"
                attrs["aria-invalid"] = "true"
        # The organization's guidelines: a banned word, or a hashtag its campaign requires.
        guideline_problems = [hit.message for hit in panel.word_hits if hit.banned]
        missing = missing_hashtags(
            compose.hashtag_sets, campaign.pk if campaign else None, panel.composed.texts
        )
        if missing and campaign is not None:
            guideline_problems.append(missing_hashtags_message(missing, campaign.name))
        for message in guideline_problems:
            panel.guideline_refusals.append(message)
            add(f"{where}: {message}", f"#{panel.form['text'].auto_id}")
            attrs = panel.form["text"].field.widget.attrs
            attrs["aria-describedby"] = f"{prefix}-errors"
            attrs["aria-invalid"] = "true"
    planned = form.cleaned_data.get("planned_at")
    if planned is not None and post_services.planned_time_passed(planned):
        form.add_error("planned_at", post_services.planned_time_passed_message())
    return (
        not compose.submit_problems
        and not form.errors
        and not any(panel.form.errors for panel in compose.panels)
        and not any(alt.error for alt in compose.alt_fields)
    )


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
        # Alt text belongs to the image in the library; it is saved where it changed.
        for alt in compose.alt_fields:
            if alt.value.strip() != alt.saved:
                media_services.media_alt_text_set(
                    asset=alt.asset,
                    membership=membership,
                    language=alt.language,
                    text=alt.value,
                    request=request,
                )
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
                network_options=composed.network_options,
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


def _upload_with_form(request: HttpRequest, membership: Membership, data: QueryDict) -> list[str]:
    """Put the images sent with the form (no JavaScript) in the library and on the post's
    image list; returns what was refused, file by file."""
    errors: list[str] = []
    for upload in request.FILES.getlist("upload"):
        try:
            asset = media_services.media_asset_upload(
                membership=membership, file=upload, alt_texts={}, request=request
            )
        except ValidationError as error:
            errors += [f"{upload.name}: {message}" for message in _messages_of(error)]
        else:
            data.appendlist("images", str(asset.pk))
            data["images_present"] = "1"
    return errors


def _plan_in_queue(membership: Membership, post: Post | None, data: QueryDict) -> str:
    """ "Add to queue": put the next free queue slot of the chosen accounts in the planned
    time (nothing is saved yet); returns what to tell the person."""
    if post is not None and post.status not in post_services.PLANNABLE_STATUSES:
        return _("This post is scheduled: change its time on the post's page.")
    chosen = {int(v) for v in data.getlist("accounts") if v.isdigit()}
    visible = channel_accounts_for_membership(membership).select_related("organization")
    accounts = list(visible.filter(pk__in=chosen))
    if post is not None:
        # Accounts of the post this member cannot write for still take part.
        others = post.variants.exclude(channel_account__in=visible.values("pk"))
        accounts += [v.channel_account for v in others.select_related("channel_account")]
    if not accounts:
        return _("Choose the accounts first: the queue slots belong to accounts.")
    free = queue_services.next_free_slot(accounts, exclude_post=post)
    if free is None:
        return queue_services.no_free_slot_message(accounts)
    local = timezone.localtime(free.at)
    data["planned_at"] = local.strftime("%Y-%m-%dT%H:%M")
    return _("Planned for the next free queue slot: %(slot)s. Save the post to keep this time.") % {
        "slot": queue_services.slot_label(free, membership.organization)
    }


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
    queue_message = _plan_in_queue(membership, post, data) if action == "queue" else ""
    # Without JavaScript, images chosen with the file button come with the form.
    upload_errors = _upload_with_form(request, membership, data)
    compose = _build_compose(request, membership, post, data, focus=focus)
    compose.queue_message = queue_message
    if upload_errors:
        compose.validated = True
        compose.image_errors += upload_errors
        return _render_compose(request, compose, status=400)
    if action == "repeat_preview":
        if compose.post_form.is_valid():
            planned = compose.post_form.cleaned_data.get("planned_at")
            repeat_check(compose.repeat, planned, membership)
        return _render_compose(request, compose)
    if action not in ("save", "submit"):
        return _render_compose(request, compose)
    valid = compose.is_valid()
    # The repeat is checked against the planned time (when that time itself is fine).
    if "planned_at" not in compose.post_form.errors:
        planned = compose.post_form.cleaned_data.get("planned_at")
        valid = repeat_check(compose.repeat, planned, membership) and valid
    # Every problem at once: what the forms refuse and what review would refuse.
    ready = action != "submit" or _check_before_submit(compose, membership)
    if not valid or not ready:
        return _render_compose(request, compose, status=400)
    was_status = post.status if post is not None else None
    try:
        saved, changed = _save_compose(request, membership, compose)
    except ValidationError as error:
        for message in _messages_of(error):
            compose.post_form.add_error(None, message)
        return _render_compose(request, compose, status=400)
    try:
        repeat_save(request, membership, saved, compose.repeat)
    except ValidationError as error:
        messages.error(
            request,
            _("Saved, but the repeat was not changed: %(reason)s")
            % {"reason": " ".join(_messages_of(error))},
        )
        return redirect("publishing:post_detail", pk=saved.pk)
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
    warning = quiet_day_warning(saved.organization, saved.scheduled_at)
    if warning:
        messages.warning(request, warning)
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
    data = request.POST.copy()
    picker = list(
        media_assets_for_membership(membership).filter(
            kind__in=("image", "video"), pk__in=_posted_asset_ids(data)
        )
    )
    images, _errors = _compose_images(data, picker, [], [language])
    if data.get("images_present") and _takes_images(account):
        data.setlist(f"{prefix}-media_0", [str(image.asset.pk) for image in images])
    form = VariantForm(
        data,
        account=account,
        language=language,
        part_count=_int(data.get(f"{prefix}-parts")),
        picker=picker,
    )
    panel = _panel(
        form,
        publishing_rules(membership.organization_id).require_alt_text,
        word_rules_for(membership.organization_id),
    )
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
    outside_email: str = ""


@dataclass
class OutsideRow:
    """The latest outside review link of one stage in the current round, as staff see it."""

    review: OutsideReview
    state: str  # approved, changes_requested, live, opened, changed, closed, expired, revoked
    can_resend: bool
    can_revoke: bool


@dataclass
class OutsideChoice:
    """A stage whose outside reviewer the author names when sending the post for review."""

    stage_id: int
    name: str
    email: str


def _outside_rows(post: Post, state: ApprovalState, can_write: bool) -> list[OutsideRow]:
    waiting = {
        s.stage.pk
        for s in state.stages
        if s.stage is not None and s.outside_email and s.is_open and not s.satisfied
    }
    latest: dict[int | None, OutsideReview] = {}
    for review in outside_reviews_for_post(post):
        latest.setdefault(review.stage_id, review)
    rows = []
    for review in latest.values():
        problem = outside_link_problem(review, post)
        if review.used_at is not None:
            shown = "approved" if review.decision == "approve" else "changes_requested"
        elif problem:
            shown = problem
        else:
            shown = "opened" if review.opened_at else "live"
        stage_waits = post.status == PostStatus.IN_REVIEW and review.stage_id in waiting
        rows.append(
            OutsideRow(
                review=review,
                state=shown,
                can_resend=can_write and stage_waits and review.used_at is None,
                can_revoke=can_write and review.used_at is None and review.revoked_at is None,
            )
        )
    return rows


@dataclass
class LanguageApprovalRow:
    """One language version at a stage that approves each language separately."""

    stage: str
    language: str
    label: str
    direction: str
    approved: bool
    approved_by: list[str]
    eligible: list[str]


def _language_rows(state: ApprovalState) -> list[LanguageApprovalRow]:
    stages = [stage for stage in state.stages if stage.per_language]
    ids: set[int] = set()
    for stage in stages:
        ids |= stage.eligible_user_ids
        for approved in stage.approved_by_language.values():
            ids |= approved
    names = {user.pk: str(user) for user in User.objects.filter(pk__in=ids)} if ids else {}
    return [
        LanguageApprovalRow(
            stage=stage.name or _("Approval"),
            language=language,
            label=language_label(language),
            direction=language_direction(language),
            approved=stage.language_satisfied(language),
            approved_by=sorted(
                names.get(pk, "?") for pk in stage.approved_by_language.get(language, ())
            ),
            eligible=sorted(names.get(pk, "?") for pk in stage.eligible_for(language)),
        )
        for stage in stages
        for language in stage.languages
    ]


def _my_languages(state: ApprovalState, user_id: int) -> list[tuple[str, str]]:
    """The language versions this reviewer may approve one by one now."""
    mine: list[str] = []
    for stage in state.stages:
        mine += [code for code in stage.languages_for(user_id) if code not in mine]
    return [(code, language_label(code)) for code in mine]


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
            approved_by=[stage.outside_email]
            if stage.outside_approved
            else named(stage.approved_user_ids),
            waiting_for=named(stage.waiting_for_user_ids),
            eligible=named(stage.eligible_user_ids),
            outside_email=stage.outside_email,
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
    # Why a held target is held, said once.
    held_text: str = ""


def _held_text(job: PublishJob) -> str:
    """The hold's reason and its message, without saying the same thing twice: a pause's
    message ("Publishing is paused: storm warning") already starts with its reason."""
    label = str(job.get_hold_reason_display()) if job.hold_reason else ""
    message = job.last_error_message.strip()
    if not label or message.startswith(label):
        return message or _("Held")
    return f"{label}. {message}" if message else label


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
                held_text=_held_text(job) if job and job.status == JobStatus.HELD else "",
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
    ("languages", gettext_lazy("Languages")),
    ("outside_reviewer", gettext_lazy("Outside reviewer")),
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
    if key == "languages" and isinstance(value, list):
        return ", ".join(language_name(str(v)) for v in value)
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
        # The same checks as sending for review and scheduling, so nobody is surprised.
        problems = post_services.problem_messages(post)
    may_review = post.status == PostStatus.IN_REVIEW and bool(
        state.open_stages_for(membership.user_id)
    )
    targets = _target_rows(post, variants, membership)
    held = [row.job.hold_reason for row in targets if row.job and row.job.status == JobStatus.HELD]
    context = {
        "post": post,
        "held": bool(held),
        "status_explanation": (
            HELD_EXPLANATIONS.get(held[0], STATUS_EXPLANATIONS[PostStatus.SCHEDULED])
            if held
            else STATUS_EXPLANATIONS.get(post.status, "")
        ),
        "previews": composed,
        "stages": _stage_rows(state) if post.status == PostStatus.IN_REVIEW else [],
        "language_approvals": _language_rows(state) if post.status == PostStatus.IN_REVIEW else [],
        "my_languages": _my_languages(state, membership.user_id) if may_review else [],
        "outside_reviews": _outside_rows(post, state, can_write),
        "outside_choices": [
            OutsideChoice(stage_id=s.stage.pk, name=s.name, email=s.outside_email)
            for s in state.stages
            if s.outside_per_post and s.stage is not None
        ],
        "open_stages": [s.name or _("Approval") for s in state.open_stages_for(membership.user_id)],
        "may_review": may_review,
        "self_approval_note": _self_approval_note(post, membership, state),
        "targets": targets,
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
        or ScheduleForm(
            initial={"at": post.scheduled_at or ScheduleForm.default_time()},
            may_confirm_quiet_day=has_perm(membership, "posts.publish_on_quiet_day"),
        ),
        "quiet_day_warning": quiet_day_warning(post.organization, post.scheduled_at)
        if post.status not in (PostStatus.PUBLISHED, PostStatus.CANCELLED)
        else "",
        "cancel_form": forms.get("cancel_form") or CancelForm(),
        "review_error": forms.get("review_error", ""),
        "repeat": repeat_section(membership, post, None, plannable=False),
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
    chosen: dict[int, str] = {}
    for key in request.POST:
        stage_id = key.removeprefix("outside-")
        value = request.POST.get(key, "")
        if stage_id != key and stage_id.isascii() and stage_id.isdigit() and len(value) <= 254:
            chosen[int(stage_id)] = value
    try:
        post = post_services.post_submit_for_review(
            post=post, membership=membership, outside_reviewers=chosen, request=request
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
    # "approve:sv" approves the Swedish version alone (a policy approving each separately).
    decision, _sep, language = decision.partition(":")
    if (
        not form.is_valid()
        or decision not in ("approve", "request_changes")
        or (language and (decision != "approve" or not is_language_tag(language)))
    ):
        return _render_detail(request, membership, post, status=400, review_form=form)
    comment = form.cleaned_data["comment"]
    try:
        if decision == "approve":
            post = approval_services.post_approve(
                post=post,
                membership=membership,
                comment=comment,
                language=language,
                request=request,
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
    if language:
        return _done(
            request,
            post,
            _("You approved the %(language)s version.") % {"language": language_name(language)},
        )
    return _done(request, post, _("Your approval is recorded. The next reviewers have been told."))


@login_required
@require_POST
def post_schedule_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership, post = _post_for_action(request, pk, "posts.write")
    form = ScheduleForm(
        request.POST, may_confirm_quiet_day=has_perm(membership, "posts.publish_on_quiet_day")
    )
    if not form.is_valid():
        return _render_detail(request, membership, post, status=400, schedule_form=form)
    at = form.cleaned_data["at"]
    confirm = bool(form.cleaned_data.get("confirm_quiet_day"))
    try:
        if post.status == PostStatus.SCHEDULED:
            post = post_services.post_reschedule(
                post=post, membership=membership, at=at, confirm_quiet_day=confirm, request=request
            )
        else:
            post = post_services.post_schedule(
                post=post, membership=membership, at=at, confirm_quiet_day=confirm, request=request
            )
    except ValidationError as error:
        for message in _messages_of(error):
            form.add_error("at", message)
        return _render_detail(request, membership, post, status=400, schedule_form=form)
    return _done(request, post, _("Scheduled."))


@login_required
@require_POST
def post_schedule_next_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Schedule an approved post in the next free queue slot of its accounts."""
    membership, post = _post_for_action(request, pk, "posts.write")
    accounts = [
        variant.channel_account
        for variant in post.variants.select_related("channel_account__organization")
    ]
    accounts = list({account.pk: account for account in accounts}.values())
    free = queue_services.next_free_slot(accounts, exclude_post=post)
    if free is None:
        messages.error(request, queue_services.no_free_slot_message(accounts))
        return redirect("publishing:post_detail", pk=post.pk)
    try:
        post = post_services.post_schedule(
            post=post, membership=membership, at=free.at, request=request
        )
    except ValidationError as error:
        return _refused(request, post, error)
    return _done(
        request,
        post,
        _("Scheduled in the next free queue slot: %(slot)s.")
        % {"slot": queue_services.slot_label(free, membership.organization)},
    )


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
