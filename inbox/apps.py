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
