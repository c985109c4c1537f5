"""What an access-control event's major/minor pair means (REFERENCE §2b, the HCNetSDK ACS tables).

Data only: ISAPI reports decimal ``majorEventType``/``subEventType`` (AcsEvent: ``major``/``minor``); this table
says whether the pair is a grant, a denial, a door state, an alarm, a device exception or an operator action,
and by which credential. Anything not listed is ``other`` with its numbers as text, never an error.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

Kind = Literal["granted", "denied", "door", "alarm", "exception", "operation", "other"]

MAJOR_ALARM = 1
MAJOR_EXCEPTION = 2
MAJOR_OPERATION = 3
MAJOR_EVENT = 5


class AccessMeaning(NamedTuple):
    """``method`` is the credential presented (``face``, ``card``, ``card+password``...), None when none was."""

    kind: Kind
    method: str | None
    text: str


def _m(kind: Kind, method: str | None, text: str) -> AccessMeaning:
    return AccessMeaning(kind, method, text)


# (major, minor) -> meaning. Grants are the "passed" minors of major 5 (1-105, 153, 156, 181); denials are the
# failed / no-permission / expired / invalid / timeout ones.
_TABLE: dict[tuple[int, int], AccessMeaning] = {
    # major 1: alarms
    (1, 1024): _m("alarm", None, "alarm input short-circuited"),
    (1, 1025): _m("alarm", None, "alarm input broken"),
    (1, 1026): _m("alarm", None, "alarm input exception"),
    (1, 1027): _m("alarm", None, "alarm input resumed"),
    (1, 1028): _m("alarm", None, "device tampered"),
    (1, 1029): _m("alarm", None, "device tamper resumed"),
    (1, 1030): _m("alarm", None, "card reader tampered"),
    (1, 1031): _m("alarm", None, "card reader tamper resumed"),
    (1, 1032): _m("alarm", None, "case sensor alarm"),
    # major 2: device exceptions
    (2, 39): _m("exception", None, "network disconnected"),
    (2, 1024): _m("exception", None, "device powered on"),
    (2, 1025): _m("exception", None, "device powered off"),
    (2, 1026): _m("exception", None, "watchdog reset"),
    (2, 1027): _m("exception", None, "low battery"),
    (2, 1028): _m("exception", None, "battery resumed"),
    (2, 1031): _m("exception", None, "network resumed"),
    (2, 1033): _m("exception", None, "card reader offline"),
    (2, 1034): _m("exception", None, "card reader resumed"),
    # major 3: operations (remote commands, logins)
    (3, 112): _m("operation", "remote", "remote login"),
    (3, 113): _m("operation", "remote", "remote logout"),
    (3, 123): _m("operation", "remote", "remote reboot"),
    (3, 1024): _m("operation", "remote", "remote door open"),
    (3, 1025): _m("operation", "remote", "remote door close"),
    (3, 1026): _m("operation", "remote", "remote door always open"),
    (3, 1027): _m("operation", "remote", "remote door always closed"),
    (3, 1028): _m("operation", "remote", "remote time sync"),
    (3, 1029): _m("operation", "remote", "NTP time sync"),
    # major 5: access events
    (5, 1): _m("granted", "card", "valid card passed"),
    (5, 2): _m("granted", "card+password", "card and password passed"),
    (5, 3): _m("denied", "card+password", "card and password failed"),
    (5, 4): _m("denied", "card+password", "card and password timed out"),
    (5, 6): _m("denied", "card", "card has no permission"),
    (5, 7): _m("denied", "card", "card outside its valid period"),
    (5, 8): _m("denied", "card", "card expired"),
    (5, 9): _m("denied", "card", "invalid card"),
    (5, 10): _m("denied", None, "anti-passback failed"),
    (5, 11): _m("denied", None, "interlock: other door not closed"),
    (5, 16): _m("granted", "multi", "multi-factor verification passed"),
    (5, 21): _m("door", None, "lock opened"),
    (5, 22): _m("door", None, "lock closed"),
    (5, 23): _m("door", None, "exit button pressed"),
    (5, 24): _m("door", None, "exit button released"),
    (5, 25): _m("door", None, "door opened"),
    (5, 26): _m("door", None, "door closed"),
    (5, 27): _m("door", None, "door opened abnormally"),
    (5, 28): _m("door", None, "door held open too long"),
    (5, 29): _m("alarm", None, "alarm output on"),
    (5, 30): _m("alarm", None, "alarm output off"),
    (5, 37): _m("door", None, "doorbell ringing"),
    (5, 38): _m("granted", "fingerprint", "fingerprint matched"),
    (5, 39): _m("denied", "fingerprint", "fingerprint not matched"),
    (5, 40): _m("granted", "card+fingerprint", "card and fingerprint passed"),
    (5, 54): _m("granted", "face+fingerprint", "face and fingerprint passed"),
    (5, 57): _m("granted", "face+password", "face and password passed"),
    (5, 60): _m("granted", "face+card", "face and card passed"),
    (5, 75): _m("granted", "face", "face authentication passed"),
    (5, 76): _m("denied", "face", "face authentication failed"),
    (5, 77): _m("granted", "employee_no+face", "employee number and face passed"),
    (5, 80): _m("denied", "face", "face recognition failed"),
    (5, 101): _m("granted", "employee_no+password", "employee number and password passed"),
    (5, 104): _m("denied", "face", "liveness detection failed"),
    (5, 105): _m("granted", "id_card", "person matched the ID card"),
    (5, 150): _m("denied", "password", "password verification failed"),
    (5, 153): _m("granted", "multi", "combined authentication passed"),
    (5, 156): _m("granted", "qr", "QR code verification passed"),
    (5, 181): _m("granted", "password", "password verification passed"),
}

_MAJOR_KIND: dict[int, Kind] = {
    MAJOR_ALARM: "alarm",
    MAJOR_EXCEPTION: "exception",
    MAJOR_OPERATION: "operation",
}


def describe(major: int, minor: int) -> AccessMeaning:
    """The meaning of one major/minor pair; unknown pairs keep their major's kind (or ``other``) and their numbers."""
    meaning = _TABLE.get((major, minor))
    if meaning is not None:
        return meaning
    return AccessMeaning(_MAJOR_KIND.get(major, "other"), None, f"event {major}/{minor}")


def is_access(major: int, minor: int) -> bool:
    """True for a person presenting a credential (granted or denied): what becomes an ``access`` event."""
    return describe(major, minor).kind in ("granted", "denied")
