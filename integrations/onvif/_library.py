"""onvif-zeep-async, imported without its side effect on logging.

Its ``onvif.client`` calls ``logging.basicConfig(level=INFO)`` at import time; imported before the hub
configures logging (``gatehouse`` loads integrations first), it would take over the root logger's handler and
level. We import it here, once, and take back what it added.
"""

from __future__ import annotations

import logging

_root = logging.getLogger()
_handlers, _level = list(_root.handlers), _root.level

from onvif import ONVIFCamera  # noqa: E402
from onvif.exceptions import ONVIFError  # noqa: E402
from onvif.util import extract_subcodes_as_strings  # noqa: E402

for _handler in [handler for handler in _root.handlers if handler not in _handlers]:
    _root.removeHandler(_handler)
_root.setLevel(_level)

__all__ = ["ONVIFCamera", "ONVIFError", "extract_subcodes_as_strings"]
