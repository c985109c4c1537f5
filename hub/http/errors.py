"""Every failure of an HTTP request answers in one JSON shape, so clients parse errors one way:

    {"error": {"code": "invalid_service_data", "message": "...", "fields": {"data.duration": "expected int"}}}

Errors users can cause (bad JSON, data failing a schema, an unknown service or entity, a claimed serial) map to
4xx with the fields at fault; anything else is a 500 that is logged once, with its traceback, on the server only.
Handlers (the core's and integrations') raise hub errors or ``ApiError``; they never build error responses.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from aiohttp import web
from aiohttp.typedefs import Handler

from hub.auth.errors import AuthConflict, InvalidCredentials, InvalidToken, InvalidUserInput, RateLimited
from hub.auth.scope import Forbidden, NotFound
from hub.config_entries import InvalidConfigEntry, UnknownIntegration
from hub.exceptions import (
    DeviceClaimConflict,
    DeviceError,
    HubError,
    InvalidEntityId,
    ServiceNotFound,
    ServiceValidationError,
    Unauthorized,
)
from hub.http import json_response
from hub.validation import invalid_fields

_LOGGER = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}

#: Sent with every 401, so clients know which scheme to use (RFC 6750).
WWW_AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="gatehouse"'}


class ApiError(HubError):
    """A failure a handler reports on purpose: HTTP status, a stable machine code, and the fields at fault."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})


def error_response(
    status: int,
    code: str,
    message: str,
    fields: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    if status == 401 and headers is None:
        headers = WWW_AUTHENTICATE
    return json_response({"error": {"code": code, "message": message, "fields": dict(fields or {})}}, status, headers)


def _from_hub_error(error: Exception) -> ApiError | None:
    """The API error a known exception stands for; None for a bug (answered 500)."""
    match error:
        case ApiError():
            return error
        case ServiceValidationError() | InvalidConfigEntry():
            code = "invalid_service_data" if isinstance(error, ServiceValidationError) else "invalid_config_entry"
            return ApiError(400, code, str(error), error.fields)
        case vol.Invalid():
            return ApiError(400, "invalid_data", f"invalid data: {error}", invalid_fields(error))
        case InvalidEntityId():
            return ApiError(400, "invalid_entity_id", str(error), {"entity_id": str(error)})
        case ServiceNotFound():
            return ApiError(404, "service_not_found", str(error))
        case UnknownIntegration():
            return ApiError(404, "integration_not_found", str(error) or "integration not found")
        case NotFound():
            return ApiError(404, f"{error.kind.lower().replace(' ', '_')}_not_found", str(error))
        case Forbidden():
            return ApiError(403, "forbidden", str(error) or "your role does not allow this")
        case InvalidCredentials() | InvalidToken():
            code = "invalid_credentials" if isinstance(error, InvalidCredentials) else "invalid_token"
            return ApiError(401, code, str(error), headers=WWW_AUTHENTICATE)
        case RateLimited():
            retry_after = str(max(1, round(error.retry_after)))
            return ApiError(429, "rate_limited", str(error), headers={"Retry-After": retry_after})
        case InvalidUserInput():
            return ApiError(400, "invalid_data", str(error), error.fields)
        case AuthConflict():
            return ApiError(409, "conflict", str(error))
        case Unauthorized():
            # Outside the caller's tenant a thing does not exist: answering 403 would confirm that it does.
            return ApiError(404, "not_found", "not found")
        case DeviceClaimConflict():
            return ApiError(409, "claim_conflict", str(error))
        case DeviceError():
            return ApiError(502, "device_error", str(error) or "the device did not do it")
    return None


def _from_http_exception(request: web.Request, error: web.HTTPException) -> web.Response:
    status = error.status
    default_text = f"{status}: {error.reason}"
    if error.text and error.text != default_text:
        message = error.text
    elif status == 404:
        message = f"no route for {request.path}"
    elif status == 405:
        message = f"method {request.method} not allowed on {request.path}"
    else:
        message = error.reason
    headers = WWW_AUTHENTICATE if status == 401 else None
    return error_response(status, _HTTP_CODES.get(status, "http_error"), message, headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn exceptions into JSON error responses; redirects and other non-error HTTP exceptions pass through."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return _from_http_exception(request, error)
    except Exception as error:
        api_error = _from_hub_error(error)
        if api_error is None:
            _LOGGER.exception("Error handling %s %s", request.method, request.path)
            return error_response(500, "internal_error", "internal server error; the hub's log has the details")
        return error_response(
            api_error.status, api_error.code, api_error.message, api_error.fields, api_error.headers or None
        )


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object (an empty body is ``{}``); ApiError 400 naming the problem otherwise."""
    if not request.can_read_body:
        return {}
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as error:
        reason = f"{error.msg} at line {error.lineno} column {error.colno}"
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {reason}", {"<root>": reason}) from None
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_json", "the body is not UTF-8 text", {"<root>": "not UTF-8"}) from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "the body must be a JSON object", {"<root>": "expected an object"})
    return body
