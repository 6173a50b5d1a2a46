"""Governance endpoints under /api/v1/."""

from django.urls import path

from governance import api

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
]
