from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublishingConfig(AppConfig):
    name = "publishing"
    verbose_name = _("Publishing")

    def ready(self) -> None:
        # Governance (the floor below) learns about posts only through these providers.
        from governance.providers import HANDOVER, MEMBER_ROLE_GIVEN, RECORDS, register_provider
        from publishing import providers, signals

        signals.connect()

        register_provider(HANDOVER, providers.AuthoredPostsProvider())
        register_provider(HANDOVER, providers.ApprovalPoliciesProvider())
        register_provider(RECORDS, providers.PublishedPostsRecords())
        register_provider(MEMBER_ROLE_GIVEN, providers.tell_new_reviewer_what_waits)
