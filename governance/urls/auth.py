from django.urls import path

from governance.views import auth, password_reset

urlpatterns = [
    path("auth/login/", auth.login_view, name="login"),
    path("auth/logout/", auth.logout_view, name="logout"),
    path("auth/2fa/enrol/", auth.enrol_view, name="enrol"),
    path("auth/2fa/verify/", auth.verify_view, name="verify"),
    path("auth/2fa/backup-codes/", auth.backup_codes_view, name="backup_codes"),
    path(
        "auth/password/reset/",
        password_reset.PasswordResetRequestView.as_view(),
        name="password_reset",
    ),
    path(
        "auth/password/reset/sent/",
        password_reset.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "auth/password/reset/<uidb64>/<token>/",
        password_reset.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "auth/password/reset/done/",
        password_reset.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
