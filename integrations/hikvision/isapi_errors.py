"""The three ways an ISAPI call fails (all ``IsapiError``), told apart because the caller reacts differently.

``IsapiAuthError``: stop using this password (devices lock accounts). ``IsapiDeviceError``: the device understood
and refused (ResponseStatus); retrying the same request will not help. ``IsapiConnectionError``: the device was not
reachable or did not answer in ISAPI (network, timeout, an HTML error page): retry later with back-off.
"""

from __future__ import annotations

from hub.exceptions import DeviceError


class IsapiError(DeviceError):
    """Anything an ISAPI call can fail with; ``path`` is the ISAPI path, ``http_status`` the HTTP answer if any.

    A ``DeviceError``: a REST call that fails on the device answers 502 with this message."""

    def __init__(self, message: str, *, path: str = "", http_status: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.http_status = http_status


class IsapiAuthError(IsapiError):
    """The credentials were refused (401 after authenticating, or 403 because the account is locked).

    Do not retry with the same password: every attempt counts toward the device's lock-out."""

    def __init__(
        self,
        message: str,
        *,
        path: str = "",
        http_status: int | None = None,
        locked: bool = False,
        attempts_left: int | None = None,
    ) -> None:
        super().__init__(message, path=path, http_status=http_status)
        self.locked = locked
        self.attempts_left = attempts_left


class IsapiDeviceError(IsapiError):
    """The device answered with a ResponseStatus error (``statusCode`` 2-6, ``subStatusCode`` such as
    ``badParameters``, ``employeeNoAlreadyExist``, ``notSupport``)."""

    def __init__(
        self,
        status_code: int,
        sub_status_code: str,
        error_msg: str,
        path: str,
        *,
        http_status: int | None = None,
    ) -> None:
        super().__init__(
            f"{path}: device refused (statusCode {status_code}, {sub_status_code}): {error_msg}",
            path=path,
            http_status=http_status,
        )
        self.status_code = status_code
        self.sub_status_code = sub_status_code
        self.error_msg = error_msg


class IsapiConnectionError(IsapiError):
    """The device could not be reached or did not answer in ISAPI: retry later."""
