"""SCIM 2.0 for identity providers (mounted at /scim/v2/), and the admin's SCIM settings page.

SCIM paths carry no trailing slash (RFC 7644), though one is accepted.
"""

from django.urls import path, re_path

from governance.lazy import lazy_view

# Imported on first use: scim2-models (pydantic) is heavy and few requests need it.
API = "governance.api.scim."
VIEWS = "governance.views.scim."

# Included by govsocial/urls.py under "scim/v2/" (outside the governance namespace).
api_urlpatterns = [
    re_path(r"^ServiceProviderConfig/?$", lazy_view(API + "service_provider_config_view")),
    re_path(r"^Schemas/?$", lazy_view(API + "schemas_view")),
    re_path(r"^Schemas/(?P<schema_id>[^/]+)/?$", lazy_view(API + "schemas_view")),
    re_path(r"^ResourceTypes/?$", lazy_view(API + "resource_types_view")),
    re_path(r"^ResourceTypes/(?P<type_id>[^/]+)/?$", lazy_view(API + "resource_types_view")),
    re_path(r"^Users/?$", lazy_view(API + "users_view")),
    re_path(r"^Users/\.search/?$", lazy_view(API + "users_search_view")),
    re_path(r"^Users/(?P<scim_id>[^/]+)/?$", lazy_view(API + "user_view")),
    re_path(r"^Groups/?$", lazy_view(API + "groups_view")),
    re_path(r"^Groups/\.search/?$", lazy_view(API + "groups_search_view")),
    re_path(r"^Groups/(?P<scim_id>[^/]+)/?$", lazy_view(API + "group_view")),
    re_path(r"^\.search/?$", lazy_view(API + "search_view")),
    re_path(r"^.*$", lazy_view(API + "not_found_view")),
]

urlpatterns = [
    path(
        "governance/settings/scim/", lazy_view(VIEWS + "scim_settings_view"), name="scim_settings"
    ),
    path(
        "governance/settings/scim/token/", lazy_view(VIEWS + "scim_token_view"), name="scim_token"
    ),
    path(
        "governance/settings/scim/token/revoke/",
        lazy_view(VIEWS + "scim_token_revoke_view"),
        name="scim_token_revoke",
    ),
]
