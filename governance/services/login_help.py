"""What a deactivated person is told when they log in with their right password."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from governance.models import Membership, Role, User
from governance.services.auth import normalize_email


def deactivated_login_message(*, email: str, password: str) -> str:
    """The message for a deactivated person whose password is right, else "".

    Only someone who knows the password learns that the account exists and is
    deactivated; everyone else keeps getting the one message for a wrong address
    or password. The message names the admins of the organization they were in
    (or the configured help contact) so they know whom to ask.
    """
    user = User.objects.filter(email=normalize_email(email)).first()
    if user is None or user.is_active or not user.check_password(password):
        return ""
    last = (
        Membership.objects.filter(user=user)
        .select_related("organization")
        .order_by("-deactivated_at", "-pk")
        .first()
    )
    admins: list[str] = []
    if last is not None:
        admins = [
            f"{m.user.full_name} ({m.user.email})" if m.user.full_name else m.user.email
            for m in Membership.objects.filter(
                organization=last.organization, role=Role.ADMIN, is_active=True
            )
            .select_related("user")
            .order_by("user__full_name", "user__email")[:3]
        ]
    contact = ", ".join(admins) or getattr(settings, "LOGIN_HELP_CONTACT", "")
    if not contact:
        return _(
            "Your account has been deactivated, so you cannot log in. "
            "Ask an administrator of your organization to reactivate it."
        )
    return _(
        "Your account has been deactivated, so you cannot log in. "
        "To have it reactivated, ask: %(contact)s."
    ) % {"contact": contact}
