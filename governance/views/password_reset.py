"""Self-service password reset, with Django's views: a link by e-mail, then a new
password. The reset does not log anyone in: the person logs in with the new password
and, where the organization asks for it, still enters their second factor."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import reverse_lazy

from governance.models import Membership
from governance.services.audit import audit_record

PAGE_CONTEXT: dict[str, Any] = {"nav_items": []}


class PasswordResetRequestView(auth_views.PasswordResetView):
    """Ask for a link. The answer is the same whether the address has an account or not."""

    template_name = "governance/auth/password_reset.html"
    email_template_name = "governance/auth/password_reset_email.txt"
    subject_template_name = "governance/auth/password_reset_subject.txt"
    success_url = reverse_lazy("governance:password_reset_done")
    extra_context = PAGE_CONTEXT


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "governance/auth/password_reset_done.html"
    extra_context = PAGE_CONTEXT


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Choose the new password (the link is single-use: the token hashes the old one)."""

    template_name = "governance/auth/password_reset_confirm.html"
    success_url = reverse_lazy("governance:password_reset_complete")
    post_reset_login = False  # the second factor is still asked at the next login
    extra_context = PAGE_CONTEXT

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        user = form.user
        membership = (
            Membership.objects.filter(user=user, is_active=True)
            .select_related("organization")
            .order_by("joined_at", "pk")
            .first()
        )
        audit_record(
            action="auth.password_reset",
            organization=membership.organization if membership is not None else None,
            actor=user,
            target=user,
            request=self.request,
        )
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "governance/auth/password_reset_complete.html"
    extra_context = PAGE_CONTEXT
