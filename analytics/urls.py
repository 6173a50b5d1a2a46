from django.urls import path
from django.utils.translation import gettext_lazy as _

from govsocial.views import coming_soon

app_name = "analytics"

urlpatterns = [
    path(
        "",
        coming_soon,
        {
            "area": _("Analytics"),
            "description": _("dashboards, goals and reports built from the networks' metrics."),
        },
        name="index",
    ),
]
