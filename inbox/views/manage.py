"""The organization's inbox rules: response policy, signature and approval, watch
words, saved replies; and the replies waiting for approval."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from governance.selectors.access import get_in_org, has_perm
from inbox import services
from inbox.forms import (
    DecisionForm,
    InboxSettingsForm,
    PriorityWordForm,
    ResponsePolicyForm,
    SavedReplyForm,
)
from inbox.models import PriorityWord
from inbox.selectors import (
    inbox_settings_for,
    priority_words_for,
    replies_waiting_for_approval,
    response_policy_for,
    saved_replies_for,
    saved_reply_get,
)
from inbox.views.common import membership_with, user_of


@login_required
@require_http_methods(["GET", "POST"])
def inbox_settings(request: HttpRequest) -> HttpResponse:
    membership = membership_with(request, "inbox.view")
    can_manage = has_perm(membership, "inbox.manage")
    organization = membership.organization
    policy = response_policy_for(organization)
    settings = inbox_settings_for(organization)
    policy_form = ResponsePolicyForm(instance=policy)
    rules_form = InboxSettingsForm(membership=membership, instance=settings)
    status = 200
    if request.method == "POST":
        membership = membership_with(request, "inbox.manage")
        if request.POST.get("form") == "policy":
            policy_form = ResponsePolicyForm(request.POST, instance=policy)
            if policy_form.is_valid():
                data = policy_form.cleaned_data
                try:
                    services.response_policy_update(
                        membership=membership,
                        actor=user_of(request),
                        working_days=data["working_days"],
                        work_starts=data["work_starts"],
                        work_ends=data["work_ends"],
                        target_hours=data["target_hours"],
                        high_priority_target_hours=data["high_priority_target_hours"],
                        holidays=data["holidays"],
                        request=request,
                    )
                except ValidationError as exc:
                    field = exc.code if exc.code in policy_form.fields else None
                    policy_form.add_error(field, exc)
                else:
                    messages.success(request, _("Response policy saved."))
                    return redirect("inbox:settings")
        else:
            rules_form = InboxSettingsForm(request.POST, membership=membership, instance=settings)
            if rules_form.is_valid():
                data = rules_form.cleaned_data
                try:
                    services.inbox_settings_update(
                        membership=membership,
                        actor=user_of(request),
                        signature_rule=data["signature_rule"],
                        approval_accounts=data["approval_accounts"],
                        approval_tags=data["approval_tags"],
                        request=request,
                    )
                except ValidationError as exc:
                    rules_form.add_error(None, exc)
                else:
                    messages.success(request, _("Reply rules saved."))
                    return redirect("inbox:settings")
        status = 400
    return render(
        request,
        "inbox/settings.html",
        {
            "policy_form": policy_form,
            "rules_form": rules_form,
            "rules": settings,
            "can_manage": can_manage,
            "organization": organization,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def priority_words(request: HttpRequest) -> HttpResponse:
    membership = membership_with(request, "inbox.view")
    can_manage = has_perm(membership, "inbox.manage")
    form = PriorityWordForm(organization=membership.organization)
    status = 200
    if request.method == "POST":
        membership = membership_with(request, "inbox.manage")
        form = PriorityWordForm(request.POST, organization=membership.organization)
        if form.is_valid():
            data = form.cleaned_data
            try:
                entry = services.priority_word_add(
                    membership=membership,
                    actor=user_of(request),
                    word=data["word"],
                    language=data["language"],
                    match_prefix=data["match_prefix"],
                    level=data["level"],
                    request=request,
                )
            except ValidationError as exc:
                form.add_error("language" if exc.code == "invalid_tag" else "word", exc)
            else:
                messages.success(request, _("%(word)s added.") % {"word": entry.word})
                return redirect("inbox:priority_words")
        status = 400
    return render(
        request,
        "inbox/priority_words.html",
        {
            "words": priority_words_for(membership.organization),
            "form": form,
            "can_manage": can_manage,
        },
        status=status,
    )


@login_required
@require_POST
def priority_word_remove(request: HttpRequest, pk: int) -> HttpResponse:
    membership = membership_with(request, "inbox.manage")
    word = get_in_org(PriorityWord.objects.all(), membership.organization, pk=pk)
    services.priority_word_delete(
        membership=membership, actor=user_of(request), word=word, request=request
    )
    messages.success(request, _("%(word)s removed.") % {"word": word.word})
    return redirect("inbox:priority_words")


@login_required
@require_http_methods(["GET", "POST"])
def saved_replies(request: HttpRequest) -> HttpResponse:
    membership = membership_with(request, "inbox.view")
    can_manage = has_perm(membership, "inbox.manage")
    form = SavedReplyForm(organization=membership.organization)
    status = 200
    if request.method == "POST":
        membership = membership_with(request, "inbox.manage")
        form = SavedReplyForm(request.POST, organization=membership.organization)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.saved_reply_save(
                    membership=membership,
                    actor=user_of(request),
                    title=data["title"],
                    language=data["language"],
                    body=data["body"],
                    request=request,
                )
            except ValidationError as exc:
                form.add_error("title", exc)
            else:
                messages.success(request, _("Saved reply added."))
                return redirect("inbox:saved_replies")
        status = 400
    return render(
        request,
        "inbox/saved_replies.html",
        {
            "saved_replies": saved_replies_for(membership.organization),
            "form": form,
            "can_manage": can_manage,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def saved_reply_edit(request: HttpRequest, pk: int) -> HttpResponse:
    membership = membership_with(request, "inbox.manage")
    saved = saved_reply_get(membership.organization, pk)
    form = SavedReplyForm(instance=saved, organization=membership.organization)
    status = 200
    if request.method == "POST":
        form = SavedReplyForm(request.POST, instance=saved, organization=membership.organization)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.saved_reply_save(
                    membership=membership,
                    actor=user_of(request),
                    title=data["title"],
                    language=data["language"],
                    body=data["body"],
                    saved_reply=saved,
                    request=request,
                )
            except ValidationError as exc:
                form.add_error("title", exc)
            else:
                messages.success(request, _("Saved reply changed."))
                return redirect("inbox:saved_replies")
        status = 400
    return render(
        request, "inbox/saved_reply_edit.html", {"form": form, "saved": saved}, status=status
    )


@login_required
@require_POST
def saved_reply_remove(request: HttpRequest, pk: int) -> HttpResponse:
    membership = membership_with(request, "inbox.manage")
    saved = saved_reply_get(membership.organization, pk)
    services.saved_reply_delete(
        membership=membership, actor=user_of(request), saved_reply=saved, request=request
    )
    messages.success(request, _("Saved reply removed."))
    return redirect("inbox:saved_replies")


@login_required
@require_GET
def approvals(request: HttpRequest) -> HttpResponse:
    membership = membership_with(request, "inbox.approve")
    return render(
        request,
        "inbox/approvals.html",
        {
            "replies": replies_waiting_for_approval(membership),
            "decision_form": DecisionForm(),
            "me": user_of(request),
        },
    )
