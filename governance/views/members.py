"""Members, invitations, organization settings and the personal profile page.

Views parse the form, call one service from ``governance.services.members``
and render; a service's ``ValidationError`` is shown next to the field it is
about.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from governance.forms.members import (
    AcceptInvitationForm,
    DeactivateMemberForm,
    InvitationForm,
    MemberEditForm,
    OrganizationSettingsForm,
    ProfileForm,
)
from governance.holidays import country_name, organization_country
from governance.middleware import SESSION_ORG_KEY, set_language_cookie
from governance.models import Membership, Role, User
from governance.selectors.access import has_perm, request_membership, require_perm
from governance.selectors.access import request_user as _user
from governance.selectors.handover import handover_open_case_for_member
from governance.selectors.members import (
    active_admin_count,
    invitation_get_by_token,
    invitation_get_for_org,
    invitation_rows,
    invitations_expired_for_org,
    invitations_pending_for_org,
    member_channel_account_ids,
    member_get_for_org,
    members_for_org,
    memberships_for_user,
)
from governance.services import members as services

# Which form field a service's error code belongs next to (None: the whole form).
ERROR_FIELDS: dict[str, str | None] = {
    "invitation_unusable": None,
    "account_exists": None,
    "wrong_user": None,
    "already_member": "email",
    "deactivated_member": "email",
    "already_invited": "email",
    "invalid_role": "role",
    "last_admin": "role",
    "invalid_accounts": "channel_accounts",
    "not_limitable": "channel_accounts",
    "full_name_required": "full_name",
    "invalid_time_zone": "time_zone",
    "invalid_country": "country",
    "invalid_language": "default_language",
    "name_required": "name",
    "confirm_2fa_off": "disable_2fa_confirmation",
}


def _attach_errors(form: Form, error: ValidationError, default: str | None = None) -> None:
    for item in error.error_list:
        code = item.code or ""
        field = ERROR_FIELDS.get(code, default)
        if field is not None and field not in form.fields:
            field = None
        form.add_error(field, item)


def _posted(request: HttpRequest) -> Any:
    # An empty POST (a confirmation with no fields filled) must still bind the form.
    return request.POST if request.method == "POST" else None


def _account_ids(form: Form) -> list[int]:
    return [account.pk for account in form.cleaned_data.get("channel_accounts") or []]


def _members_page(
    request: HttpRequest, membership: Membership, invite_form: InvitationForm | None = None
) -> HttpResponse:
    organization = membership.organization
    can_manage = has_perm(membership, "members.manage")
    if can_manage and invite_form is None:
        invite_form = InvitationForm(organization=organization)
    context = {
        "members": members_for_org(organization),
        "invitations": invitation_rows(organization, invitations_pending_for_org(organization)),
        "expired_invitations": invitation_rows(
            organization, invitations_expired_for_org(organization)
        ),
        "invitation_ttl_hours": settings.INVITATION_TTL_HOURS,
        "can_manage": can_manage,
        "invite_form": invite_form,
    }
    status = 400 if invite_form is not None and invite_form.errors else 200
    return render(request, "governance/members/list.html", context, status=status)


@login_required
@require_GET
def members_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "members.view")
    return _members_page(request, membership)


@login_required
@require_POST
def invite_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "members.manage")
    form = InvitationForm(request.POST, organization=membership.organization)
    if form.is_valid():
        try:
            invitation = services.invitation_create(
                organization=membership.organization,
                actor=_user(request),
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                channel_account_ids=_account_ids(form),
                request=request,
            )
        except ValidationError as error:
            _attach_errors(form, error)
        except OSError:
            # SMTP and connection errors: the service rolled back, nothing was saved.
            form.add_error(
                None,
                _("The invitation e-mail could not be sent, so no invitation was made. Try again."),
            )
        else:
            messages.success(
                request,
                ngettext(
                    "Invitation sent to %(email)s. The link works for %(hours)d hour.",
                    "Invitation sent to %(email)s. The link works for %(hours)d hours.",
                    settings.INVITATION_TTL_HOURS,
                )
                % {"email": invitation.email, "hours": settings.INVITATION_TTL_HOURS},
            )
            return redirect("governance:members")
    return _members_page(request, membership, invite_form=form)


@login_required
@require_POST
def invitation_resend_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "members.manage")
    invitation = invitation_get_for_org(membership.organization, pk)
    try:
        services.invitation_resend(invitation=invitation, actor=_user(request), request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except OSError:
        messages.error(request, _("The invitation e-mail could not be sent. Try again."))
    else:
        messages.success(
            request,
            _("A new link was sent to %(email)s; the previous link no longer works.")
            % {"email": invitation.email},
        )
    return redirect("governance:members")


@login_required
@require_POST
def invitation_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "members.manage")
    invitation = invitation_get_for_org(membership.organization, pk)
    try:
        services.invitation_revoke(invitation=invitation, actor=_user(request), request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("The invitation to %(email)s was revoked; its link no longer works.")
            % {"email": invitation.email},
        )
    return redirect("governance:members")


@require_http_methods(["GET", "POST"])
def accept_invite_view(request: HttpRequest, token: str) -> HttpResponse:
    """Open to anyone holding the link; the link itself is the proof."""
    invitation = invitation_get_by_token(token)
    problem = services.invitation_problem(invitation)
    if invitation is None or problem:
        return render(
            request,
            "governance/members/accept_invalid.html",
            {"problem": problem},
            status=404 if invitation is None else 410,
        )
    organization = invitation.organization
    context: dict[str, Any] = {"invitation": invitation, "organization": organization}
    current = request.user if request.user.is_authenticated else None
    existing = User.objects.filter(email__iexact=invitation.email, is_active=True).first()

    if current is not None and isinstance(current, User):
        if current.email.lower() != invitation.email.lower():
            context["mode"] = "wrong_user"
            return render(request, "governance/members/accept.html", context)
        context["mode"] = "join"
        if request.method == "POST":
            try:
                services.invitation_accept(invitation=invitation, user=current, request=request)
            except ValidationError as error:
                context["errors"] = error.messages
                return render(request, "governance/members/accept.html", context, status=400)
            request.session[SESSION_ORG_KEY] = organization.pk
            messages.success(request, _("Welcome to %(org)s.") % {"org": organization})
            return redirect("home")
        return render(request, "governance/members/accept.html", context)

    if existing is not None:
        context["mode"] = "log_in_first"
        context["login_url"] = f"{reverse('governance:login')}?{urlencode({'next': request.path})}"
        return render(request, "governance/members/accept.html", context)

    context["mode"] = "new"
    form = AcceptInvitationForm(_posted(request), email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.invitation_accept(
                invitation=invitation,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password1"],
                request=request,
            )
        except ValidationError as error:
            _attach_errors(form, error, default="password1")
        else:
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[SESSION_ORG_KEY] = organization.pk
            messages.success(
                request,
                _(
                    "Welcome to %(org)s. Next, set up two-factor authentication to protect "
                    "your account."
                )
                % {"org": organization}
                if organization.require_2fa
                else _("Welcome to %(org)s.") % {"org": organization},
            )
            # The two-factor middleware sends them to enrolment first if the org requires it.
            return redirect("home")
    context["form"] = form
    status = 400 if form.errors else 200
    return render(request, "governance/members/accept.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def member_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "members.manage")
    member = member_get_for_org(membership.organization, pk)
    if request.method == "POST":
        form = MemberEditForm(request.POST, membership=member)
        if form.is_valid():
            try:
                services.member_update(
                    membership=member,
                    actor=_user(request),
                    role=form.cleaned_data["role"],
                    channel_account_ids=_account_ids(form),
                    leaving_on=form.cleaned_data["leaving_on"],
                    request=request,
                )
            except ValidationError as error:
                _attach_errors(form, error)
            else:
                messages.success(
                    request, _("The changes to %(name)s were saved.") % {"name": member.user}
                )
                return redirect("governance:member_edit", pk=member.pk)
    else:
        form = MemberEditForm(
            membership=member,
            initial={
                "role": member.role,
                "leaving_on": member.leaving_on,
                "channel_accounts": []
                if member.all_accounts
                else member_channel_account_ids(member),
            },
        )
    context = {
        "member": member,
        "form": form,
        "is_self": member.user_id == request.user.pk,
        "is_last_admin": member.role == Role.ADMIN
        and member.is_active
        and active_admin_count(member.organization) <= 1,
        "limited_accounts": [] if member.all_accounts else member.channel_accounts.all(),
    }
    status = 400 if form.errors else 200
    return render(request, "governance/members/edit.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def member_deactivate_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "members.manage")
    member = member_get_for_org(membership.organization, pk)
    if not member.is_active:
        return redirect("governance:member_edit", pk=member.pk)
    form = DeactivateMemberForm(_posted(request), initial={"leaving_on": member.leaving_on})
    if request.method == "POST" and form.is_valid():
        try:
            services.member_deactivate(
                membership=member,
                actor=_user(request),
                leaving_on=form.cleaned_data["leaving_on"],
                request=request,
            )
        except ValidationError as error:
            _attach_errors(form, error)
        else:
            text = _(
                "%(name)s was deactivated: their sessions have ended and their API tokens "
                "for this organization are revoked."
            ) % {"name": member.user}
            case = handover_open_case_for_member(member)
            if case is not None:
                text = format_html(
                    '{} <a href="{}">{}</a>',
                    text,
                    reverse("governance:handover_detail", args=[case.pk]),
                    _("Hand over what they held"),
                )
            messages.success(request, text)
            return redirect("governance:members")
    context = {"member": member, "form": form, "is_self": member.user_id == request.user.pk}
    status = 400 if form.errors else 200
    return render(request, "governance/members/deactivate.html", context, status=status)


@login_required
@require_POST
def member_reactivate_view(request: HttpRequest, pk: int) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "members.manage")
    member = member_get_for_org(membership.organization, pk)
    services.member_reactivate(membership=member, actor=_user(request), request=request)
    messages.success(
        request,
        _("%(name)s is active again. Revoked API tokens stay revoked.") % {"name": member.user},
    )
    return redirect("governance:member_edit", pk=member.pk)


@login_required
@require_http_methods(["GET", "POST"])
def settings_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "org.view")
    organization = membership.organization
    can_manage = has_perm(membership, "org.manage")
    form = None
    if can_manage:
        form = OrganizationSettingsForm(_posted(request), organization=organization)
    if request.method == "POST":
        require_perm(membership, "org.manage")
        assert form is not None
        if form.is_valid():
            try:
                services.organization_update_settings(
                    organization=organization,
                    actor=_user(request),
                    request=request,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                _attach_errors(form, error)
            else:
                messages.success(request, _("The organization's settings were saved."))
                return redirect("governance:settings")
    context = {
        "organization": organization,
        "form": form,
        "can_manage": can_manage,
        "country_name": country_name(organization_country(organization)),
    }
    status = 400 if form is not None and form.errors else 200
    return render(request, "governance/settings.html", context, status=status)


def _backup_codes_url() -> str:
    # The backup codes page is another area's; fall back to its documented path.
    try:
        return reverse("governance:backup_codes")
    except NoReverseMatch:
        return "/auth/2fa/backup-codes/"


@login_required
@require_http_methods(["GET", "POST"])
def profile_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = ProfileForm(_posted(request), user=user)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_update_profile(
                user=user,
                organization=getattr(request, "organization", None),
                request=request,
                **form.cleaned_data,
            )
        except ValidationError as error:
            _attach_errors(form, error)
        else:
            messages.success(request, _("Your profile was saved."))
            response: HttpResponse = HttpResponseRedirect(reverse("governance:profile"))
            # The language switcher and LocaleMiddleware read this cookie.
            if user.preferred_language:
                set_language_cookie(response, user.preferred_language)
            return response
    context = {
        "form": form,
        "memberships": memberships_for_user(user),
        "backup_codes_url": _backup_codes_url(),
        "tokens_url": "/me/tokens/",
    }
    status = 400 if form.errors else 200
    return render(request, "governance/profile.html", context, status=status)
