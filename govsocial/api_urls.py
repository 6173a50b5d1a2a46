"""Every app's API endpoints under /api/v1/."""

from django.urls import include, path

urlpatterns = [
    path("", include("governance.api_urls")),
]
