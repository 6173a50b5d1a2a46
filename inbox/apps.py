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

        # The filter form's cached people and tags are dropped whenever they may change.
        from governance.models import Membership, User
        from inbox.models import Tag

        for model in (Tag, Membership):
            post_save.connect(
                _choices_changed, sender=model, dispatch_uid=f"inbox-choices-{model.__name__}"
            )
            post_delete.connect(
                _choices_changed, sender=model, dispatch_uid=f"inbox-choices-del-{model.__name__}"
            )
        # Who sees which account: an account's limited members, or the account itself.
        from django.db.models.signals import m2m_changed

        from accounts.models import ChannelAccount

        m2m_changed.connect(
            _limits_changed,
            sender=ChannelAccount.limited_members.through,
            dispatch_uid="inbox-choices-limits",
        )
        post_delete.connect(
            _choices_changed, sender=ChannelAccount, dispatch_uid="inbox-choices-account-del"
        )
        post_save.connect(_person_changed, sender=User, dispatch_uid="inbox-choices-user")
        post_delete.connect(_person_changed, sender=User, dispatch_uid="inbox-choices-user-del")

        # The item page's cached reply setup is dropped whenever its rules may change.
        from inbox.models import InboxSettings, SavedReply

        for rules in (InboxSettings, SavedReply):
            post_save.connect(
                _reply_setup_changed, sender=rules, dispatch_uid=f"inbox-setup-{rules.__name__}"
            )
            post_delete.connect(
                _reply_setup_changed,
                sender=rules,
                dispatch_uid=f"inbox-setup-del-{rules.__name__}",
            )
        for through in (
            InboxSettings.approval_accounts.through,
            InboxSettings.approval_tags.through,
        ):
            m2m_changed.connect(
                _approval_rules_changed,
                sender=through,
                dispatch_uid=f"inbox-setup-{through.__name__}",
            )


def _item_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    from inbox.selectors import inbox_changed

    inbox_changed(instance.organization_id)


def _choices_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    from inbox.selectors import inbox_filter_choices_forget

    inbox_filter_choices_forget(instance.organization_id)


def _limits_changed(sender: type, instance: Any, action: str, **kwargs: Any) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        _choices_changed(sender, instance)


def _person_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # every sign-in saves this; it changes no name nor standing
    from governance.models import Membership
    from inbox.selectors import inbox_filter_choices_forget

    for organization_id in set(
        Membership.objects.filter(user_id=instance.pk).values_list("organization_id", flat=True)
    ):
        inbox_filter_choices_forget(organization_id)


def _reply_setup_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    from inbox.selectors import inbox_reply_setup_forget

    inbox_reply_setup_forget(instance.organization_id)


def _approval_rules_changed(sender: type, instance: Any, action: str, **kwargs: Any) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        _reply_setup_changed(sender, instance)
