"""WS-Discovery (REFERENCE.md §4.1): find ONVIF cameras with a SOAP-over-UDP Probe.

Multicast to 239.255.255.250:3702 finds every camera on the LAN segment; a unicast Probe to one address asks a
single host (the subnet scan uses it). Each Probe goes out twice, typed ``dn:NetworkVideoTransmitter`` and
untyped, because some devices answer only one of them; replies come back by unicast to our port and are
merged per endpoint address (``urn:uuid:...``), the device's stable id.

    devices = await async_discover(timeout=3)                   # the LAN
    devices = await async_discover(address="192.168.1.64")      # one host
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from lxml import etree

from .const import WS_DISCOVERY_ADDRESS, WS_DISCOVERY_PORT

_LOGGER = logging.getLogger(__name__)

NS = {
    "soap": "http://www.w3.org/2003/05/soap-envelope",
    "wsa": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "d": "http://schemas.xmlsoap.org/ws/2005/04/discovery",
    "dn": "http://www.onvif.org/ver10/network/wsdl",
}
PROBE_ACTION = "http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe"
PROBE_MATCHES_ACTION = "http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches"
DISCOVERY_TO = "urn:schemas-xmlsoap-org:ws:2005:04:discovery"
SCOPE_PREFIX = "onvif://www.onvif.org/"
MULTICAST_TTL = 4
MAX_DATAGRAM = 65535

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@dataclass(frozen=True, slots=True)
class DiscoveredDevice:
    """One device that answered: its endpoint id, service addresses and what its scopes say about it."""

    endpoint: str
    xaddrs: tuple[str, ...]
    scopes: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    address: str = ""  # where the reply came from
    metadata_version: int | None = None

    def scope(self, kind: str) -> str | None:
        """The first ``onvif://www.onvif.org/<kind>/...`` scope's value, URL-decoded (``name``, ``hardware``)."""
        values = self.scope_values(kind)
        return values[0] if values else None

    def scope_values(self, kind: str) -> list[str]:
        prefix = f"{SCOPE_PREFIX}{kind}/"
        return [unquote(scope[len(prefix) :]) for scope in self.scopes if scope.startswith(prefix)]

    @property
    def name(self) -> str | None:
        return self.scope("name")

    @property
    def hardware(self) -> str | None:
        return self.scope("hardware")

    @property
    def location(self) -> str | None:
        return self.scope("location")

    @property
    def mac(self) -> str | None:
        return self.scope("MAC") or self.scope("mac")

    @property
    def host(self) -> str:
        """The host of the first service address (the reply's source when there is none)."""
        for xaddr in self.xaddrs:
            if (host := urlsplit(xaddr).hostname) is not None:
                return host
        return self.address

    @property
    def port(self) -> int:
        for xaddr in self.xaddrs:
            parts = urlsplit(xaddr)
            if parts.hostname is not None:
                try:
                    return parts.port or (443 if parts.scheme == "https" else 80)
                except ValueError:
                    continue
        return 80

    def as_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "xaddrs": list(self.xaddrs),
            "host": self.host,
            "port": self.port,
            "name": self.name,
            "hardware": self.hardware,
            "location": self.location,
            "mac": self.mac,
            "types": list(self.types),
            "scopes": list(self.scopes),
            "address": self.address,
        }


def probe_message(message_id: str, *, typed: bool = True) -> bytes:
    """A Probe for NetworkVideoTransmitters (``typed``) or for anything (an empty Types)."""
    types = "<d:Types>dn:NetworkVideoTransmitter</d:Types>" if typed else "<d:Types/>"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soap:Envelope xmlns:soap="{NS["soap"]}" xmlns:wsa="{NS["wsa"]}" xmlns:d="{NS["d"]}" xmlns:dn="{NS["dn"]}">'
        f"<soap:Header><wsa:MessageID>{message_id}</wsa:MessageID><wsa:To>{DISCOVERY_TO}</wsa:To>"
        f"<wsa:Action>{PROBE_ACTION}</wsa:Action></soap:Header>"
        f"<soap:Body><d:Probe>{types}</d:Probe></soap:Body></soap:Envelope>"
    ).encode()


