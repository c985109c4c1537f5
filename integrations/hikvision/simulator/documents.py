"""ISAPI documents both ways: answers in XML or JSON (``?format=json``), ResponseStatus errors, request bodies.

Handlers raise ``IsapiRequestError`` for anything a device refuses; the ``isapi_errors`` middleware turns it,
and aiohttp's own 404/405, into the ResponseStatus document a device sends, in the format the client asked for.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from xml.etree import ElementTree

from aiohttp import web

XMLNS = "http://www.hikvision.com/ver20/XMLSchema"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

STATUS_STRINGS = {
    1: "OK",
    2: "Device Busy",
    3: "Device Busy",  # REFERENCE §2b: firmware answers statusCode 3 when busy; clients retry on it
    4: "Invalid Operation",
    5: "Invalid XML Format",
    6: "Invalid Content",
    7: "Reboot Required",
}


class IsapiRequestError(Exception):
    """A request the device refuses: HTTP status, ISAPI statusCode, subStatusCode and a message naming the field."""

    def __init__(self, status_code: int, sub_status: str, message: str = "", *, http_status: int = 400) -> None:
        super().__init__(message or sub_status)
        self.status_code = status_code
        self.sub_status = sub_status
        self.message = message
        self.http_status = http_status


def bad_parameter(field: str, problem: str = "is missing or invalid") -> IsapiRequestError:
    return IsapiRequestError(6, "badParameters", f"{field} {problem}")


def wants_json(request: web.Request) -> bool:
    return request.query.get("format", "").lower() == "json"


# ---------------------------------------------------------------------------------------------- rendering


def xml_bytes(root: str, fields: Mapping[str, Any]) -> bytes:
    """``{"a": 1, "B": {"c": 2}, "d": [1, 2]}`` as ``<root><a>1</a><B><c>2</c></B><d>1</d><d>2</d></root>``."""
    element = ElementTree.Element(root, {"version": "2.0", "xmlns": XMLNS})
    _fill(element, fields)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(element, encoding="utf-8")


def _fill(parent: ElementTree.Element, fields: Mapping[str, Any]) -> None:
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            child = ElementTree.SubElement(parent, key)
            if isinstance(item, Mapping):
                _fill(child, item)
            elif isinstance(item, bool):
                child.text = "true" if item else "false"
            elif item is not None:
                child.text = str(item)


def document(request: web.Request, root: str, fields: Mapping[str, Any], *, status: int = 200) -> web.Response:
    """``{root: fields}`` as JSON when the client asked ``?format=json``, else as the XML element ``root``."""
    if wants_json(request):
        return json_response({root: fields}, status=status)
    return web.Response(status=status, body=xml_bytes(root, fields), content_type="application/xml", charset="UTF-8")


def json_response(payload: Mapping[str, Any], *, status: int = 200) -> web.Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return web.Response(status=status, body=body, content_type="application/json", charset="UTF-8")


def response_status(
    request: web.Request,
    *,
    status_code: int = 1,
    sub_status: str = "ok",
    message: str = "",
    http_status: int = 200,
    extra: Mapping[str, Any] | None = None,
) -> web.Response:
    """The ResponseStatus document every ISAPI write (and every refusal) answers with."""
    fields: dict[str, Any] = {
        "requestURL": request.path,
        "statusCode": status_code,
        "statusString": STATUS_STRINGS.get(status_code, "Device Error"),
        "subStatusCode": sub_status,
    }
    if status_code != 1:
        fields["errorCode"] = 0x60000000 + status_code * 0x100
        fields["errorMsg"] = message or sub_status
    fields.update(extra or {})
    if wants_json(request):  # JSON firmware answers the flat form, without a root object
        return json_response(fields, status=http_status)
    return web.Response(
        status=http_status, body=xml_bytes("ResponseStatus", fields), content_type="application/xml", charset="UTF-8"
    )


@web.middleware
async def isapi_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except IsapiRequestError as err:
        return response_status(
            request,
            status_code=err.status_code,
            sub_status=err.sub_status,
            message=err.message,
            http_status=err.http_status,
        )
    except web.HTTPNotFound:
        return response_status(request, status_code=4, sub_status="notSupport", message=request.path, http_status=404)
    except web.HTTPMethodNotAllowed:
        return response_status(
            request, status_code=4, sub_status="methodNotAllowed", message=request.method, http_status=405
        )


# ---------------------------------------------------------------------------------------------- requests


async def read_json(request: web.Request, root: str | None = None) -> dict[str, Any]:
    """The JSON body (or its ``root`` object); a body that is not a JSON object is refused naming the problem."""
    raw = await request.read()
    try:
        payload = json.loads(raw) if raw.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise IsapiRequestError(6, "badJsonFormat", "the body is not JSON") from None
    if not isinstance(payload, dict):
        raise IsapiRequestError(6, "badJsonContent", "the body is not a JSON object")
    if root is None:
        return payload
    inner = payload.get(root)
    if not isinstance(inner, dict):
        raise IsapiRequestError(6, "badJsonContent", f"{root} is missing or not an object")
    return inner


def parse_xml(raw: bytes) -> ElementTree.Element:
    try:
        return ElementTree.fromstring(raw)
    except ElementTree.ParseError:
        raise IsapiRequestError(5, "badXmlFormat", "the body is not well-formed XML") from None


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def xml_fields(element: ElementTree.Element) -> dict[str, str]:
    """The text of ``element``'s direct children by local name (namespaces ignored, as devices do)."""
    return {local_name(child.tag): (child.text or "").strip() for child in element}


def as_list(value: Any) -> list[Any]:
    """ISAPI accepts one object or a list of them in the same place."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def integer(payload: Mapping[str, Any], field: str, default: int | None = None, *, minimum: int = 0) -> int:
    value = payload.get(field, default)
    if isinstance(value, bool) or value is None:
        raise bad_parameter(field)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise bad_parameter(field, "is not a number") from None
    if number < minimum:
        raise bad_parameter(field, f"must be at least {minimum}")
    return number
