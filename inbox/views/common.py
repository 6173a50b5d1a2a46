"""What the inbox pages share."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _

from governance.models import Membership, User
from governance.selectors.access import request_membership, require_perm


def user_of(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    return user


def membership_with(request: HttpRequest, perm: str) -> Membership:
    """The caller's membership, or 404 without one and 403 without ``perm``."""
    membership = request_membership(request)
    require_perm(membership, perm)
    return membership


def error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages) or _("That did not work.")
