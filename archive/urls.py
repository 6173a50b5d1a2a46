"""Pages of the complete record, in namespace ``archive`` (under /inbox/records/)."""

from django.urls import path

from archive import views

app_name = "archive"

urlpatterns = [
    # The records search, archived posts, exporting the matches.
    path("", views.records_search_page, name="records"),
    path("export/", views.records_search_export, name="records_export"),
    path("posts/<int:pk>/", views.archived_post, name="archived_post"),
    path("posts/<int:pk>/capture/", views.archived_post_capture, name="archived_post_capture"),
]
