"""Governance pages. Each area keeps its routes in its own module; all share one namespace."""

from governance.urls.audit import urlpatterns as audit_urls
from governance.urls.auth import urlpatterns as auth_urls
from governance.urls.handover import urlpatterns as handover_urls
from governance.urls.members import urlpatterns as members_urls
from governance.urls.overview import urlpatterns as overview_urls
from governance.urls.passkeys import urlpatterns as passkeys_urls
from governance.urls.records import urlpatterns as records_urls
from governance.urls.registry import urlpatterns as registry_urls
from governance.urls.scim import urlpatterns as scim_urls
from governance.urls.sso import urlpatterns as sso_urls
from governance.urls.tokens import urlpatterns as tokens_urls

app_name = "governance"

urlpatterns = [
    *auth_urls,
    *members_urls,
    *audit_urls,
    *tokens_urls,
    *overview_urls,
    *registry_urls,
    *handover_urls,
    *records_urls,
    *passkeys_urls,
    *sso_urls,
    *scim_urls,
]
