from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Channel accounts")

    def ready(self) -> None:
        # Governance (the floor below) learns about channel accounts only through providers.
        from accounts import governance_providers, providers
        from governance.providers import HANDOVER, register_provider

        register_provider(HANDOVER, providers.ConnectedAccountsProvider())
        # The account registry and the risk report.
        governance_providers.register()
