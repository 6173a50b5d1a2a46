"""Keeps the calendar's cached filter choices true to the data they are made of.

A signal rather than a call in each service: channel accounts are created and
renamed by every network's connector and by the admin, and variants by the
composer, the API and imports; one receiver per model sees them all."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from accounts.models import ChannelAccount
from publishing.models import Campaign, Post, PublishingPause, Variant
from publishing.selectors import pauses_forget
from publishing.selectors_calendar import filter_choices_forget, filter_choices_know_language


def _forget_for_organization(
    sender: Any, instance: ChannelAccount | Campaign, **kwargs: Any
) -> None:
    filter_choices_forget(instance.organization_id)


def _variant_saved(sender: Any, instance: Variant, **kwargs: Any) -> None:
    filter_choices_know_language(instance.post.organization_id, instance.language)


def _variant_deleted(sender: Any, instance: Variant, **kwargs: Any) -> None:
    # The organization may have lost its last post in that language.
    organization_id = (
        instance.post.organization_id
        if Variant.post.is_cached(instance)
        else Post.objects.filter(pk=instance.post_id)
        .values_list("organization_id", flat=True)
        .first()
    )
    if organization_id is not None:
        filter_choices_forget(organization_id)


def _pause_changed(sender: Any, instance: PublishingPause, **kwargs: Any) -> None:
    pauses_forget(instance.organization_id)


def connect() -> None:
    post_save.connect(_pause_changed, sender=PublishingPause, dispatch_uid="pause-saved")
    post_delete.connect(_pause_changed, sender=PublishingPause, dispatch_uid="pause-deleted")
    for model in (ChannelAccount, Campaign):
        post_save.connect(_forget_for_organization, sender=model, dispatch_uid=f"calendar-{model}")
        post_delete.connect(
            _forget_for_organization, sender=model, dispatch_uid=f"calendar-del-{model}"
        )
    post_save.connect(_variant_saved, sender=Variant, dispatch_uid="calendar-variant-saved")
    post_delete.connect(_variant_deleted, sender=Variant, dispatch_uid="calendar-variant-deleted")
