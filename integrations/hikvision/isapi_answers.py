"""What an ISAPI answer means: XML or JSON, a ResponseStatus (flat or wrapped), a ``userCheck`` lock report, or an
HTML page from a proxy or a crashed web server; each becomes a document or the right ``IsapiError``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .events import EventParseError, parse_xml
from .isapi_errors import IsapiAuthError, IsapiConnectionError, IsapiDeviceError, IsapiError
from .values import integer, text

_OK_STATUS_CODES = frozenset({0, 1, 7})  # OK, and "Reboot Required" (done, takes effect after a reboot)


@dataclass(slots=True)
class Reply:
    """A raw HTTP answer: status, Content-Type and body."""

    status: int
    content_type: str
    body: bytes


def looks_html(body: bytes) -> bool:
    head = body.lstrip()[:64].lower()
    return head.startswith((b"<!doctype html", b"<html"))


def _parse_body(body: bytes) -> tuple[str, dict[str, Any]] | None:
    """``(root, fields)`` of an XML or JSON body, None when it is neither (or HTML). JSON roots: the single key of a
    wrapped document, or ``""`` for a flat one."""
    data = body.strip()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data[:1] == b"{":
        try:
            document = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(document, dict):
            return None
        if len(document) == 1:
            key, inner = next(iter(document.items()))
            if isinstance(inner, dict):
                return key, inner
        return "", document
    if data[:1] == b"<" and not looks_html(data):
        try:
            return parse_xml(data)
        except EventParseError:
            return None
    return None


def _status_of(root: str, fields: dict[str, Any]) -> tuple[int, str, str] | None:
    """``(statusCode, subStatusCode, message)`` when the document is a ResponseStatus."""
    if root not in ("ResponseStatus", "") or "statusCode" not in fields:
        return None
    code = integer(fields.get("statusCode"))
    if code is None:
        return None
    sub = text(fields.get("subStatusCode")) or ""
    message = text(fields.get("errorMsg")) or text(fields.get("statusString")) or sub or "error"
    return code, sub, message


def json_document(path: str, reply: Reply) -> Any:
    data = reply.body.strip()
    if not data:
        return {}
    if looks_html(data):
        raise IsapiConnectionError(f"{path}: an HTML page instead of JSON", path=path, http_status=reply.status)
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        parsed = _parse_body(data)  # some firmware answers a JSON request in XML
        if parsed is None:
            raise IsapiConnectionError(f"{path}: unparsable answer", path=path, http_status=reply.status) from None
        root, fields = parsed
        _raise_for_status(path, reply.status, root, fields)
        return {root: fields}
    if isinstance(document, dict):
        if len(document) == 1 and isinstance(document.get("ResponseStatus"), dict):
            _raise_for_status(path, reply.status, "ResponseStatus", document["ResponseStatus"])
        else:
            _raise_for_status(path, reply.status, "", document)
    return document


def any_document(path: str, reply: Reply) -> dict[str, Any]:
    parsed = _parse_body(reply.body)
    if parsed is None:
        what = "an HTML page" if looks_html(reply.body) else "an unparsable answer"
        raise IsapiConnectionError(f"{path}: {what}", path=path, http_status=reply.status)
    root, fields = parsed
    _raise_for_status(path, reply.status, root, fields)
    return {root: fields} if root else fields


def _raise_for_status(path: str, http_status: int, root: str, fields: dict[str, Any]) -> None:
    status = _status_of(root, fields)
    if status is not None and status[0] not in _OK_STATUS_CODES:
        raise IsapiDeviceError(status[0], status[1], status[2], path, http_status=http_status)


def error_for(path: str, reply: Reply) -> IsapiError:
    """The error a non-2xx answer means."""
    parsed = _parse_body(reply.body)
    if (
        reply.status == 403
        and parsed is not None
        and (parsed[0] == "userCheck" or "lock" in json.dumps(parsed[1]).lower())
    ):
        return auth_error(path, 403, reply.body)
    if parsed is not None:
        status = _status_of(*parsed)
        if status is not None and "offline" in status[1].lower():
            # a gateway answering for a device that is not connected to it: the device is unreachable
            message = f"{path}: the device is offline ({status[2]})"
            return IsapiConnectionError(message, path=path, http_status=reply.status)
        if status is not None:
            return IsapiDeviceError(status[0], status[1], status[2], path, http_status=reply.status)
    if reply.status in (404, 405, 501):
        return IsapiDeviceError(4, "notSupport", f"HTTP {reply.status}", path, http_status=reply.status)
    what = "an HTML error page" if looks_html(reply.body) else "an unparsable answer"
    return IsapiConnectionError(f"{path}: HTTP {reply.status} with {what}", path=path, http_status=reply.status)


def auth_error(path: str, http_status: int, body: bytes) -> IsapiAuthError:
    """A refusal of the credentials; the ``userCheck`` body says whether the account is locked and how many
    attempts remain."""
    parsed = _parse_body(body)
    fields = parsed[1] if parsed is not None else {}
    lock_status = (text(fields.get("lockStatus")) or "").lower()
    sub = (text(fields.get("subStatusCode")) or "").lower()
    locked = lock_status == "lock" or (http_status == 403 and "lock" in sub and "unlock" not in sub)
    if http_status == 403 and not lock_status and not sub:
        locked = True
    attempts = integer(fields.get("retryLoginTime"))
    if locked:
        unlock = integer(fields.get("unlockTime"))
        detail = "the account is locked" + (f" for {unlock} s" if unlock else "")
    else:
        detail = "user name or password refused" + (f" ({attempts} attempts left)" if attempts is not None else "")
    return IsapiAuthError(
        f"{path}: {detail}", path=path, http_status=http_status, locked=locked, attempts_left=attempts
    )
