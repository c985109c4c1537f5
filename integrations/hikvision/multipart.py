"""Incremental multipart parser for Hikvision's long-lived streams and pushed forms.

alertStream, subscribeDeviceMgmt and httpHosts pushes are ``multipart/mixed`` or ``multipart/form-data``, and
firmware bends the format: the declared boundary may already carry the leading ``--``, Content-Length is
sometimes missing or wrong, lines end in CRLF or LF, junk can precede the first boundary. This parser takes the
bytes as they arrive and returns each part as soon as it is complete: at once when it has a Content-Length (a
device writes the next boundary only with the next event, seconds later), at the next boundary otherwise. A part
over ``max_part_size`` is skipped with one log line and the stream goes on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum, auto

_LOGGER = logging.getLogger(__name__)

DEFAULT_MAX_PART_SIZE = 4 * 1024 * 1024
MAX_HEADER_SIZE = 16 * 1024
# Bytes without any boundary after which the reader says once that the boundary looks wrong.
JUNK_WARNING_SIZE = 8 * 1024
_DASH = 0x2D
_CR = 0x0D
_LF = 0x0A


@dataclass(slots=True)
class Part:
    """One part: header names lower-cased, the body without the CRLF that precedes the next boundary."""

    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def name(self) -> str | None:
        """The form field name from Content-Disposition (``event_log``, ``Picture``), if any."""
        return _disposition_param(self.headers.get("content-disposition", ""), "name")

    @property
    def filename(self) -> str | None:
        return _disposition_param(self.headers.get("content-disposition", ""), "filename")


class _State(Enum):
    SEEK = auto()  # looking for a boundary line (preamble, junk, or the gap after a part)
    HEADERS = auto()
    BODY_LENGTH = auto()  # Content-Length known
    BODY_SCAN = auto()  # body ends at the next boundary
    SKIP_LENGTH = auto()  # oversized part with a Content-Length: drop that many bytes
    SKIP_SCAN = auto()  # oversized part without one: drop until the next boundary


_NEED_MORE = -1


def boundary_from(content_type: str) -> str | None:
    """The boundary parameter of a multipart Content-Type, unquoted; None when there is none."""
    for param in content_type.split(";")[1:]:
        key, sep, value = param.partition("=")
        if sep and key.strip().lower() == "boundary":
            value = value.strip().strip('"').strip()
            return value or None
    return None


def _disposition_param(value: str, wanted: str) -> str | None:
    for param in value.split(";")[1:]:
        key, sep, raw = param.partition("=")
        if sep and key.strip().lower() == wanted:
            return raw.strip().strip('"')
    return None


def parse_headers(block: bytes) -> dict[str, str]:
    """``Name: value`` lines (CRLF or LF) into a dict with lower-case names; lines without a colon are ignored."""
    headers: dict[str, str] = {}
    for line in block.decode("latin-1").split("\n"):
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers


class MultipartReader:
    """Feed it bytes, get complete parts back. One reader per stream or per pushed body."""

    __slots__ = (
        "_body_start",
        "_buf",
        "_core",
        "_length",
        "_pending_headers",
        "_pos",
        "_scan_from",
        "_source",
        "_state",
        "_warned_junk",
        "closed",
        "junk_bytes",
        "max_part_size",
        "parts_seen",
        "skipped",
    )

    def __init__(self, boundary: str, *, max_part_size: int = DEFAULT_MAX_PART_SIZE, source: str = "") -> None:
        core = boundary.strip().strip('"').lstrip("-")
        if not core:
            raise ValueError("multipart boundary is empty")
        self._core = core.encode("latin-1")
        self.max_part_size = max_part_size
        self._source = source or "multipart stream"
        self._buf = bytearray()
        self._pos = 0  # start of what is not consumed yet
        self._state = _State.SEEK
        self._body_start = 0
        self._scan_from = 0
        self._length = 0
        self._pending_headers: dict[str, str] = {}
        self._warned_junk = False
        #: True once a closing boundary (``--boundary--``) was read.
        self.closed = False
        #: Parts dropped for size, and bytes thrown away outside any part.
        self.skipped = 0
        self.junk_bytes = 0
        self.parts_seen = 0

    @property
    def pending(self) -> bool:
        """True when a part was started but is not complete: at the end of a stream, it was truncated."""
        return self._state is not _State.SEEK and len(self._buf) > self._pos

    def feed(self, data: bytes) -> list[Part]:
        """Add bytes; returns the parts they completed, in order."""
        if data:
            self._buf += data
        return self._run(eof=False)

    def feed_eof(self) -> list[Part]:
        """The data ended: a final boundary not followed by a line end counts as complete."""
        return self._run(eof=True)

    # -- the state machine ------------------------------------------------------------------------------------------

    def _run(self, *, eof: bool) -> list[Part]:
        parts: list[Part] = []
        while self._step(parts, eof):
            pass
        self._compact()
        return parts

    def _step(self, parts: list[Part], eof: bool) -> bool:
        """Advance once; False when more data is needed."""
        state = self._state
        if state is _State.SEEK:
            return self._seek(eof)
        if state is _State.HEADERS:
            return self._headers()
        if state is _State.BODY_LENGTH:
            return self._body_length(parts, eof)
        if state is _State.BODY_SCAN:
            return self._body_scan(parts, eof)
        if state is _State.SKIP_LENGTH:
            available = len(self._buf) - self._pos
            take = min(available, self._length)
            self._pos += take
            self._length -= take
            if self._length:
                return False
            self._to_seek()
            return True
        return self._skip_scan(eof)

    def _to_seek(self) -> None:
        self._state = _State.SEEK
        self._scan_from = self._pos

    def _seek(self, eof: bool) -> bool:
        found = self._find_delimiter(self._pos, eof)
        if found is None:
            self._drop_junk()
            return False
        dash_start, line_end, closing = found
        if dash_start == _NEED_MORE:
            return False
        junk = self._buf[self._pos : dash_start].strip()
        if junk:
            self._note_junk(len(junk))
        self._after_delimiter(line_end, closing)
        return True

    def _after_delimiter(self, line_end: int, closing: bool) -> None:
        self._pos = line_end
        if closing:
            self.closed = True
            self._to_seek()
        else:
            self._state = _State.HEADERS

    def _drop_junk(self) -> None:
        """In SEEK nothing before the last few bytes can start a boundary any more: let it go."""
        keep_from = max(self._pos, len(self._buf) - len(self._core) - 8)
        dropped = self._buf[self._pos : keep_from]
        if dropped.strip():
            self._note_junk(len(dropped))
        self._pos = keep_from
        self._scan_from = keep_from

    def _note_junk(self, size: int) -> None:
        """Bytes outside any part: expected before the first part (some firmware writes a preamble), a sign of a
        part written with another boundary after it. Said once per reader, then only at debug level."""
        self.junk_bytes += size
        warn = not self._warned_junk and (self.parts_seen > 0 or self.junk_bytes >= JUNK_WARNING_SIZE)
        if warn:
            self._warned_junk = True
        _LOGGER.log(
            logging.WARNING if warn else logging.DEBUG,
            "%s: %d bytes outside any part skipped (a part with another boundary than %r?)",
            self._source,
            size,
            self._core.decode("latin-1"),
        )

    def _headers(self) -> bool:
        buf, pos = self._buf, self._pos
        if len(buf) - pos < 2:
            return False
        if buf[pos] == _LF:  # no headers at all
            block_end, body_start = pos, pos + 1
        elif buf[pos] == _CR and buf[pos + 1] == _LF:
            block_end, body_start = pos, pos + 2
        else:
            crlf = buf.find(b"\r\n\r\n", pos, pos + MAX_HEADER_SIZE)
            lf = buf.find(b"\n\n", pos, pos + MAX_HEADER_SIZE)
            if crlf >= 0 and (lf < 0 or crlf < lf):
                block_end, body_start = crlf, crlf + 4
            elif lf >= 0:
                block_end, body_start = lf, lf + 2
            else:
                if len(buf) - pos >= MAX_HEADER_SIZE:
                    self.skipped += 1
                    _LOGGER.warning("%s: part headers over %d bytes, part skipped", self._source, MAX_HEADER_SIZE)
                    self._to_seek()
                    return True
                return False
        headers = parse_headers(bytes(buf[pos:block_end]))
        self._pos = self._body_start = self._scan_from = body_start
        length = _content_length(headers)
        if length is not None and length > self.max_part_size:
            self._skip_oversized(length)
            self._length = length
            self._state = _State.SKIP_LENGTH
            return True
        self._pending_headers = headers
        if length is None:
            self._state = _State.BODY_SCAN
        else:
            self._length = length
            self._state = _State.BODY_LENGTH
        return True

    def _skip_oversized(self, size: int) -> None:
        self.skipped += 1
        _LOGGER.warning(
            "%s: part of %d bytes is over the %d byte limit, skipped", self._source, size, self.max_part_size
        )

    def _body_length(self, parts: list[Part], eof: bool) -> bool:
        end = self._body_start + self._length
        if len(self._buf) < end:
            return False  # at the end of the data this part is truncated: ``pending`` says so
        # A Content-Length longer than the body would swallow the next boundary: end the part at that boundary.
        found = self._find_delimiter(self._body_start, True, limit=end)
        if found is not None and found[0] != _NEED_MORE:
            dash_start, line_end, closing = found
            self._emit(parts, self._body_start, dash_start)
            self._after_delimiter(line_end, closing)
            return True
        self._emit(parts, self._body_start, end, trim=False)
        self._pos = end
        self._to_seek()
        return True

    def _body_scan(self, parts: list[Part], eof: bool) -> bool:
        found = self._find_delimiter(self._scan_from, eof, floor=self._body_start)
        if found is None or found[0] == _NEED_MORE:
            if found is None:
                self._scan_from = max(self._body_start, len(self._buf) - len(self._core) - 8)
            if len(self._buf) - self._body_start > self.max_part_size:
                self._skip_oversized(len(self._buf) - self._body_start)
                self._state = _State.SKIP_SCAN
                self._pos = self._scan_from = max(self._body_start, len(self._buf) - len(self._core) - 8)
                return True
            return False
        dash_start, line_end, closing = found
        self._emit(parts, self._body_start, dash_start)
        self._after_delimiter(line_end, closing)
        return True

    def _skip_scan(self, eof: bool) -> bool:
        found = self._find_delimiter(self._scan_from, eof)
        if found is None:
            self._pos = self._scan_from = max(self._pos, len(self._buf) - len(self._core) - 8)
            return False
        dash_start, line_end, closing = found
        if dash_start == _NEED_MORE:
            return False
        self._after_delimiter(line_end, closing)
        return True

    def _emit(self, parts: list[Part], start: int, end: int, *, trim: bool = True) -> None:
        buf = self._buf
        if trim and end > start and buf[end - 1] == _LF:
            end -= 1
            if end > start and buf[end - 1] == _CR:
                end -= 1
        self.parts_seen += 1
        parts.append(Part(self._pending_headers, bytes(buf[start:end])))

    def _find_delimiter(
        self, start: int, eof: bool, *, limit: int | None = None, floor: int | None = None
    ) -> tuple[int, int, bool] | None:
        """Find a boundary line at or after ``start``: ``(dash_start, after_line_end, closing)``, None when there is
        none, or ``(_NEED_MORE, 0, False)`` when a candidate needs more bytes to be sure.

        A boundary is two or more dashes, the boundary text, an optional ``--`` (closing), optional blanks and a line
        end. It need not start a line: some firmware omits the CRLF before it."""
        buf, core = self._buf, self._core
        size = len(buf)
        floor = start if floor is None else floor
        i = start
        while True:
            j = buf.find(core, i, size if limit is None else limit)
            if j < 0:
                return None
            k = j
            while k > floor and buf[k - 1] == _DASH:
                k -= 1
            if j - k < 2:
                i = j + 1
                continue
            e = j + len(core)
            if (e >= size or (buf[e] == _DASH and e + 1 >= size)) and not eof:
                return (_NEED_MORE, 0, False)
            closing = buf[e : e + 2] == b"--"
            if closing:
                e += 2
            while e < size and buf[e] in (0x20, 0x09):
                e += 1
            if e >= size:
                if eof:
                    return (k, e, closing)
                return (_NEED_MORE, 0, False)
            if buf[e] == _LF:
                return (k, e + 1, closing)
            if buf[e] == _CR:
                if e + 1 >= size and not eof:
                    return (_NEED_MORE, 0, False)
                return (k, e + 2 if e + 1 < size and buf[e + 1] == _LF else e + 1, closing)
            i = j + 1  # the boundary text inside a longer word: not a boundary

    def _compact(self) -> None:
        if self._pos:
            del self._buf[: self._pos]
            self._body_start = max(0, self._body_start - self._pos)
            self._scan_from = max(0, self._scan_from - self._pos)
            self._pos = 0


def _content_length(headers: dict[str, str]) -> int | None:
    value = headers.get("content-length")
    if value is None:
        return None
    value = value.strip()
    if not value.isdigit():
        return None
    return int(value)
