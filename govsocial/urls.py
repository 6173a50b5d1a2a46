from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from governance.api.errors import api_not_found
from governance.api.organization import ApiRedocView, ApiSwaggerView
from governance.urls.passkeys import ceremony_urlpatterns as passkey_ceremonies
from governance.urls.scim import api_urlpatterns as scim_api_urls
from govsocial import views
from publishing.views.links import short_link_view

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages without a <link rel="icon"> (PDFs, JSON).
    path("favicon.ico", views.favicon, name="favicon"),
    # Short links (publishing.middleware.ShortLinkMiddleware answers known codes first).
    path("l/<str:code>", short_link_view, name="short_link"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("governance.urls")),
    path("auth/passkeys/", include((passkey_ceremonies, "otp_webauthn"))),
    path("accounts/", include("accounts.urls")),
    path("publishing/", include("publishing.urls")),
    path("inbox/records/", include("archive.urls")),
    path("inbox/", include("inbox.urls")),
    path("analytics/", include("analytics.urls")),
    path("listening/", include("listening.urls")),
    path("api/v1/", include("govsocial.api_urls")),
    # SCIM 2.0 for the organization's identity provider (governance/api/scim.py).
    path("scim/v2/", include(scim_api_urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Redoc (the documentation) and Swagger UI (to try calls), adapted to the site's
    # CSP (see governance.api.organization).
    path("api/docs/", ApiRedocView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/swagger/", ApiSwaggerView.as_view(url_name="api-schema"), name="api-swagger"),
    path("api/redoc/", RedirectView.as_view(pattern_name="api-docs", permanent=True)),
    # Anything else under /api/ is a JSON 404, with DEBUG on or off. Keep it after every API route.
    re_path(r"^api/", api_not_found),
    path("django-admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "govsocial.views.not_found"
handler403 = "govsocial.views.forbidden"
handler500 = "govsocial.views.server_error"
