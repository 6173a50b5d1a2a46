from django.urls import path
from django.utils.translation import gettext_lazy as _

from govsocial.views import coming_soon

app_name = "publishing"

urlpatterns = [
    path(
        "calendar/",
        coming_soon,
        {
            "area": _("Calendar"),
            "description": _("write posts, get them approved and schedule them on a calendar."),
        },
        name="calendar",
    ),
]
