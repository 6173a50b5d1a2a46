"""The organization's languages of posts, and the languages each reviewer may approve.
Admins only."""

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
from django.views.decorators.http import require_http_methods

from governance.models import Membership, Role
from governance.selectors.access import get_in_org, request_membership, require_perm
from publishing.languages import (
    language_choices,
    language_direction,
    language_label,
    normalise_language_tag,
    organization_language_codes,
    search_languages,
)
from publishing.models import ReviewerLanguages
from publishing.services.org_settings import (
    post_language_add,
    post_language_remove,
    reviewer_languages_set,
)
from publishing.validation import publishing_rules
from publishing.views.posts import render_page


class LanguageAddForm(forms.Form):
    language = forms.CharField(
        label=gettext_lazy("Add a language"),
        max_length=100,
        help_text=gettext_lazy(
            "A language tag (BCP 47), such as fi, sv, se, ar or sr-Latn, or part of its "
            "name, such as “Sámi” or “arabia”."
        ),
    )


class ReviewerLanguagesForm(forms.Form):
    reviewer = forms.TypedChoiceField(label=gettext_lazy("Reviewer"), coerce=int)
    languages = forms.MultipleChoiceField(
        label=gettext_lazy("Languages they may approve"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("Tick none to let them approve every language."),
    )

    def __init__(
        self, *args: object, members: list[Membership], codes: list[str], **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["reviewer"].choices = [  # type: ignore[attr-defined]
            (m.pk, m.user.full_name or m.user.email) for m in members
        ]
        self.fields["languages"].choices = language_choices(codes)  # type: ignore[attr-defined]


@dataclass
class LanguageRow:
    tag: str
    label: str
    direction: str


@dataclass
class ReviewerRow:
    name: str
    languages: str


def _admin(request: HttpRequest) -> Membership:
    membership = request_membership(request)
    require_perm(membership, "org.manage")
    return membership


def _reviewers(membership: Membership) -> list[Membership]:
    return list(
        Membership.objects.filter(
            organization_id=membership.organization_id, is_active=True, user__is_active=True
        )
        .exclude(role=Role.AUDITOR)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


@login_required
@require_http_methods(["GET", "POST"])
def languages_view(request: HttpRequest) -> HttpResponse:
    membership = _admin(request)
    codes = organization_language_codes(publishing_rules(membership.organization_id))
    members = _reviewers(membership)
    add_form = LanguageAddForm()
    reviewer_form = ReviewerLanguagesForm(members=members, codes=codes)
    matches: list[LanguageRow] = []
    status = 200
    action = request.POST.get("action", "")
    if request.method == "POST" and action == "add":
        add_form = LanguageAddForm(request.POST)
        if add_form.is_valid():
            text = add_form.cleaned_data["language"]
            try:
                tag = post_language_add(
                    membership=membership, tag=normalise_language_tag(text), request=request
                )
            except ValidationError as error:
                found = [] if error.code == "duplicate" else search_languages(text)
                if found:
                    matches = [
                        LanguageRow(t, language_label(t), language_direction(t)) for t in found
                    ]
                else:
                    add_form.add_error("language", error)
                    status = 400
            else:
                messages.success(
                    request, _("%(language)s was added.") % {"language": language_label(tag)}
                )
                return redirect("publishing:languages")
        else:
            status = 400
    elif request.method == "POST" and action == "remove":
        try:
            post_language_remove(
                membership=membership, tag=request.POST.get("tag", ""), request=request
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("The language was removed from the list."))
        return redirect("publishing:languages")
    elif request.method == "POST" and action == "reviewer":
        reviewer_form = ReviewerLanguagesForm(request.POST, members=members, codes=codes)
        if reviewer_form.is_valid():
            reviewer = get_in_org(
                Membership.objects.all(),
                membership.organization,
                pk=reviewer_form.cleaned_data["reviewer"],
            )
            try:
                reviewer_languages_set(
                    membership=membership,
                    reviewer=reviewer,
                    languages=reviewer_form.cleaned_data["languages"],
                    request=request,
                )
            except ValidationError as error:
                for message in error.messages:
                    reviewer_form.add_error(None, message)
                status = 400
            else:
                messages.success(request, _("The reviewer's languages are saved."))
                return redirect("publishing:languages")
        else:
            status = 400
    elif request.method == "POST":
        status = 400
    limits = ReviewerLanguages.objects.filter(
        membership__organization_id=membership.organization_id
    ).select_related("membership__user")
    reviewers = [
        ReviewerRow(
            name=row.membership.user.full_name or row.membership.user.email,
            languages=", ".join(language_label(code) for code in row.languages),
        )
        for row in limits.order_by("membership__user__full_name", "pk")
    ]
    return render_page(
        request,
        "publishing/languages/languages.html",
        {
            "languages": [LanguageRow(c, language_label(c), language_direction(c)) for c in codes],
            "add_form": add_form,
            "matches": matches,
            "reviewer_form": reviewer_form,
            "reviewers": reviewers,
        },
        status=status,
    )
