"""What can go wrong talking to an ONVIF device, in the words a user can act on.

The client turns zeep faults, HTTP errors, socket errors and unparsable XML into these, so callers (the config
entry, the probe, the health check) branch on the kind of failure and never on a library's exception.
"""

from __future__ import annotations

from hub.exceptions import DeviceError


class OnvifError(DeviceError):
    """Base of the ONVIF integration's errors."""


class OnvifAuthError(OnvifError):
    """The device refused the credentials (a NotAuthorized fault or HTTP 401): do not retry in a loop."""


class OnvifConnectionError(OnvifError):
    """Nothing answered at that address, or the connection dropped or timed out."""


class OnvifResponseError(OnvifError):
    """Something answered, but not a usable ONVIF reply: broken XML, a non-SOAP page, an unexpected shape."""


class OnvifFaultError(OnvifError):
    """The device answered with a SOAP fault other than an authorization failure (ActionNotSupported...)."""

    def __init__(self, message: str, subcodes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.subcodes = subcodes

    @property
    def not_supported(self) -> bool:
        return any(code.endswith(("ActionNotSupported", "NotSupported")) for code in self.subcodes)
