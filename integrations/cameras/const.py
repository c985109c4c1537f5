"""Names shared by the cameras integration's modules: the domain, entry data keys and the connection types."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "cameras"
INTEGRATION_NAME: Final = "Cameras"

CONF_NAME: Final = "name"
CONF_CONNECTION_TYPE: Final = "connection_type"
CONF_HOST: Final = "host"
CONF_PORT: Final = "port"
CONF_PATH: Final = "path"
CONF_USERNAME: Final = "username"
CONF_PASSWORD: Final = "password"
CONF_MANUFACTURER: Final = "manufacturer"
CONF_CHANNEL: Final = "channel"
CONF_STREAM: Final = "stream"
CONF_RTSP_TRANSPORT: Final = "rtsp_transport"
CONF_SNAPSHOT_URL: Final = "snapshot_url"
CONF_TLS: Final = "tls"
CONF_VERIFY_TLS: Final = "verify_tls"
#: Legacy and shorthand input: a whole URL, parsed into the fields above when the entry is validated.
CONF_RTSP_URL: Final = "rtsp_url"
CONF_URL: Final = "url"

# Connection types: how the hub reaches the camera's video.
TYPE_RTSP: Final = "rtsp"
TYPE_RTSPS: Final = "rtsps"
TYPE_RTMP: Final = "rtmp"
TYPE_HTTP_MJPEG: Final = "http_mjpeg"
TYPE_HTTP_SNAPSHOT: Final = "http_snapshot"
TYPE_HLS: Final = "hls"
TYPE_ONVIF: Final = "onvif"
TYPE_NVR_CHANNEL: Final = "nvr_channel"
TYPE_FILE: Final = "file"
TYPE_USB: Final = "usb"

CONNECTION_TYPES: Final = (
    TYPE_RTSP,
    TYPE_RTSPS,
    TYPE_RTMP,
    TYPE_HTTP_MJPEG,
    TYPE_HTTP_SNAPSHOT,
    TYPE_HLS,
    TYPE_ONVIF,
    TYPE_NVR_CHANNEL,
    TYPE_FILE,
    TYPE_USB,
)
#: Types that reach a host over the network (host required).
NETWORK_TYPES: Final = frozenset(CONNECTION_TYPES) - {TYPE_FILE, TYPE_USB}
#: Types whose video is RTSP, so ``rtsp_transport`` applies.
RTSP_TYPES: Final = frozenset({TYPE_RTSP, TYPE_RTSPS, TYPE_NVR_CHANNEL, TYPE_ONVIF})
HTTP_TYPES: Final = frozenset({TYPE_HTTP_MJPEG, TYPE_HTTP_SNAPSHOT, TYPE_HLS})

STREAM_MAIN: Final = "main"
STREAM_SUB: Final = "sub"
STREAMS: Final = (STREAM_MAIN, STREAM_SUB)
TRANSPORTS: Final = ("tcp", "udp")

DEFAULT_PORTS: Final = {
    TYPE_RTSP: 554,
    TYPE_RTSPS: 322,
    TYPE_RTMP: 1935,
    TYPE_HTTP_MJPEG: 80,
    TYPE_HTTP_SNAPSHOT: 80,
    TYPE_HLS: 80,
    TYPE_ONVIF: 80,
    TYPE_NVR_CHANNEL: 554,
}
DEFAULT_TLS_PORT: Final = 443
DEFAULT_USB_DEVICE: Final = "/dev/video0"

#: Seconds between two health checks of a camera, and the most one check may take.
HEALTH_INTERVAL: Final = 60.0
HEALTH_TIMEOUT: Final = 10.0
