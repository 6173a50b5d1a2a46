from django.urls import path

from governance.views import members

urlpatterns = [
    path("governance/members/", members.members_view, name="members"),
    path("governance/members/invite/", members.invite_view, name="invite"),
    path(
        "governance/members/invitations/<int:pk>/resend/",
        members.invitation_resend_view,
        name="invitation_resend",
    ),
    path(
        "governance/members/invitations/<int:pk>/revoke/",
        members.invitation_revoke_view,
        name="invitation_revoke",
    ),
    path("governance/members/<int:pk>/", members.member_edit_view, name="member_edit"),
    path(
        "governance/members/<int:pk>/deactivate/",
        members.member_deactivate_view,
        name="member_deactivate",
    ),
    path(
        "governance/members/<int:pk>/reactivate/",
        members.member_reactivate_view,
        name="member_reactivate",
    ),
    path("invite/<str:token>/", members.accept_invite_view, name="accept_invite"),
    path("governance/settings/", members.settings_view, name="settings"),
    path("me/", members.profile_view, name="profile"),
]
