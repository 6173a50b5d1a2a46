from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ListeningConfig(AppConfig):
    name = "listening"
    verbose_name = _("Listening")

    def ready(self) -> None:
        # Governance (the floor below) learns about listening only through these.
        from governance.providers import RECORDS, register_provider
        from listening import providers

        register_provider(RECORDS, providers.ListeningPostsRecords())
        register_provider(RECORDS, providers.MisinformationCasesRecords())
