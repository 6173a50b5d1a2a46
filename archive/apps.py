from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ArchiveConfig(AppConfig):
    name = "archive"
    verbose_name = _("Complete record")

    def ready(self) -> None:
        # Governance (the floor below) learns about the complete record only through this.
        from archive import providers
        from governance.providers import RECORDS, register_provider
        from inbox.providers import inbox_items_disposed

        register_provider(RECORDS, providers.ArchiveRecords())
        inbox_items_disposed.connect(_inbox_items_disposed, dispatch_uid="archive-inbox-disposed")


def _inbox_items_disposed(
    sender: type, *, organization: Any, ids: list[int], action: str, **kwargs: Any
) -> None:
    from archive.services.archive import records_inbox_items_disposed

    records_inbox_items_disposed(ids=ids, action=action)
