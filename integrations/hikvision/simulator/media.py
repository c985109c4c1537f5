"""Video as a device describes it: the streaming channel list, snapshots (real JPEGs drawn with Pillow), the RTSP
port in adminAccesses. An NVR refuses the direct picture path with statusCode 6 and serves the StreamingProxy
path, so clients must fall back the way they do with real recorders.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from aiohttp import web
from PIL import Image, ImageDraw

from .documents import IsapiRequestError, xml_bytes

if TYPE_CHECKING:
    from .device import IsapiDeviceSimulator

STREAMS = {1: ("main", 1920, 1080, 2500), 2: ("sub", 640, 360, 512)}  # stream number -> name, size, kbit/s


class Media:
    """Channels and pictures of one device."""

    def __init__(self, device: IsapiDeviceSimulator) -> None:
        self.device = device
        self._pictures: dict[tuple[int, int, int], bytes] = {}

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/ISAPI/Streaming/channels", self._channels)
        router.add_get("/ISAPI/Streaming/channels/{id:\\d+}", self._channel)
        router.add_get("/ISAPI/Streaming/channels/{id:\\d+}/picture", self._picture)
        router.add_get("/ISAPI/ContentMgmt/StreamingProxy/channels/{id:\\d+}/picture", self._proxy_picture)
        router.add_get("/ISAPI/Security/adminAccesses", self._admin_accesses)
        router.add_get("/ISAPI/Security/userCheck", self._user_check)

    def channel_ids(self) -> list[int]:
        return [channel * 100 + stream for channel in range(1, self.device.channels + 1) for stream in STREAMS]

    def _channel_fields(self, stream_id: int) -> dict[str, Any]:
        name, width, height, bitrate = STREAMS[stream_id % 100]
        channel = stream_id // 100
        return {
            "id": stream_id,
            "channelName": f"Camera {channel:02d}",
            "enabled": True,
            "Transport": {
                "maxPacketSize": 1000,
                "ControlProtocolList": {"ControlProtocol": [{"streamingTransport": "RTSP"}]},
            },
            "Video": {
                "enabled": True,
                "videoInputChannelID": channel,
                "videoCodecType": "H.264" if name == "main" else "H.265",
                "videoResolutionWidth": width,
                "videoResolutionHeight": height,
                "videoQualityControlType": "VBR",
                "vbrUpperCap": bitrate,
                "maxFrameRate": 2500,
            },
        }

    def _known(self, request: web.Request) -> int:
        stream_id = int(request.match_info["id"])
        if stream_id not in self.channel_ids():
            raise IsapiRequestError(4, "notSupport", f"channel {stream_id} does not exist", http_status=404)
        return stream_id

    async def _channels(self, request: web.Request) -> web.Response:
        channels = [self._channel_fields(stream_id) for stream_id in self.channel_ids()]
        return _xml("StreamingChannelList", {"StreamingChannel": channels})

    async def _channel(self, request: web.Request) -> web.Response:
        return _xml("StreamingChannel", self._channel_fields(self._known(request)))

    async def _picture(self, request: web.Request) -> web.Response:
        stream_id = self._known(request)
        if self.device.kind == "nvr":  # proxied channels: the recorder only answers on the StreamingProxy path
            raise IsapiRequestError(6, "notSupport", "use /ISAPI/ContentMgmt/StreamingProxy for proxied channels")
        return self._jpeg_response(request, stream_id)

    async def _proxy_picture(self, request: web.Request) -> web.Response:
        stream_id = self._known(request)
        if self.device.kind != "nvr":
            raise IsapiRequestError(4, "notSupport", "this device has no StreamingProxy", http_status=404)
        return self._jpeg_response(request, stream_id)

    def _jpeg_response(self, request: web.Request, stream_id: int) -> web.Response:
        _, width, height, _ = STREAMS[stream_id % 100]
        try:
            width = int(request.query.get("videoResolutionWidth", width))
            height = int(request.query.get("videoResolutionHeight", height))
        except ValueError:
            raise IsapiRequestError(6, "badParameters", "videoResolutionWidth/Height are not numbers") from None
        if not (16 <= width <= 3840 and 16 <= height <= 2160):
            raise IsapiRequestError(6, "badParameters", "videoResolutionWidth/Height out of range")
        return web.Response(body=self.jpeg(stream_id // 100, width, height), content_type="image/jpeg")

    def jpeg(self, channel: int, width: int = 640, height: int = 360) -> bytes:
        """A real JPEG of ``width`` x ``height`` naming the device and channel (made once, then reused)."""
        key = (channel, width, height)
        cached = self._pictures.get(key)
        if cached is None:
            image = Image.new("RGB", (width, height), (32, 64 + channel * 20 % 128, 96))
            draw = ImageDraw.Draw(image)
            draw.rectangle((width // 8, height // 4, width // 2, height * 3 // 4), fill=(200, 180, 60))
            draw.text((10, 10), f"{self.device.serial} channel {channel}", fill=(255, 255, 255))
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=80)
            cached = self._pictures[key] = buffer.getvalue()
        return cached

    async def _admin_accesses(self, request: web.Request) -> web.Response:
        protocols = [
            {"id": 1, "enabled": True, "protocol": "HTTP", "portNo": self.device.port},
            {"id": 2, "enabled": True, "protocol": "HTTPS", "portNo": 443},
            {"id": 3, "enabled": True, "protocol": "DEV_MANAGE", "portNo": 8000},
            {"id": 4, "enabled": True, "protocol": "RTSP", "portNo": self.device.rtsp_port},
        ]
        return _xml("AdminAccessProtocolList", {"AdminAccessProtocol": protocols})

    async def _user_check(self, request: web.Request) -> web.Response:
        fields = {"statusValue": 200, "statusString": "OK", "isDefaultPassword": False, "lockStatus": "unlock"}
        return _xml("userCheck", fields)


def _xml(root: str, fields: dict[str, Any]) -> web.Response:
    return web.Response(body=xml_bytes(root, fields), content_type="application/xml", charset="UTF-8")
