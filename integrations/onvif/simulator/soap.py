"""SOAP 1.2 for the simulated device: parse a request, check its WS-Security header, build replies and faults.

The device side of REFERENCE.md §4.2: a UsernameToken with PasswordDigest = Base64(SHA1(nonce + created +
password)), a ``Created`` within ``tolerance`` seconds of the device's own clock, and each nonce accepted once.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from collections import OrderedDict
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

NS = {
    "env": "http://www.w3.org/2003/05/soap-envelope",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tptz": "http://www.onvif.org/ver20/ptz/wsdl",
    "tev": "http://www.onvif.org/ver10/events/wsdl",
    "wsnt": "http://docs.oasis-open.org/wsn/b-2",
    "tt": "http://www.onvif.org/ver10/schema",
    "tns1": "http://www.onvif.org/ver10/topics",
    "ter": "http://www.onvif.org/ver10/error",
}
PASSWORD_DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
CONTENT_TYPE = "application/soap+xml"

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True)
_NAMESPACES = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NS.items())


class SoapFault(Exception):
    """A fault to answer with: ``code`` is ``Sender`` or ``Receiver``, ``subcode`` a ``ter:`` name."""

    def __init__(self, code: str, subcode: str, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.code = code
        self.subcode = subcode
        self.reason = reason
        self.status = status


def not_authorized() -> SoapFault:
    return SoapFault("Sender", "ter:NotAuthorized", "Sender not Authorized")


def action_not_supported(action: str) -> SoapFault:
    return SoapFault("Receiver", "ter:ActionNotSupported", f"Optional Action {action} Not Implemented", 500)


def invalid_args(reason: str) -> SoapFault:
    return SoapFault("Sender", "ter:InvalidArgVal", reason)


@dataclass(frozen=True, slots=True)
class SoapRequest:
    """A parsed request: the Body's first child is the operation, the Security header (if any) its credentials."""

    operation: str
    body: etree._Element
    security: etree._Element | None

    def text(self, path: str) -> str | None:
        """The text at an XPath below the operation element (``tt:`` / ``tptz:`` prefixes as in NS)."""
        found = self.body.find(path, NS)
        return None if found is None or found.text is None else found.text.strip()

    def attribute(self, path: str, name: str) -> str | None:
        found = self.body.find(path, NS)
        return None if found is None else found.get(name)


def parse_request(payload: bytes) -> SoapRequest:
    try:
        root = etree.fromstring(payload, _PARSER)
    except etree.XMLSyntaxError as err:
        raise SoapFault("Sender", "ter:WellFormed", f"request is not well-formed XML: {err}") from None
    body = root.find("env:Body", NS)
    if body is None or len(body) == 0:
        raise SoapFault("Sender", "ter:MissingAttr", "no SOAP 1.2 Body with an operation")
    operation = body[0]
    security = root.find("env:Header/wsse:Security", NS)
    return SoapRequest(etree.QName(operation).localname, operation, security)


class UsernameTokenChecker:
    """Checks WS-Security UsernameToken digests against one account, on the device's own clock."""

    def __init__(self, username: str, password: str, *, tolerance: float = 5.0, remember: int = 1000) -> None:
        self.username = username
        self.password = password
        self.tolerance = tolerance
        self._nonces: OrderedDict[str, None] = OrderedDict()
        self._remember = remember

    def check(self, security: etree._Element | None, device_now: dt.datetime) -> None:
        """Raise NotAuthorized unless the token is for our user, fresh on our clock, and digests our password."""
        token = None if security is None else security.find("wsse:UsernameToken", NS)
        if token is None:
            raise not_authorized()
        username = token.findtext("wsse:Username", default="", namespaces=NS).strip()
        password = token.find("wsse:Password", NS)
        nonce = token.findtext("wsse:Nonce", default="", namespaces=NS).strip()
        created = token.findtext("wsu:Created", default="", namespaces=NS).strip()
        if username != self.username or password is None:
            raise not_authorized()
        if password.get("Type", PASSWORD_DIGEST) != PASSWORD_DIGEST:
            if not hmac.compare_digest((password.text or "").strip(), self.password):
                raise not_authorized()
            return
        try:
            nonce_bytes = base64.b64decode(nonce, validate=True)
            created_at = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError:
            raise not_authorized() from None
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=dt.UTC)
        if abs((created_at - device_now).total_seconds()) > self.tolerance:
            raise not_authorized()
        expected = base64.b64encode(
            hashlib.sha1(nonce_bytes + created.encode() + self.password.encode()).digest()
        ).decode()
        if not hmac.compare_digest((password.text or "").strip(), expected):
            raise not_authorized()
        if nonce in self._nonces:  # a replayed request
            raise not_authorized()
        self._nonces[nonce] = None
        while len(self._nonces) > self._remember:
            self._nonces.popitem(last=False)


def envelope(body: str, *, action: str | None = None) -> bytes:
    """A SOAP 1.2 envelope around ``body`` (already XML), every namespace of NS declared once."""
    header = f"<env:Header><wsa:Action>{escape(action)}</wsa:Action></env:Header>" if action else "<env:Header/>"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope {_NAMESPACES}>{header}<env:Body>{body}</env:Body>'
        "</env:Envelope>"
    ).encode()


def fault_envelope(fault: SoapFault) -> bytes:
    return envelope(
        f"<env:Fault><env:Code><env:Value>env:{fault.code}</env:Value><env:Subcode><env:Value>{fault.subcode}"
        f'</env:Value></env:Subcode></env:Code><env:Reason><env:Text xml:lang="en">{escape(fault.reason)}'
        "</env:Text></env:Reason></env:Fault>"
    )


def element(tag: str, text: object = None, /, **attributes: object) -> str:
    """``element("tt:Width", 1280)`` -> ``<tt:Width>1280</tt:Width>``; text is escaped, None gives ``<tag/>``."""
    attrs = "".join(f" {name}={quoteattr(str(value))}" for name, value in attributes.items() if value is not None)
    if text is None:
        return f"<{tag}{attrs}/>"
    if isinstance(text, bool):
        text = "true" if text else "false"
    return f"<{tag}{attrs}>{escape(str(text))}</{tag}>"


def node(tag: str, *children: str, **attributes: object) -> str:
    """An element around children that are already XML: ``node("tt:Resolution", element("tt:Width", 1280))``."""
    attrs = "".join(f" {name}={quoteattr(str(value))}" for name, value in attributes.items() if value is not None)
    return f"<{tag}{attrs}>{''.join(children)}</{tag}>"


_DURATION = re.compile(
    r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>[\d.]+)S)?)?$"
)


def parse_termination(text: str | None, now: dt.datetime) -> dt.datetime:
    """An ``InitialTerminationTime`` / ``TerminationTime``: a duration (``PT600S``) from now, or an absolute time."""
    if not text:
        raise invalid_args("a termination time is required")
    text = text.strip()
    if text.startswith("P"):
        return now + dt.timedelta(seconds=parse_duration(text))
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid_args(f"invalid termination time {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def parse_duration(text: str) -> float:
    """``PT1M30S`` -> 90.0 (days, hours, minutes, seconds: what devices are sent)."""
    match = _DURATION.match(text.strip())
    if match is None or text.strip() in ("P", "PT"):
        raise invalid_args(f"invalid duration {text!r}")
    parts = {name: float(value) for name, value in match.groupdict().items() if value}
    return (
        parts.get("days", 0.0) * 86400
        + parts.get("hours", 0.0) * 3600
        + parts.get("minutes", 0.0) * 60
        + parts.get("seconds", 0.0)
    )


def xml_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
