from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = _("Inbox")

    def ready(self) -> None:
        # Governance (the floor below) learns about inbox items only through these.
        from governance.providers import HANDOVER, RECORDS, register_provider
        from inbox import providers

        register_provider(HANDOVER, providers.AssignedItemsProvider())
        register_provider(RECORDS, providers.InboxItemsRecords())

        # Cached list counts are dropped whenever an item is saved or deleted.
        from django.db.models.signals import post_delete, post_save

        from inbox.models import InboxItem

        post_save.connect(_item_changed, sender=InboxItem, dispatch_uid="inbox-counts")
        post_delete.connect(_item_changed, sender=InboxItem, dispatch_uid="inbox-counts")


def _item_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    from inbox.selectors import inbox_changed

    inbox_changed(instance.organization_id)
