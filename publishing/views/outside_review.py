"""The outside reviewer's page (no login: the link's token is the permission) and the
staff's resend and revoke buttons on the post's page.

The reviewer's page shows the post as it will appear and two decisions, nothing
else: no navigation into the app. It is written in the organization's language with
times in its zone. A link that cannot be used says why and whom to ask; a made-up
or tampered one is a plain "this link does not work" (404), never an error.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from governance.models import Membership
from governance.selectors.access import request_membership, require_perm
from publishing.forms import ComposedVariant, ReviewForm, composed_from_variant
from publishing.models import OutsideReview
from publishing.selectors import outside_review_get_for_user
from publishing.services.approval import OutsideLinkRefused, post_outside_decide
from publishing.services.media import media_public_path
from publishing.services.outside_review import (
    LinkProblem,
    OutsideLink,
    outside_link_get,
    outside_link_opened,
    outside_review_resend,
    outside_review_revoke,
)
from publishing.validation import variants_with_content

# HTTP status of each page a link that cannot be used shows.
PROBLEM_STATUS = {LinkProblem.UNKNOWN: 404}
GONE = 410


@dataclass
class ShownImage:
    url: str
    alt: str
    width: int
    height: int


@dataclass
class ShownPost:
    number: int
    text: str
    images: list[ShownImage]


@dataclass
class ShownVariant:
    composed: ComposedVariant
    posts: list[ShownPost]


def _shown(review: OutsideReview) -> list[ShownVariant]:
    shown = []
    for variant in variants_with_content(review.post):
        composed = composed_from_variant(variant)
        posts = [
            ShownPost(
                number=number,
                text=text,
                images=[
                    ShownImage(
                        url=media_public_path(asset),
                        alt=alt,
                        width=asset.width,
                        height=asset.height,
                    )
                    for asset, alt in images
                ],
            )
            for number, text, images in composed.posts
        ]
        shown.append(ShownVariant(composed=composed, posts=posts))
    return shown


def _render(
    request: HttpRequest, link: OutsideLink, *, status: int = 200, **extra: Any
) -> HttpResponse:
    review = link.review
    organization = review.organization if review is not None else None
    language = (
        organization.default_language if organization is not None else ""
    ) or settings.LANGUAGE_CODE
    zone = (
        zoneinfo.ZoneInfo(organization.time_zone)
        if organization is not None
        else timezone.get_default_timezone()
    )
    with translation.override(language), timezone.override(zone):
        context = {
            "link": link,
            "review": review,
            "organization": organization,
            "problem": link.problem,
            "time_zone": str(zone),
            "form": extra.pop("form", None) or ReviewForm(),
            **extra,
        }
        if review is not None and not link.problem:
            post = review.post
            context["post"] = post
            context["asker"] = post.submitted_by or post.created_by
            context["variants"] = _shown(review)
        response = render(request, "publishing/outside/review.html", context, status=status)
    # The token is in the address: never pass it on to a site linked from the post
    # ("same-origin": the form's own POST still carries the Origin CSRF checks),
    # never keep the page in a shared cache, never index it.
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "no-store, private"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _problem_status(problem: str) -> int:
    return PROBLEM_STATUS.get(problem, GONE) if problem else 200


@require_http_methods(["GET", "POST"])
def outside_review_view(request: HttpRequest, token: str) -> HttpResponse:
    link = outside_link_get(token)
    if request.method == "GET":
        if link.usable and link.review is not None:
            outside_link_opened(link.review)
        if link.problem == LinkProblem.USED and request.GET.get("done") == "1":
            # Straight after their decision: thank them rather than refuse the link.
            return _render(request, link, just_decided=True)
        return _render(request, link, status=_problem_status(link.problem))
    if not link.usable:
        return _render(request, link, status=_problem_status(link.problem))
    form = ReviewForm(request.POST)
    decision = request.POST.get("decision", "")
    if not form.is_valid() or decision not in ("approve", "request_changes"):
        return _render(request, link, status=400, form=form)
    try:
        post_outside_decide(
            token=token,
            decision=decision,
            comment=form.cleaned_data["comment"],
            request=request,
        )
    except OutsideLinkRefused as refused:
        return _render(
            request,
            OutsideLink(review=link.review, problem=refused.problem),
            status=_problem_status(refused.problem),
        )
    except ValidationError as error:
        with translation.override(
            link.review.organization.default_language if link.review else None
        ):
            form.add_error("comment", error.messages[0])
        return _render(request, link, status=400, form=form)
    # Post, then redirect: the page now says what was decided.
    return redirect(reverse("publishing:outside_review", args=[token]) + "?done=1")


def _staff_review(request: HttpRequest, pk: int) -> tuple[Membership, OutsideReview]:
    # Visibility first (404 for another organization's), then the permission (403).
    membership = request_membership(request)
    review = outside_review_get_for_user(membership, pk)
    require_perm(membership, "posts.write")
    return membership, review


@login_required
@require_POST
def outside_review_resend_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership, review = _staff_review(request, pk)
    try:
        outside_review_resend(review=review, membership=membership, request=request)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("A new link is on its way to %(email)s. The old one no longer works.")
            % {"email": review.email},
        )
    return redirect("publishing:post_detail", pk=review.post_id)


@login_required
@require_POST
def outside_review_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership, review = _staff_review(request, pk)
    try:
        outside_review_revoke(review=review, membership=membership, request=request)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("The link sent to %(email)s no longer works.") % {"email": review.email},
        )
    return redirect("publishing:post_detail", pk=review.post_id)
