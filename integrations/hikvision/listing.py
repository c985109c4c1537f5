"""The gateway's devices as the hub reads them: from its deviceList, and from webhooks sent on its behalf.

A webhook carries either the gateway's own ``deviceStatus`` shape (``{"eventType": "deviceStatus", "Device":
{...}}``, the deviceList ``Device`` object) or a list (``{"devices": [...]}``) of such objects or of ours
(``dev_index``, ``online``, ``serial``). A body with no device asks for a full sync.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class WebhookError(Exception):
    """A webhook body the hub cannot use (400), with a short reason."""


@dataclass(slots=True)
class ListedDevice:
    """One device as the gateway lists it (or as a webhook describes it)."""

    dev_index: str
    name: str | None = None
    model: str | None = None
    dev_type: str | None = None
    protocol: str | None = None
    online: bool = False
    ehome_id: str | None = None
    serial: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "dev_index": self.dev_index,
            "name": self.name,
            "model": self.model,
            "dev_type": self.dev_type,
            "protocol": self.protocol,
            "online": self.online,
            "ehome_id": self.ehome_id,
            "serial": self.serial,
        }


def listed(item: Any) -> ListedDevice:
    """H1's GatewayDevice (or any object with its attributes) as a ListedDevice."""
    return ListedDevice(
        dev_index=str(item.dev_index),
        name=getattr(item, "name", None),
        model=getattr(item, "model", None),
        dev_type=getattr(item, "dev_type", None),
        protocol=getattr(item, "protocol", None),
        online=bool(getattr(item, "online", False)),
        ehome_id=getattr(item, "ehome_id", None),
        serial=getattr(item, "serial", None),
    )


def webhook_devices(payload: dict[str, Any]) -> list[ListedDevice]:
    """The devices a webhook describes: ``{"Device": {...}}`` (the gateway's deviceStatus) or ``{"devices": [..]}``,
    each in the deviceList's own shape (``devIndex``, ``devStatus``...) or in ours (``dev_index``, ``online``...)."""
    raw: list[Any] = []
    if isinstance(payload.get("Device"), dict):
        raw.append(payload["Device"])
    if isinstance(payload.get("devices"), list):
        raw.extend(payload["devices"])
    devices: list[ListedDevice] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise WebhookError(f"devices[{index}] must be an object")
        dev_index = item.get("devIndex") or item.get("dev_index")
        if not isinstance(dev_index, str) or not dev_index:
            raise WebhookError(f"devices[{index}].devIndex is required")
        status = item.get("devStatus", item.get("status"))
        online = item.get("online")
        if not isinstance(online, bool):
            online = str(status).lower() == "online"
        params = item.get("EhomeParams")
        ehome: dict[str, Any] = params if isinstance(params, dict) else {}
        devices.append(
            ListedDevice(
                dev_index=dev_index,
                name=_text(item.get("devName") or item.get("name")),
                model=_text(item.get("devMode") or item.get("model")),
                dev_type=_text(item.get("devType") or item.get("dev_type")),
                protocol=_text(item.get("protocolType") or item.get("protocol")),
                online=online,
                ehome_id=_text(ehome.get("EhomeID") or item.get("ehome_id")),
                serial=_text(item.get("serialNumber") or item.get("serial")),
            )
        )
    return devices


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None
