from django.urls import path
from django.utils.translation import gettext_lazy as _

from govsocial.views import coming_soon

app_name = "accounts"

urlpatterns = [
    path(
        "",
        coming_soon,
        {
            "area": _("Accounts"),
            "description": _("connect the organization's Bluesky, Mastodon and other accounts."),
        },
        name="list",
    ),
]
