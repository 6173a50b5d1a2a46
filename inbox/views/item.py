"""One item: its thread, triage, and the reply box (with approval and retries)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.selectors import network_summary
from governance.models import Membership, User
from governance.selectors.access import has_perm
from inbox import presence, services
from inbox.forms import (
    AssignForm,
    DecisionForm,
    NoteForm,
    PriorityForm,
    ReplyForm,
    SavedReplyPickForm,
    StatusForm,
    TagsForm,
)
from inbox.models import InboxItem, ReplyStatus
from inbox.selectors import (
    inbox_filter_choices,
    inbox_item_get_for_membership,
    inbox_neighbours,
    inbox_notes_for,
    inbox_reply_setup,
    inbox_thread,
    reply_get_for_membership,
    saved_replies_for,
)
from inbox.services.moderation import inbox_item_can_moderate, inbox_item_moderate
from inbox.services.replies import reply_blocker, reply_notes
from inbox.text import SIGNATURE_DASH, fill_placeholders, signature_for
from inbox.views.common import error_text, membership_with, user_of
from inbox.views.listing import PANE_ID, filter_query, list_context
from publishing.selectors_guidelines import style_guides_for


def _item_url(item: InboxItem, anchor: str = "", *, request: HttpRequest | None = None) -> str:
    """The item's page; with ``request``, keeping the list's filters (the forms beside
    a filtered list post to an address that carries them)."""
    query = filter_query(request.GET) if request is not None else ""
    return (
        reverse("inbox:item", args=[item.pk])
        + (f"?{query}" if query else "")
        + (f"#{anchor}" if anchor else "")
    )


def _page(
    request: HttpRequest,
    membership: Membership,
    item: InboxItem,
    *,
    reply_form: ReplyForm | None = None,
    note_form: NoteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = user_of(request)
    can_reply = has_perm(membership, "inbox.reply")
    can_approve = has_perm(membership, "inbox.approve")
    thread = inbox_thread(item, for_page=True)
    newer, older = inbox_neighbours(membership, item)
    pane_only = request.headers.get("HX-Target") == PANE_ID
    # Read once: beside the list, its filter form offers the same people.
    choices = inbox_filter_choices(item.organization_id)
    context: dict[str, Any] = {
        "item": item,
        "network": network_summary(item.network),
        "thread": thread,
        "newer": newer,
        "older": older,
        "tags": list(item.tags.order_by("name")),
        "can_reply": can_reply,
        "can_approve": can_approve,
        "is_overdue": item.is_overdue(),
        "pending": [
            entry.reply
            for entry in thread.entries
            if entry.reply is not None
            and entry.reply.item_id == item.pk
            and entry.reply.status == ReplyStatus.PENDING_APPROVAL
        ],
        "reply_statuses": ReplyStatus,
        "can_moderate": can_reply and inbox_item_can_moderate(item),
        "moderated_hidden": bool((item.raw or {}).get("moderated_hidden")),
        "notes": inbox_notes_for(item),
        "list_query": filter_query(request.GET),
    }
    if can_reply:
        setup = inbox_reply_setup(item.organization_id)
        saved = setup.saved_replies
        filled = {
            reply.pk: fill_placeholders(
                reply.body,
                author=item.author_label,
                first_name=user.first_name,
                organization=item.organization.name,
            )
            for reply in saved
        }
        chosen = request.GET.get("saved_reply", "")
        if reply_form is None:
            initial: dict[str, Any] = {}
            if chosen.isdigit() and int(chosen) in filled:
                initial = {"body": filled[int(chosen)], "saved_reply": int(chosen)}
            reply_form = ReplyForm(initial=initial)
        signature = signature_for(setup.signature_rule, user=user, organization=item.organization)
        context.update(
            {
                "assign_form": AssignForm(
                    organization_id=item.organization_id,
                    account_id=item.channel_account_id,
                    initial={"assignee": item.assignee_id or ""},
                    choices=choices,
                ),
                "status_form": StatusForm(initial={"status": item.status}),
                "priority_form": PriorityForm(initial={"priority": item.priority}),
                "tags_form": TagsForm(initial={"tags": ", ".join(t.name for t in context["tags"])}),
                "reply_form": reply_form,
                "note_form": note_form or NoteForm(),
                "pick_form": SavedReplyPickForm(
                    initial={"saved_reply": chosen}, saved_replies=saved
                ),
                "saved_texts": filled,
                "blocker": reply_blocker(item),
                "reply_notes": reply_notes(item),
                "needs_approval": setup.needs_approval(
                    item.channel_account_id, (tag.pk for tag in context["tags"])
                ),
                "signature_line": f"{SIGNATURE_DASH} {signature}" if signature else "",
                "style_guides": style_guides_for(
                    item.organization_id, [item.language] if item.language else []
                ),
            }
        )
    if pane_only:
        # Opened beside the list: only the pane changes; the address bar follows it.
        context["pane_only"] = True
        response = render(request, "inbox/_item_pane.html", context, status=status)
    else:
        context.update(list_context(request, membership, choices=choices))
        context["open_pk"] = item.pk
        response = render(request, "inbox/item.html", context, status=status)
    # The same address answers with the pane or the whole page: caches must keep both.
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


@login_required
@require_GET
def inbox_item(request: HttpRequest, pk: int) -> HttpResponse:
    membership = membership_with(request, "inbox.view")
    item = inbox_item_get_for_membership(membership, pk)
    return _page(request, membership, item)


def _triage(request: HttpRequest, pk: int) -> tuple[Membership, InboxItem]:
    membership = membership_with(request, "inbox.reply")
    return membership, inbox_item_get_for_membership(membership, pk)


@login_required
@require_POST
def item_assign(request: HttpRequest, pk: int) -> HttpResponse:
    membership, item = _triage(request, pk)
    form = AssignForm(
        request.POST, organization_id=item.organization_id, account_id=item.channel_account_id
    )
    assignee: User | None
    if request.POST.get("assign_to_me"):
        assignee = user_of(request)
    elif form.is_valid():
        assignee = form.chosen_person()
    else:
        messages.error(request, _("Choose someone who may answer for this account."))
        return redirect(_item_url(item, "handling", request=request))
    try:
        services.inbox_item_assign(
            item=item,
            assignee=assignee,
            actor=user_of(request),
            membership=membership,
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request,
            _("Assigned to %(name)s.") % {"name": assignee}
            if assignee
            else _("Nobody is assigned now."),
        )
    return redirect(_item_url(item, "handling", request=request))


@login_required
@require_POST
def item_moderate(request: HttpRequest, pk: int) -> HttpResponse:
    """Hide, show again or delete a comment on the network (audited, text kept)."""
    membership, item = _triage(request, pk)
    action = request.POST.get("action", "")
    try:
        inbox_item_moderate(
            item=item,
            action=action,  # type: ignore[arg-type]
            actor=user_of(request),
            membership=membership,
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        done = {
            "hide": _("The comment is hidden."),
            "unhide": _("The comment is shown again."),
            "delete": _("The comment is deleted on the network. Its text stays in the records."),
        }
        messages.success(request, done[action])
    return redirect(_item_url(item, "moderation"))


@login_required
@require_POST
def item_status(request: HttpRequest, pk: int) -> HttpResponse:
    membership, item = _triage(request, pk)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            services.inbox_item_set_status(
                item=item,
                status=form.cleaned_data["status"],
                actor=user_of(request),
                membership=membership,
                request=request,
            )
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(
                request, _("Status: %(status)s.") % {"status": item.get_status_display()}
            )
    return redirect(_item_url(item, "handling", request=request))


@login_required
@require_POST
def item_priority(request: HttpRequest, pk: int) -> HttpResponse:
    membership, item = _triage(request, pk)
    form = PriorityForm(request.POST)
    if form.is_valid():
        services.inbox_item_set_priority(
            item=item,
            priority=form.cleaned_data["priority"],
            actor=user_of(request),
            membership=membership,
            request=request,
        )
        messages.success(
            request, _("Priority: %(priority)s.") % {"priority": item.get_priority_display()}
        )
    return redirect(_item_url(item, "handling", request=request))


@login_required
@require_POST
def item_hide(request: HttpRequest, pk: int) -> HttpResponse:
    """Hide the reply on the network (``hide=1``) or show it again (``hide=0``)."""
    membership, item = _triage(request, pk)
    hidden = request.POST.get("hide") == "1"
    try:
        services.inbox_item_set_hidden(
            item=item,
            hidden=hidden,
            actor=user_of(request),
            membership=membership,
            request=request,
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        if hidden:
            messages.success(request, _("The reply is hidden on the network."))
        else:
            messages.success(request, _("The reply is shown again on the network."))
    return redirect(_item_url(item, "handling", request=request))


@login_required
@require_POST
def item_tags(request: HttpRequest, pk: int) -> HttpResponse:
    membership, item = _triage(request, pk)
    form = TagsForm(request.POST)
    if form.is_valid():
        try:
            services.inbox_item_set_tags(
                item=item,
                names=form.names(),
                actor=user_of(request),
                membership=membership,
                request=request,
            )
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("Tags saved."))
    return redirect(_item_url(item, "handling", request=request))


@login_required
@require_POST
def item_note(request: HttpRequest, pk: int) -> HttpResponse:
    """Keep an internal note on the item: the team sees it, the network never does."""
    membership, item = _triage(request, pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _page(request, membership, item, note_form=form, status=400)
    try:
        services.inbox_note_add(
            item=item,
            body=form.cleaned_data["body"],
            actor=user_of(request),
            membership=membership,
            request=request,
        )
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error("body", message)
        return _page(request, membership, item, note_form=form, status=400)
    messages.success(request, _("Note saved. Only your team sees it."))
    return redirect(_item_url(item, "notes", request=request))


@login_required
@require_POST
def item_reply(request: HttpRequest, pk: int) -> HttpResponse:
    membership, item = _triage(request, pk)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _page(request, membership, item, reply_form=form, status=400)
    saved = None
    saved_id = form.cleaned_data.get("saved_reply")
    if saved_id:
        saved = saved_replies_for(item.organization).filter(pk=saved_id).first()
    try:
        reply = services.inbox_reply_create(
            item=item,
            body=form.cleaned_data["body"],
            saved_reply=saved,
            actor=user_of(request),
            membership=membership,
            request=request,
        )
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error("body", message)
        return _page(request, membership, item, reply_form=form, status=400)
    presence.replying_clear(item.pk, user_of(request))
    if reply.status == ReplyStatus.SENT:
        messages.success(request, _("Your reply was sent."))
    elif reply.status == ReplyStatus.PENDING_APPROVAL:
        messages.success(request, _("Your reply waits for approval; it is sent once approved."))
    elif reply.status == ReplyStatus.UNKNOWN:
        messages.error(
            request,
            _("The network did not confirm your reply. Check the conversation, then try again."),
        )
    else:
        messages.error(
            request, _("Your reply could not be sent: %(error)s") % {"error": reply.error_message}
        )
    return redirect(_item_url(item, "conversation", request=request))


def _reply_action(request: HttpRequest, pk: int, perm: str) -> tuple[Membership, Any]:
    membership = membership_with(request, perm)
    return membership, reply_get_for_membership(membership, pk)


@login_required
@require_POST
def reply_approve(request: HttpRequest, pk: int) -> HttpResponse:
    membership, reply = _reply_action(request, pk, "inbox.approve")
    form = DecisionForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    try:
        reply = services.inbox_reply_approve(
            reply=reply,
            actor=user_of(request),
            membership=membership,
            comment=comment,
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        if reply.status == ReplyStatus.SENT:
            messages.success(request, _("Approved and sent."))
        else:
            messages.error(
                request,
                _("Approved, but it could not be sent: %(error)s") % {"error": reply.error_message},
            )
    return redirect(_item_url(reply.item, "conversation", request=request))


@login_required
@require_POST
def reply_reject(request: HttpRequest, pk: int) -> HttpResponse:
    membership, reply = _reply_action(request, pk, "inbox.approve")
    form = DecisionForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    try:
        services.inbox_reply_reject(
            reply=reply,
            actor=user_of(request),
            membership=membership,
            comment=comment,
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("The reply was turned down; its author has been told."))
    return redirect(_item_url(reply.item, "conversation", request=request))


@login_required
@require_POST
def reply_retry(request: HttpRequest, pk: int) -> HttpResponse:
    membership, reply = _reply_action(request, pk, "inbox.reply")
    try:
        reply = services.inbox_reply_retry(
            reply=reply, actor=user_of(request), membership=membership, request=request
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        if reply.status == ReplyStatus.SENT:
            messages.success(request, _("Your reply was sent."))
        else:
            messages.error(
                request,
                _("It still could not be sent: %(error)s") % {"error": reply.error_message},
            )
    return redirect(_item_url(reply.item, "conversation", request=request))


@login_required
@require_http_methods(["GET", "POST"])
def item_replying(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: who else is writing a reply (a small partial, polled). POST: the caller is
    writing one (``stop=1``: stopped). The mark lives a few seconds in the cache."""
    membership = membership_with(request, "inbox.view")
    item = inbox_item_get_for_membership(membership, pk)
    user = user_of(request)
    if request.method == "POST":
        if not has_perm(membership, "inbox.reply"):
            return HttpResponse(status=403)
        if request.POST.get("stop"):
            presence.replying_clear(item.pk, user)
        else:
            presence.replying_mark(item.pk, user)
        return HttpResponse(status=204)
    return render(
        request,
        "inbox/_replying.html",
        {"names": presence.replying_others(item.pk, user)},
    )
