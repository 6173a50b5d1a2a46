from django.urls import path

from governance.views import handover

urlpatterns = [
    path("governance/handover/", handover.handover_list_view, name="handover_list"),
    path("governance/handover/open/", handover.handover_open_view, name="handover_open"),
    path("governance/handover/<int:pk>/", handover.handover_detail_view, name="handover_detail"),
    path(
        "governance/handover/<int:pk>/reassign/",
        handover.handover_reassign_view,
        name="handover_reassign",
    ),
    path(
        "governance/handover/<int:pk>/refresh/",
        handover.handover_refresh_view,
        name="handover_refresh",
    ),
    path(
        "governance/handover/<int:pk>/sign-off/",
        handover.handover_sign_off_view,
        name="handover_sign_off",
    ),
]
