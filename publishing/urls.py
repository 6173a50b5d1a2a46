"""Publishing pages. Each area keeps its routes in its own module; all share one namespace."""

from django.urls import path
from django.views.generic import RedirectView

from publishing.urls_calendar import urlpatterns as calendar_urls
from publishing.urls_posts import urlpatterns as posts_urls

app_name = "publishing"

urlpatterns = [
    # /publishing/ itself is the list of posts (the README and people's bookmarks use it).
    path("", RedirectView.as_view(pattern_name="publishing:post_list"), name="index"),
    *posts_urls,
    *calendar_urls,
]
