"""Keep device credentials out of logs and API answers.

Camera and device URLs carry passwords, in the userinfo (``rtsp://admin:secret@10.0.0.5/...``) or in the query
(Foscam's ``?usr=admin&pwd=secret``); anything that logs or returns a URL passes it through ``redact_url`` first.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "***"
#: Query parameters whose value is a credential.
SECRET_QUERY_KEYS = frozenset({"pwd", "password", "passwd", "pass", "token", "key"})


def redact_url(url: str) -> str:
    """``url`` with its userinfo password and password-like query values replaced by ``***``.

    The user name stays: it helps debugging.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return REDACTED
    netloc, query = parts.netloc, parts.query
    if parts.password is not None:
        host = parts.hostname or ""
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        netloc = f"{parts.username or ''}:{REDACTED}@{host}" + (f":{port}" if port is not None else "")
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(key.lower() in SECRET_QUERY_KEYS for key, _ in pairs):
        query = urlencode(
            [(key, REDACTED if key.lower() in SECRET_QUERY_KEYS else value) for key, value in pairs], safe="*"
        )
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
