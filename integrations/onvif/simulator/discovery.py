"""The simulated device's WS-Discovery responder: answers Probes with a ProbeMatch, by unicast to the sender.

It listens on ``host:port`` (3702 on a real LAN) and, with ``multicast=True``, joins 239.255.255.250 on the
interface of ``host``. Tests use multicast only inside a private network namespace (``unshare -n``).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import uuid
from collections.abc import Callable
from typing import cast
from urllib.parse import quote

from lxml import etree

from ..const import WS_DISCOVERY_ADDRESS, WS_DISCOVERY_PORT
from ..discovery import NS, PROBE_MATCHES_ACTION, SCOPE_PREFIX
from .config import SimulatorConfig

_LOGGER = logging.getLogger(__name__)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_OUR_TYPES = ("NetworkVideoTransmitter", "Device")


def scopes(config: SimulatorConfig) -> list[str]:
    return [
        f"{SCOPE_PREFIX}type/video_encoder",
        f"{SCOPE_PREFIX}Profile/Streaming",
        f"{SCOPE_PREFIX}name/{quote(config.name)}",
        f"{SCOPE_PREFIX}hardware/{quote(config.model)}",
        f"{SCOPE_PREFIX}location/{quote(config.location)}",
        f"{SCOPE_PREFIX}MAC/{config.mac}",
    ]


def probe_matches(config: SimulatorConfig, xaddr: str, relates_to: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soap:Envelope xmlns:soap="{NS["soap"]}" xmlns:wsa="{NS["wsa"]}" xmlns:d="{NS["d"]}" '
        f'xmlns:dn="{NS["dn"]}" xmlns:tds="http://www.onvif.org/ver10/device/wsdl">'
        f"<soap:Header><wsa:MessageID>urn:uuid:{uuid.uuid4()}</wsa:MessageID>"
        f"<wsa:RelatesTo>{relates_to}</wsa:RelatesTo>"
        "<wsa:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To>"
        f"<wsa:Action>{PROBE_MATCHES_ACTION}</wsa:Action></soap:Header>"
        "<soap:Body><d:ProbeMatches><d:ProbeMatch>"
        f"<wsa:EndpointReference><wsa:Address>{config.endpoint}</wsa:Address></wsa:EndpointReference>"
        "<d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>"
        f"<d:Scopes>{' '.join(scopes(config))}</d:Scopes>"
        f"<d:XAddrs>{xaddr}</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion>"
        "</d:ProbeMatch></d:ProbeMatches></soap:Body></soap:Envelope>"
    ).encode()


def _wanted(probe: etree._Element) -> bool:
    """An empty Types asks for anything; otherwise one of the asked types must be ours."""
    text = probe.findtext("d:Types", default="", namespaces=NS)
    asked = [name.rpartition(":")[2] for name in text.split()]
    return not asked or any(name in _OUR_TYPES for name in asked)


class _Responder(asyncio.DatagramProtocol):
    def __init__(self, owner: DiscoveryResponder) -> None:
        self.owner = owner
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            root = etree.fromstring(data, _PARSER)
        except etree.XMLSyntaxError:
            return
        probe = root.find("soap:Body/d:Probe", NS)
        message_id = root.findtext("soap:Header/wsa:MessageID", default="", namespaces=NS).strip()
        if probe is None or not message_id or not _wanted(probe):
            return
        self.owner.probes += 1
        if self.transport is not None:
            self.transport.sendto(probe_matches(self.owner.config(), self.owner.xaddr(), message_id), addr)


class DiscoveryResponder:
    """Answers WS-Discovery Probes for one simulated device (``config`` and ``xaddr`` are read on each reply)."""

    def __init__(
        self,
        config: Callable[[], SimulatorConfig],
        xaddr: Callable[[], str],
        *,
        host: str = "127.0.0.1",
        port: int = WS_DISCOVERY_PORT,
        multicast: bool = False,
    ) -> None:
        self.config = config
        self.xaddr = xaddr
        self.host = host
        self.port = port
        self.multicast = multicast
        self.probes = 0
        self._transport: asyncio.DatagramTransport | None = None

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if self.multicast:
                sock.bind(("", self.port))  # multicast datagrams carry the group as destination
                group = struct.pack("4s4s", socket.inet_aton(WS_DISCOVERY_ADDRESS), socket.inet_aton(self.host))
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, group)
            else:
                sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Responder(self), sock=sock)
        self._transport = transport
        self.port = sock.getsockname()[1]

    async def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
