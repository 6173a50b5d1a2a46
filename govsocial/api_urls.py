"""Every app's API endpoints under /api/v1/."""

from django.urls import include, path

urlpatterns = [
    path("", include("governance.api.urls")),
    path("", include("accounts.api_urls")),
    path("", include("publishing.api_urls")),
    path("", include("inbox.api_urls")),
    path("", include("listening.api_urls")),
    path("", include("archive.api_urls")),
    path("", include("analytics.api_urls")),
]
