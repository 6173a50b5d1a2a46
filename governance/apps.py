from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("Governance")

    def ready(self) -> None:
        # Governance's own handover and records providers, beside those the apps
        # above register; and the records tasks, so Celery knows them.
        from governance.providers import HANDOVER, RECORDS, register_provider
        from governance.providers import handover as handover_providers
        from governance.providers import records as records_providers
        from governance.tasks import records as records_tasks  # noqa: F401

        register_provider(HANDOVER, handover_providers.RegistryRolesProvider())
        register_provider(HANDOVER, handover_providers.NativeAccessProvider())
        register_provider(HANDOVER, handover_providers.VaultSecretsProvider())
        register_provider(RECORDS, records_providers.AuditEntriesRecords())
        register_provider(RECORDS, records_providers.VaultAccessRecords())

        # Cached two-factor state (sessions, devices, policy) is dropped on change.
        from governance.middleware import connect_second_factor_cache_signals

        connect_second_factor_cache_signals()

        # The header's unread count is cached per person; a notice's change drops it.
        from governance.selectors.notifications import connect_unread_cache_signals

        connect_unread_cache_signals()
