"""Routes of the account registry, the credential vault, the risk report and policies."""

from django.urls import path

from governance.views import policies, registry, risks, vault

urlpatterns = [
    path("governance/registry/", registry.registry_list_view, name="registry"),
    path("governance/registry/new/", registry.registry_create_view, name="registry_create"),
    path("governance/registry/<int:pk>/", registry.registry_detail_view, name="registry_detail"),
    path("governance/registry/<int:pk>/edit/", registry.registry_edit_view, name="registry_edit"),
    path(
        "governance/registry/<int:pk>/delete/",
        registry.registry_delete_view,
        name="registry_delete",
    ),
    path(
        "governance/registry/<int:pk>/people/",
        registry.native_admin_add_view,
        name="registry_people_add",
    ),
    path(
        "governance/registry/<int:pk>/people/<int:admin_pk>/remove/",
        registry.native_admin_remove_view,
        name="registry_people_remove",
    ),
    path(
        "governance/registry/<int:pk>/review/",
        registry.registry_review_view,
        name="registry_review",
    ),
    path("governance/vault/", vault.vault_list_view, name="vault"),
    path("governance/vault/new/", vault.vault_create_view, name="vault_create"),
    path("governance/vault/<int:pk>/", vault.vault_detail_view, name="vault_detail"),
    path("governance/vault/<int:pk>/edit/", vault.vault_edit_view, name="vault_edit"),
    path("governance/vault/<int:pk>/delete/", vault.vault_delete_view, name="vault_delete"),
    path("governance/vault/<int:pk>/reveal/", vault.vault_reveal_view, name="vault_reveal"),
    path("governance/risks/", risks.risks_view, name="risks"),
    path("governance/policies/", policies.policy_list_view, name="policies"),
    path("governance/policies/new/", policies.policy_create_view, name="policy_create"),
    path("governance/policies/<int:pk>/", policies.policy_detail_view, name="policy_detail"),
    path("governance/policies/<int:pk>/edit/", policies.policy_edit_view, name="policy_edit"),
    path(
        "governance/policies/<int:pk>/acknowledge/",
        policies.policy_acknowledge_view,
        name="policy_acknowledge",
    ),
    path(
        "governance/policies/<int:pk>/acknowledgements/",
        policies.policy_acknowledgements_view,
        name="policy_acknowledgements",
    ),
    path(
        "governance/review/",
        policies.governance_review_view,
        name="governance_review",
    ),
]
