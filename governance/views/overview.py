"""The governance overview and the person's notifications."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from governance.selectors.access import has_perm, request_membership
from governance.selectors.notifications import notifications_for_user
from governance.selectors.policies import governance_review_for_org, governance_review_is_due
from governance.selectors.registry import local_today
from governance.services.notifications import notification_mark_all_read

NOTIFICATIONS_PAGE_SIZE = 50


@dataclass(frozen=True)
class Area:
    title: Promise
    description: Promise
    path: str = ""  # empty: not built yet
    perm: str = "org.view"


def _areas() -> list[Area]:
    # Pages built by other parts of the app are linked by path, so this page
    # does not depend on their URL names.
    return [
        Area(
            _("Members"),
            _("People in the organization, their roles and channel accounts; invitations."),
            "/governance/members/",
            "members.view",
        ),
        Area(
            _("Audit log"),
            _("Every accountable act, searchable and exportable, with tamper-evident entries."),
            reverse("governance:audit"),
            "audit.view",
        ),
        Area(
            _("Organization settings"),
            _("Name, time zone, default language and the two-factor policy."),
            "/governance/settings/",
        ),
        Area(
            _("Single sign-on"),
            _(
                "Sign-in with the organization's own identity provider (OpenID Connect), "
                "roles from its groups, and people waiting for a role."
            ),
            reverse("governance:sso_settings"),
            "org.manage",
        ),
        Area(
            _("Account registry"),
            _(
                "For each official account: its owners, who holds the login, where its "
                "two-factor authentication lives, and when access was last reviewed."
            ),
            reverse("governance:registry"),
            "registry.view",
        ),
        Area(
            _("Credential vault"),
            _("Secrets encrypted at rest, revealed only after a fresh two-factor check."),
            reverse("governance:vault"),
            "vault.view",
        ),
        Area(
            _("Risk report"),
            _(
                "Accounts that depend on one person or a personal address, overdue reviews "
                "and rotations, sign-ins about to end."
            ),
            reverse("governance:risks"),
            "registry.view",
        ),
        Area(
            _("Policies"),
            _("Tone of voice, hashtag sets and signature rules that staff acknowledge."),
            reverse("governance:policies"),
        ),
        Area(
            _("Handover"),
            _("When someone leaves: everything they hold, each item given a new owner."),
            reverse("governance:handover_list"),
            "handover.view",
        ),
        Area(
            _("Records"),
            _("Retention rules, legal holds and records-request exports."),
            reverse("governance:records"),
            "records.view",
        ),
    ]


# Areas planned but not built yet (none at the moment); the page lists them apart.
COMING_AREAS: list[Area] = []


@login_required
def index_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    areas = [(area, has_perm(membership, area.perm)) for area in _areas()]
    review = governance_review_for_org(membership.organization)
    return render(
        request,
        "governance/index.html",
        {
            "areas": areas,
            "coming_areas": COMING_AREAS,
            "review": review,
            "review_due": governance_review_is_due(review, local_today(membership.organization)),
        },
    )


@login_required
def notifications_view(request: HttpRequest) -> HttpResponse:
    notices = notifications_for_user(request.user)  # type: ignore[arg-type]
    page = Paginator(notices, NOTIFICATIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    organizations = {notice.organization_id for notice in page.object_list}
    return render(
        request,
        "governance/notifications.html",
        {
            "page_obj": page,
            "show_organization": len(organizations) > 1,
            "has_unread": notices.filter(read_at__isnull=True).exists(),
        },
    )


@login_required
@require_POST
def notifications_read_all_view(request: HttpRequest) -> HttpResponse:
    count = notification_mark_all_read(user=request.user)  # type: ignore[arg-type]
    messages.success(
        request,
        ngettext("Marked %(count)d notice as read.", "Marked %(count)d notices as read.", count)
        % {"count": count},
    )
    return HttpResponseRedirect(reverse("governance:notifications"))
