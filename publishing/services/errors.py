"""Errors the publishing services raise for people to read."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class InvalidTransition(ValidationError):
    """The post (or job) is not in a state that allows this; ``messages`` says why."""