def parse_probe_matches(payload: bytes, source: str = "") -> tuple[str | None, list[DiscoveredDevice]]:
    """``(RelatesTo, devices)`` of a ProbeMatches datagram; raises ValueError when it is not one."""
    try:
        root = etree.fromstring(payload, _PARSER)
    except etree.XMLSyntaxError as err:
        raise ValueError(f"not XML: {err}") from None
    matches = root.find("soap:Body/d:ProbeMatches", NS)
    if matches is None:
        raise ValueError("no ProbeMatches in the Body")
    relates_to = root.findtext("soap:Header/wsa:RelatesTo", namespaces=NS)
    devices = []
    for match in matches.findall("d:ProbeMatch", NS):
        endpoint = (match.findtext("wsa:EndpointReference/wsa:Address", namespaces=NS) or "").strip()
        xaddrs = tuple((match.findtext("d:XAddrs", namespaces=NS) or "").split())
        if not endpoint and not xaddrs:
            continue
        version = (match.findtext("d:MetadataVersion", namespaces=NS) or "").strip()
        devices.append(
            DiscoveredDevice(
                endpoint=endpoint or xaddrs[0],
                xaddrs=xaddrs,
                scopes=tuple((match.findtext("d:Scopes", namespaces=NS) or "").split()),
                types=tuple((match.findtext("d:Types", namespaces=NS) or "").split()),
                address=source,
                metadata_version=int(version) if version.isdigit() else None,
            )
        )
    return (relates_to.strip() if relates_to else None), devices


def _local_address_for(address: str | None) -> str:
    """Where to bind: loopback to probe a loopback address (nothing leaves the host), any interface otherwise."""
    try:
        if address is not None and ipaddress.ip_address(address).is_loopback:
            return "127.0.0.1"
    except ValueError:
        pass
    return "0.0.0.0"


@dataclass
class _Collector(asyncio.DatagramProtocol):
    """Keeps the replies to our own message ids, merged per endpoint; ignores anything else on the port."""

    message_ids: set[str]
    found: dict[str, DiscoveredDevice] = field(default_factory=dict)
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    _bad_senders: set[str] = field(default_factory=set)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        source = str(addr[0])
        try:
            relates_to, devices = parse_probe_matches(data, source)
        except ValueError as err:
            if source not in self._bad_senders:  # log a noisy neighbour once
                self._bad_senders.add(source)
                _LOGGER.debug("Ignoring a WS-Discovery datagram from %s: %s", source, err)
            return
        if relates_to is not None and relates_to not in self.message_ids:
            return
        for device in devices:
            known = self.found.get(device.endpoint)
            if known is not None:
                merged = tuple(dict.fromkeys(known.xaddrs + device.xaddrs))
                device = DiscoveredDevice(
                    known.endpoint, merged, known.scopes or device.scopes, known.types or device.types,
                    known.address, known.metadata_version,
                )  # fmt: skip
            self.found[device.endpoint] = device
        if devices:
            self.answered.set()

    def error_received(self, exc: Exception) -> None:
        _LOGGER.debug("WS-Discovery socket error: %s", exc)


async def async_discover(
    *,
    timeout: float = 3.0,
    address: str | None = None,
    port: int = WS_DISCOVERY_PORT,
    interface: str | None = None,
) -> list[DiscoveredDevice]:
    """Probe and collect ProbeMatches for ``timeout`` seconds, one entry per device endpoint.

    Without ``address`` the Probe is multicast (``interface``: the local IPv4 address to send it from on a
    multi-homed host); with one it is sent to that host only and the answer returns as soon as it arrives.
    """
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setblocking(False)
        sock.bind((interface or _local_address_for(address), 0))
        if address is None:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, MULTICAST_TTL)
            if interface:
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface))
    except OSError:
        sock.close()
        raise
    message_ids = {f"urn:uuid:{uuid.uuid4()}", f"urn:uuid:{uuid.uuid4()}"}
    transport, collector = await loop.create_datagram_endpoint(lambda: _Collector(message_ids), sock=sock)
    try:
        target = (address or WS_DISCOVERY_ADDRESS, port)
        for typed, message_id in zip((True, False), sorted(message_ids), strict=True):
            transport.sendto(probe_message(message_id, typed=typed), target)
        if address is None:
            await asyncio.sleep(timeout)
        else:
            try:
                async with asyncio.timeout(timeout):
                    await collector.answered.wait()
                await asyncio.sleep(min(0.05, timeout))  # the answer to the second Probe is usually right behind
            except TimeoutError:
                pass
    finally:
        transport.close()
    return sorted(collector.found.values(), key=lambda device: (device.host, device.endpoint))
