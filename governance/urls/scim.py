"""SCIM 2.0 for identity providers (mounted at /scim/v2/), and the admin's SCIM settings page.

SCIM paths carry no trailing slash (RFC 7644), though one is accepted.
"""

from django.urls import path, re_path

from governance.api import scim as api
from governance.views import scim as views

# Included by govsocial/urls.py under "scim/v2/" (outside the governance namespace).
api_urlpatterns = [
    re_path(r"^ServiceProviderConfig/?$", api.service_provider_config_view),
    re_path(r"^Schemas/?$", api.schemas_view),
    re_path(r"^Schemas/(?P<schema_id>[^/]+)/?$", api.schemas_view),
    re_path(r"^ResourceTypes/?$", api.resource_types_view),
    re_path(r"^ResourceTypes/(?P<type_id>[^/]+)/?$", api.resource_types_view),
    re_path(r"^Users/?$", api.users_view),
    re_path(r"^Users/\.search/?$", api.users_search_view),
    re_path(r"^Users/(?P<scim_id>[^/]+)/?$", api.user_view),
    re_path(r"^Groups/?$", api.groups_view),
    re_path(r"^Groups/\.search/?$", api.groups_search_view),
    re_path(r"^Groups/(?P<scim_id>[^/]+)/?$", api.group_view),
    re_path(r"^\.search/?$", api.search_view),
    re_path(r"^.*$", api.not_found_view),
]

urlpatterns = [
    path("governance/settings/scim/", views.scim_settings_view, name="scim_settings"),
    path("governance/settings/scim/token/", views.scim_token_view, name="scim_token"),
    path(
        "governance/settings/scim/token/revoke/",
        views.scim_token_revoke_view,
        name="scim_token_revoke",
    ),
]
