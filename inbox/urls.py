from django.urls import path
from django.utils.translation import gettext_lazy as _

from govsocial.views import coming_soon

app_name = "inbox"

urlpatterns = [
    path(
        "",
        coming_soon,
        {
            "area": _("Inbox"),
            "description": _("replies, comments, mentions and messages from every account."),
        },
        name="index",
    ),
]
