"""Account registry pages: the list, an entry, its people with native access, and the
access review. Views parse a form, call one service and render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from governance.forms.registry import AccessReviewForm, NativeAdminForm, RegistryEntryForm
from governance.models import Membership, RegistryEntry
from governance.selectors.access import has_perm, request_membership, require_perm
from governance.selectors.access import request_user as _actor
from governance.selectors.registry import (
    access_reviews_for_entry,
    connected_account_for_entry,
    connected_accounts_for_org,
    local_today,
    login_identity_check,
    native_admin_get,
    registry_entries_for_org,
    registry_entries_held_by,
    registry_entry_can_review,
    registry_entry_can_view,
    registry_entry_get,
    registry_people_choices,
)
from governance.services.registry import (
    access_review_record,
    native_admin_add,
    native_admin_remove,
    registry_entry_create,
    registry_entry_delete,
    registry_entry_update,
)


def attach_service_errors(form: Form, exc: ValidationError) -> None:
    """Put a service's errors next to the fields they are about (or on top of the form)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _entry_for(request: HttpRequest, pk: int) -> tuple[Membership, RegistryEntry]:
    membership = request_membership(request)
    return membership, registry_entry_get(membership.organization, pk)


@login_required
def registry_list_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    if has_perm(membership, "registry.view"):
        entries = list(registry_entries_for_org(membership.organization))
    else:
        # Owners who may not read the whole registry still see the accounts they hold.
        entries = list(registry_entries_held_by(membership))
        if not entries:
            raise PermissionDenied
    members = list(registry_people_choices(membership.organization))
    today = local_today(membership.organization)
    rows = [
        {
            "entry": entry,
            "identity": login_identity_check(entry.login_identity, members),
            "review_overdue": entry.next_review_due < today,
        }
        for entry in entries
    ]
    return render(
        request,
        "governance/registry/list.html",
        {
            "rows": rows,
            "can_manage": has_perm(membership, "registry.manage"),
            "can_see_risks": has_perm(membership, "registry.view"),
        },
    )


@login_required
def registry_create_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "registry.manage")
    organization = membership.organization
    connected = connected_accounts_for_org(organization)
    form = RegistryEntryForm(
        request.POST if request.method == "POST" else None,
        organization=organization,
        connected_accounts=connected,
        # The risk report links here with a connected account's details filled in.
        initial={
            **{key: request.GET[key] for key in ("network", "handle") if key in request.GET},
            **({"channel_account": request.GET["account"]} if "account" in request.GET else {}),
        },
    )
    if form.is_valid():
        try:
            entry = registry_entry_create(
                organization=organization,
                actor=_actor(request),
                data=form.to_data(),
                channel_account_id=form.cleaned_data.get("channel_account"),
                request=request,
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("Added %(account)s to the registry.") % {"account": entry})
            return redirect("governance:registry_detail", pk=entry.pk)
    return render(request, "governance/registry/form.html", {"form": form, "entry": None})


@login_required
def registry_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership, entry = _entry_for(request, pk)
    return _render_detail(request, membership, entry)


def _render_detail(
    request: HttpRequest,
    membership: Membership,
    entry: RegistryEntry,
    admin_form: NativeAdminForm | None = None,
    status: int = 200,
) -> HttpResponse:
    if not registry_entry_can_view(membership, entry):
        raise PermissionDenied
    members = list(registry_people_choices(membership.organization))
    can_manage = has_perm(membership, "registry.manage")
    return render(
        request,
        "governance/registry/detail.html",
        {
            "entry": entry,
            "identity": login_identity_check(entry.login_identity, members),
            "connected": connected_account_for_entry(entry),
            "native_admins": list(entry.native_admins.all()),
            "secrets": list(entry.vault_secrets.all())
            if has_perm(membership, "vault.view")
            else None,
            "reviews": list(access_reviews_for_entry(entry)[:10]),
            "review_overdue": entry.next_review_due < local_today(entry.organization),
            "can_manage": can_manage,
            "can_review": registry_entry_can_review(membership, entry),
            "admin_form": admin_form or (NativeAdminForm() if can_manage else None),
        },
        status=status,
    )


@login_required
def registry_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership, entry = _entry_for(request, pk)
    require_perm(membership, "registry.manage")
    connected = connected_accounts_for_org(membership.organization)
    form = RegistryEntryForm(
        request.POST if request.method == "POST" else None,
        organization=membership.organization,
        connected_accounts=connected,
        entry=entry,
    )
    if form.is_valid():
        try:
            registry_entry_update(
                entry=entry,
                actor=_actor(request),
                data=form.to_data(),
                channel_account_id=form.cleaned_data.get("channel_account"),
                request=request,
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("Saved %(account)s.") % {"account": entry})
            return redirect("governance:registry_detail", pk=entry.pk)
    return render(request, "governance/registry/form.html", {"form": form, "entry": entry})


@login_required
def registry_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership, entry = _entry_for(request, pk)
    require_perm(membership, "registry.manage")
    if request.method == "POST":
        label = str(entry)
        registry_entry_delete(entry=entry, actor=_actor(request), request=request)
        messages.success(request, _("Removed %(account)s from the registry.") % {"account": label})
        return redirect("governance:registry")
    return render(request, "governance/registry/delete.html", {"entry": entry})


@login_required
@require_POST
def native_admin_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership, entry = _entry_for(request, pk)
    require_perm(membership, "registry.manage")
    form = NativeAdminForm(request.POST)
    if form.is_valid():
        try:
            admin = native_admin_add(
                entry=entry, actor=_actor(request), person=form.to_person(), request=request
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(
                request, _("Added %(name)s to the people with access.") % {"name": admin.name}
            )
            return redirect("governance:registry_detail", pk=entry.pk)
    return _render_detail(request, membership, entry, admin_form=form, status=400)


@login_required
@require_POST
def native_admin_remove_view(request: HttpRequest, pk: int, admin_pk: int) -> HttpResponse:
    membership, entry = _entry_for(request, pk)
    require_perm(membership, "registry.manage")
    admin = native_admin_get(entry, admin_pk)
    native_admin_remove(admin=admin, actor=_actor(request), request=request)
    messages.success(
        request, _("Removed %(name)s from the people with access.") % {"name": admin.name}
    )
    return redirect("governance:registry_detail", pk=entry.pk)


@login_required
def registry_review_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership, entry = _entry_for(request, pk)
    if not registry_entry_can_review(membership, entry):
        raise PermissionDenied
    admins = list(entry.native_admins.all())
    form = AccessReviewForm(request.POST if request.method == "POST" else None, admins=admins)
    if form.is_valid():
        try:
            review = access_review_record(
                entry=entry,
                reviewer=_actor(request),
                keep_ids=set(form.cleaned_data.get("keep", [])),
                added=form.cleaned_data["added"],
                notes=form.cleaned_data["notes"],
                request=request,
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Access review recorded. The next one is due on %(date)s.")
                % {"date": date_format(review.next_due, "DATE_FORMAT")},
            )
            return redirect("governance:registry_detail", pk=entry.pk)
    context: dict[str, Any] = {"entry": entry, "form": form, "admins": admins}
    return render(request, "governance/registry/review.html", context)
