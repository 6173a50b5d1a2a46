"""Governance endpoints under /api/v1/."""

from django.urls import path

from governance.api import organization as api
from governance.api import records as api_records
from governance.api import registry as api_registry

urlpatterns = [
    path("me/", api.MeView.as_view(), name="api-me"),
    path("organization/", api.OrganizationView.as_view(), name="api-organization"),
    path("members/", api.MemberListView.as_view(), name="api-members"),
    path("members/<int:pk>/", api.MemberDetailView.as_view(), name="api-member"),
    path(
        "members/<int:pk>/deactivate/",
        api.MemberDeactivateView.as_view(),
        name="api-member-deactivate",
    ),
    path("invitations/", api.InvitationListView.as_view(), name="api-invitations"),
    path("audit-events/", api.AuditEventListView.as_view(), name="api-audit-events"),
    path("tokens/", api.ApiTokenListView.as_view(), name="api-tokens"),
    path("tokens/<int:pk>/revoke/", api.ApiTokenRevokeView.as_view(), name="api-token-revoke"),
    # Account registry, access reviews, the credential vault, risks, policies.
    path("registry-entries/", api_registry.RegistryEntryListView.as_view(), name="api-registry"),
    path(
        "registry-entries/<int:pk>/",
        api_registry.RegistryEntryDetailView.as_view(),
        name="api-registry-entry",
    ),
    path(
        "registry-entries/<int:pk>/native-admins/",
        api_registry.NativeAdminListView.as_view(),
        name="api-registry-native-admins",
    ),
    path(
        "registry-entries/<int:pk>/native-admins/<int:admin_pk>/",
        api_registry.NativeAdminDetailView.as_view(),
        name="api-registry-native-admin",
    ),
    path(
        "registry-entries/<int:pk>/access-reviews/",
        api_registry.AccessReviewListView.as_view(),
        name="api-registry-access-reviews",
    ),
    path("vault-secrets/", api_registry.VaultSecretListView.as_view(), name="api-vault-secrets"),
    path(
        "vault-secrets/<int:pk>/",
        api_registry.VaultSecretDetailView.as_view(),
        name="api-vault-secret",
    ),
    path(
        "vault-secrets/<int:pk>/reveal/",
        api_registry.VaultSecretRevealView.as_view(),
        name="api-vault-secret-reveal",
    ),
    path("risks/", api_registry.RiskReportView.as_view(), name="api-risks"),
    path("policies/", api_registry.PolicyListView.as_view(), name="api-policies"),
    path("policies/<int:pk>/", api_registry.PolicyDetailView.as_view(), name="api-policy"),
    path(
        "policies/<int:pk>/acknowledge/",
        api_registry.PolicyAcknowledgeView.as_view(),
        name="api-policy-acknowledge",
    ),
]

# Handover cases and records: retention rules, legal holds, records-request exports.
urlpatterns += [
    path("handover-cases/", api_records.HandoverCaseListView.as_view(), name="api-handover-cases"),
    path(
        "handover-cases/<int:pk>/",
        api_records.HandoverCaseDetailView.as_view(),
        name="api-handover-case",
    ),
    path(
        "handover-cases/<int:pk>/reassign/",
        api_records.HandoverReassignView.as_view(),
        name="api-handover-case-reassign",
    ),
    path(
        "handover-cases/<int:pk>/refresh/",
        api_records.HandoverRefreshView.as_view(),
        name="api-handover-case-refresh",
    ),
    path(
        "handover-cases/<int:pk>/sign-off/",
        api_records.HandoverSignOffView.as_view(),
        name="api-handover-case-sign-off",
    ),
    path(
        "retention-rules/",
        api_records.RetentionRuleListView.as_view(),
        name="api-retention-rules",
    ),
    path(
        "retention-rules/<int:pk>/",
        api_records.RetentionRuleDetailView.as_view(),
        name="api-retention-rule",
    ),
    path("legal-holds/", api_records.LegalHoldListView.as_view(), name="api-legal-holds"),
    path("legal-holds/<int:pk>/", api_records.LegalHoldDetailView.as_view(), name="api-legal-hold"),
    path(
        "legal-holds/<int:pk>/release/",
        api_records.LegalHoldReleaseView.as_view(),
        name="api-legal-hold-release",
    ),
    path(
        "records-exports/",
        api_records.RecordsExportListView.as_view(),
        name="api-records-exports",
    ),
    path(
        "records-exports/<int:pk>/",
        api_records.RecordsExportDetailView.as_view(),
        name="api-records-export",
    ),
    path(
        "records-exports/<int:pk>/download/",
        api_records.RecordsExportDownloadView.as_view(),
        name="api-records-export-download",
    ),
]
