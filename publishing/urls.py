"""Publishing pages. Each area keeps its routes in its own module; all share one namespace."""

from publishing.urls_calendar import urlpatterns as calendar_urls
from publishing.urls_posts import urlpatterns as posts_urls

app_name = "publishing"

urlpatterns = [*posts_urls, *calendar_urls]
