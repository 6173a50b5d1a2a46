"""The Django admin, for site operators.

The audit log is view-only here: no one can add, change or delete an entry.
Every other change made through the admin is written to the audit log, like a
change made anywhere else in the app; and nothing is deleted here (people and
memberships are deactivated, and the audit log protects what it refers to).
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from governance.models import AuditEvent, Membership, Organization, User
from governance.services.audit import audit_record

# Never copied into an audit entry, not even hashed.
SECRET_FIELDS = frozenset({"password", "password1", "password2", "usable_password"})


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    return value


def _field_changes(
    obj: models.Model, form: forms.ModelForm, change: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Old and new values of the fields the form changed (secrets left out)."""
    names = [name for name in form.changed_data if name not in SECRET_FIELDS]
    before = type(obj)._default_manager.filter(pk=obj.pk).first() if change else None
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for name in names:
        try:
            field = obj._meta.get_field(name)
        except FieldDoesNotExist:  # a form-only field: nothing stored, nothing to record
            continue
        if field.many_to_many:
            if before is not None:
                old[name] = sorted(str(item) for item in getattr(before, name).all())
            new[name] = sorted(str(item) for item in form.cleaned_data.get(name) or [])
        else:
            if before is not None:
                old[name] = _plain(getattr(before, name))
            new[name] = _plain(form.cleaned_data.get(name))
    return old, new


class AuditedAdmin(admin.ModelAdmin):
    """Saves through the admin write an audit entry, and nothing can be deleted."""

    audit_action_add = ""
    audit_action_change = ""
    actions = None

    def audit_organizations(self, obj: Any) -> list[Organization | None]:
        raise NotImplementedError

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        old, new = _field_changes(obj, form, change)
        super().save_model(request, obj, form, change)
        if change and not new:
            return
        for organization in self.audit_organizations(obj):
            audit_record(
                action=self.audit_action_change if change else self.audit_action_add,
                organization=organization,
                target=obj,
                old=old,
                new=new,
                request=request,
            )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ("name", "slug", "require_2fa", "time_zone", "default_language")

    def clean_time_zone(self) -> str:
        name: str = self.cleaned_data["time_zone"]
        if name not in zoneinfo.available_timezones():
            raise forms.ValidationError(_("Choose a valid time zone, like Europe/Helsinki."))
        return name


@admin.register(Organization)
class OrganizationAdmin(AuditedAdmin):
    form = OrganizationForm
    audit_action_add = "org.created"
    audit_action_change = "org.settings_changed"
    list_display = ("name", "slug", "require_2fa", "time_zone", "default_language", "created_at")
    search_fields = ("name", "slug")
    readonly_fields = ("created_at",)

    def audit_organizations(self, obj: Organization) -> list[Organization | None]:
        return [obj]


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    """Read-mostly: adding a person to an organization (to seat its first admin) and
    changing a role. Deactivation, leaving dates and account limits belong to the
    members pages, whose services apply their rules (sessions ended, and so on)."""

    audit_action_add = "member.added_by_admin"
    audit_action_change = "member.changed_by_admin"
    list_display = ("user", "organization", "role", "all_accounts", "is_active", "joined_at")
    list_filter = ("organization", "role", "is_active")
    list_select_related = ("user", "organization")
    search_fields = ("user__email", "user__full_name", "organization__name")
    autocomplete_fields = ("user", "organization")

    def get_fields(  # type: ignore[override]
        self, request: HttpRequest, obj: Membership | None = None
    ) -> list[str]:
        if obj is None:
            return ["organization", "user", "role"]
        return [
            "organization",
            "user",
            "role",
            "all_accounts",
            "is_active",
            "joined_at",
            "deactivated_at",
            "leaving_on",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Membership | None = None) -> list[str]:
        if obj is None:
            return []
        return [name for name in self.get_fields(request, obj) if name != "role"]

    def audit_organizations(self, obj: Membership) -> list[Organization | None]:
        return [obj.organization]


class EmailUserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")

    def clean_email(self) -> str:
        email: str = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("A user with this e-mail address already exists."))
        return email


class EmailUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    """Django's user admin, fitted to a user who logs in by e-mail and has no username."""

    form = EmailUserChangeForm
    add_form = EmailUserCreationForm
    audit_action_add = "user.created_by_admin"
    audit_action_change = "user.changed_by_admin"
    ordering = ("email",)
    list_display = ("email", "full_name", "is_active", "is_staff", "is_superuser", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("email", "full_name")
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal details"), {"fields": ("full_name", "preferred_language", "time_zone")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "usable_password", "password1", "password2"),
            },
        ),
    )

    def audit_organizations(self, obj: User) -> list[Organization | None]:
        # A person is not org-owned: tell each organization they belong to.
        organizations: list[Organization | None] = [
            m.organization for m in obj.memberships.select_related("organization")
        ]
        return organizations or [None]

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        response = super().user_change_password(request, id, form_url)
        # Success redirects to the user's page; a rejected form redirects back here.
        if (
            request.method == "POST"
            and response.status_code == 302
            and response["Location"] != request.get_full_path()
        ):
            user = User.objects.filter(pk=id).first()
            if user is not None:
                for organization in self.audit_organizations(user):
                    audit_record(
                        action="user.password_set_by_admin",
                        organization=organization,
                        target=user,
                        new={"usable_password": user.has_usable_password()},
                        request=request,
                    )
        return response


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """View-only. The model itself refuses updates and deletes as well."""

    actions = None
    list_display = ("id", "created_at", "organization", "actor_label", "action", "target_label")
    list_filter = ("organization", "action")
    list_select_related = ("organization",)
    search_fields = ("actor_label", "action", "target_label", "target_id", "hash")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
