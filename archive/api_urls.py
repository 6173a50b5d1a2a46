"""Records search endpoints under /api/v1/records/search/."""

from django.urls import path

from archive import api

urlpatterns = [
    path("records/search/", api.RecordSearchView.as_view(), name="api-records-search"),
    path(
        "records/search/export/",
        api.RecordSearchExportView.as_view(),
        name="api-records-search-export",
    ),
]
