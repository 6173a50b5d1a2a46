from django.urls import path

from governance.views import auth

urlpatterns = [
    path("auth/login/", auth.login_view, name="login"),
    path("auth/logout/", auth.logout_view, name="logout"),
    path("auth/2fa/enrol/", auth.enrol_view, name="enrol"),
    path("auth/2fa/verify/", auth.verify_view, name="verify"),
    path("auth/2fa/backup-codes/", auth.backup_codes_view, name="backup_codes"),
]
