"""SCIM 2.0 (RFC 7643/7644) at ``/scim/v2/``, for the organization's identity provider.

Each request carries the organization's SCIM token (``Authorization: Bearer
gsscim_…``); it sees and changes only that organization's people and groups.
Payloads are validated, patched, filtered and written back with scim2-models;
every error, bad JSON included, is an RFC 7644 error object. The token is never
logged: it is read from the header, hashed and dropped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from pydantic import ValidationError as PydanticValidationError
from scim2_models import (
    Context,
    Error,
    InvalidSyntaxException,
    InvalidValueException,
    ListResponse,
    NotFoundException,
    NotImplementedException,
    PatchOp,
    ResourceType,
    ResponseParameters,
    Schema,
    SCIMException,
    SearchRequest,
    UnauthorizedException,
)

from governance.models import Organization, ScimToken
from governance.selectors import scim_resources as res
from governance.selectors.scim import (
    DEFAULT_COUNT,
    MAX_COUNT,
    SCIM_POLICY,
    filter_groups,
    filter_users,
    group_resource,
    provisioned_user_get,
    scim_group_get,
    scim_resource_types,
    scim_schemas,
    scim_service_provider_config,
    scim_token_authenticate,
    user_resource,
)
from governance.services import scim as services
from governance.services.audit import audit_source

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/scim+json"
LAST_USED_RESOLUTION = timedelta(minutes=1)
# The largest request body read (a group with thousands of members fits).
MAX_BODY_BYTES = 2 * 1024 * 1024

Handler = Callable[..., HttpResponse]


class MethodNotAllowed(SCIMException):
    status = 405
    _default_detail = "This endpoint does not take that method."


# ---------------------------------------------------------------------------
# Responses


def _json(payload: dict[str, Any], status: int = 200, **headers: str) -> JsonResponse:
    response = JsonResponse(payload, status=status, content_type=CONTENT_TYPE)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def scim_error(exception: SCIMException) -> JsonResponse:
    error: Error = exception.to_error()
    response = _json(
        error.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE), error.status or 400
    )
    if exception.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="GovSocial SCIM"'
    return response


def _from_validation_error(error: PydanticValidationError) -> SCIMException:
    """The first problem pydantic found, as the SCIM error its ``scim_type`` names."""
    details = error.errors(include_url=False, include_input=False)
    first: dict[str, Any] = dict(details[0]) if details else {}
    context = first.get("ctx") or {}
    location = ".".join(str(part) for part in first.get("loc", ()) if part != "__root__")
    message = first.get("msg", "Invalid value")
    detail = f"{location}: {message}" if location else message
    exception: SCIMException = InvalidValueException(detail=detail)
    scim_type = context.get("scim_type")
    if scim_type:
        exception.scim_type = str(scim_type)
        exception.status = int(context.get("status") or 400)
    return exception


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/scim/v2").rstrip("/")


def _body(request: HttpRequest) -> dict[str, Any]:
    if len(request.body) > MAX_BODY_BYTES:
        raise InvalidValueException(detail="The request body is too large.")
    try:
        payload = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        raise InvalidSyntaxException(detail="The request body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise InvalidSyntaxException(detail="The request body must be a JSON object.")
    if _holds_nul(payload):
        # PostgreSQL stores no NUL character, in text or in JSON.
        raise InvalidValueException(detail="Values cannot contain NUL characters.")
    return payload


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def _validate(model: Any, payload: dict[str, Any], context: Context) -> Any:
    try:
        return model.model_validate(payload, scim_ctx=context, scim_policy=SCIM_POLICY)
    except PydanticValidationError as error:
        raise _from_validation_error(error) from None


def _query(request: HttpRequest) -> dict[str, Any]:
    wanted = {}
    for key in ("filter", "attributes", "excludedAttributes", "startIndex", "count"):
        value = request.GET.get(key)
        if value is not None:
            wanted[key] = value
    return wanted


def _response_parameters(request: HttpRequest, model: Any) -> ResponseParameters[Any]:
    query = {k: v for k, v in _query(request).items() if k in ("attributes", "excludedAttributes")}
    return _validate(ResponseParameters[model], query, Context.SEARCH_REQUEST)


def _int(value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidValueException(detail="startIndex and count must be integers.") from None


def _list(
    request: HttpRequest,
    organization: Organization,
    model: Any,
    payload: dict[str, Any],
) -> JsonResponse:
    start = max(_int(payload.pop("startIndex", None), 1), 1)
    count = min(max(_int(payload.pop("count", None), DEFAULT_COUNT), 0), MAX_COUNT)
    payload.pop("sortBy", None)  # sorting is not offered (ServiceProviderConfig says so)
    payload.pop("sortOrder", None)
    search = _validate(SearchRequest[model], payload, Context.SEARCH_REQUEST)
    base = _base_url(request)
    finder = filter_users if model is res.User else filter_groups
    found = finder(organization, search.filter, base)
    page = found[start - 1 : start - 1 + count] if count else []
    response = ListResponse[model](
        total_results=len(found),
        start_index=start,
        items_per_page=len(page),
        resources=page,
    )
    return _json(response.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=search))


def _resource_response(
    request: HttpRequest, resource: Any, context: Context, status: int = 200, **headers: str
) -> JsonResponse:
    parameters = _response_parameters(request, type(resource))
    payload = resource.model_dump(scim_ctx=context, response_parameters=parameters)
    return _json(payload, status, **headers)


# ---------------------------------------------------------------------------
# Authentication and dispatch


def _token_from_header(request: HttpRequest) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _space, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return ""
    return value.strip()


def _authenticate(request: HttpRequest) -> Organization:
    token = scim_token_authenticate(_token_from_header(request))
    if token is None:
        raise UnauthorizedException(detail="Give the organization's SCIM token as a Bearer token.")
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ScimToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
    return token.organization


def _scim_view(handlers: dict[str, Handler], *, needs_token: bool = True) -> Handler:
    """A view answering each method with its handler, every failure as a SCIM error."""

    @csrf_exempt
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        try:
            handler = handlers.get(request.method or "")
            organization = _authenticate(request) if needs_token else None
            if handler is None:
                raise MethodNotAllowed()
            with audit_source("scim"):
                return handler(request, organization, **kwargs)
        except SCIMException as exception:
            return scim_error(exception)
        except IntegrityError:
            # A concurrent request took the same userName or group name first.
            return scim_error(services.scim_integrity_error())

    return view


# ---------------------------------------------------------------------------
# Discovery


def _service_provider_config(request: HttpRequest, organization: Organization) -> HttpResponse:
    documentation = settings.SITE_URL.rstrip("/") + "/governance/settings/scim/"
    config = scim_service_provider_config(_base_url(request), documentation)
    return _json(config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


def _listing(items: list[Any], model: Any) -> dict[str, Any]:
    response = ListResponse[model](
        total_results=len(items), start_index=1, items_per_page=len(items), resources=items
    )
    return response.model_dump(scim_ctx=Context.SEARCH_RESPONSE)


def _schemas(request: HttpRequest, organization: Organization, schema_id: str = "") -> HttpResponse:
    schemas = scim_schemas(_base_url(request))
    if not schema_id:
        return _json(_listing(schemas, Schema))
    for schema in schemas:
        if schema.id == schema_id:
            return _json(schema.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
    raise NotFoundException(detail=f"No schema {schema_id} here.")


def _resource_types(
    request: HttpRequest, organization: Organization, type_id: str = ""
) -> HttpResponse:
    types = scim_resource_types(_base_url(request))
    if not type_id:
        return _json(_listing(types, ResourceType))
    for resource_type in types:
        if resource_type.id == type_id:
            return _json(resource_type.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
    raise NotFoundException(detail=f"No resource type {type_id} here.")


# ---------------------------------------------------------------------------
# Users


def _users_list(request: HttpRequest, organization: Organization) -> HttpResponse:
    return _list(request, organization, res.User, _query(request))


def _users_search(request: HttpRequest, organization: Organization) -> HttpResponse:
    return _list(request, organization, res.User, _body(request))


def _users_create(request: HttpRequest, organization: Organization) -> HttpResponse:
    resource = _validate(res.User, _body(request), Context.RESOURCE_CREATION_REQUEST)
    created = services.scim_user_create(
        organization=organization, resource=resource, base_url=_base_url(request), request=request
    )
    location = created.meta.location if created.meta else ""
    return _resource_response(
        request, created, Context.RESOURCE_CREATION_RESPONSE, 201, Location=location or ""
    )


def _user_get(request: HttpRequest, organization: Organization, scim_id: str) -> HttpResponse:
    provisioned = provisioned_user_get(organization, scim_id)
    resource = user_resource(provisioned, _base_url(request))
    return _resource_response(request, resource, Context.RESOURCE_QUERY_RESPONSE)


def _user_put(request: HttpRequest, organization: Organization, scim_id: str) -> HttpResponse:
    provisioned = provisioned_user_get(organization, scim_id)
    resource = _validate(res.User, _body(request), Context.RESOURCE_REPLACEMENT_REQUEST)
    updated = services.scim_user_replace(
        provisioned=provisioned, resource=resource, base_url=_base_url(request), request=request
    )
    return _resource_response(request, updated, Context.RESOURCE_REPLACEMENT_RESPONSE)


def _user_patch(request: HttpRequest, organization: Organization, scim_id: str) -> HttpResponse:
    provisioned = provisioned_user_get(organization, scim_id)
    patch = _validate(PatchOp[res.User], _body(request), Context.RESOURCE_PATCH_REQUEST)
    updated = services.scim_user_patch(
        provisioned=provisioned, patch=patch, base_url=_base_url(request), request=request
    )
    return _resource_response(request, updated, Context.RESOURCE_PATCH_RESPONSE)


def _user_delete(request: HttpRequest, organization: Organization, scim_id: str) -> HttpResponse:
    provisioned = provisioned_user_get(organization, scim_id)
    services.scim_user_delete(provisioned=provisioned, request=request)
    return HttpResponse(status=204)


# ---------------------------------------------------------------------------
# Groups


def _groups_list(request: HttpRequest, organization: Organization) -> HttpResponse:
    return _list(request, organization, res.Group, _query(request))


def _groups_search(request: HttpRequest, organization: Organization) -> HttpResponse:
    return _list(request, organization, res.Group, _body(request))


def _groups_create(request: HttpRequest, organization: Organization) -> HttpResponse:
    resource = _validate(res.Group, _body(request), Context.RESOURCE_CREATION_REQUEST)
    created = services.scim_group_create(
        organization=organization, resource=resource, base_url=_base_url(request), request=request
    )
    location = created.meta.location if created.meta else ""
    return _resource_response(
        request, created, Context.RESOURCE_CREATION_RESPONSE, 201, Location=location or ""
    )


def _group_get(request: HttpRequest, organization: Organization, scim_id: str) -> HttpResponse:
    group = scim_group_get(organization, scim_id)
    return _resource_response(
        request, group_resource(group, _base_url(request)), Context.RESOURCE_QUERY_RESPONSE
    )


def _group_put(request: HttpRequest, organization: Organization, scim_id: str) -> HttpResponse:
    group = scim_group_get(organization, scim_id)
    resource = _validate(res.Group, _body(request), Context.RESOURCE_REPLACEMENT_REQUEST)
    updated = services.scim_group_replace(
        group=group, resource=resource, base_url=_base_url(request), request=request
    )
    return _resource_response(request, updated, Context.RESOURCE_REPLACEMENT_RESPONSE)


def _group_patch(request: HttpRequest, organization: Organization, scim_id: str) -> HttpResponse:
    group = scim_group_get(organization, scim_id)
    patch = _validate(PatchOp[res.Group], _body(request), Context.RESOURCE_PATCH_REQUEST)
    updated = services.scim_group_patch(
        group=group, patch=patch, base_url=_base_url(request), request=request
    )
    return _resource_response(request, updated, Context.RESOURCE_PATCH_RESPONSE)


def _group_delete(request: HttpRequest, organization: Organization, scim_id: str) -> HttpResponse:
    group = scim_group_get(organization, scim_id)
    services.scim_group_delete(group=group, request=request)
    return HttpResponse(status=204)


def _not_implemented(request: HttpRequest, organization: Organization) -> HttpResponse:
    raise NotImplementedException(
        detail="Searching several resource types at once is not offered: "
        "use /Users/.search or /Groups/.search."
    )


def _not_found(request: HttpRequest, organization: Organization, **kwargs: Any) -> HttpResponse:
    raise NotFoundException(detail="There is no such SCIM endpoint.")


_ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

service_provider_config_view = _scim_view({"GET": _service_provider_config})
schemas_view = _scim_view({"GET": _schemas})
resource_types_view = _scim_view({"GET": _resource_types})
users_view = _scim_view({"GET": _users_list, "POST": _users_create})
users_search_view = _scim_view({"POST": _users_search})
user_view = _scim_view(
    {"GET": _user_get, "PUT": _user_put, "PATCH": _user_patch, "DELETE": _user_delete}
)
groups_view = _scim_view({"GET": _groups_list, "POST": _groups_create})
groups_search_view = _scim_view({"POST": _groups_search})
group_view = _scim_view(
    {"GET": _group_get, "PUT": _group_put, "PATCH": _group_patch, "DELETE": _group_delete}
)
search_view = _scim_view({"POST": _not_implemented})
not_found_view = _scim_view(dict.fromkeys(_ALL_METHODS, _not_found))
