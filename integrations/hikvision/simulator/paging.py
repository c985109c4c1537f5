"""ISAPI's paged searches as firmware runs them: a ``searchID`` names a result set, ``searchResultPosition`` moves
through it, ``maxResults`` is capped by the device, and ``responseStatusStrg`` says ``MORE``, ``OK`` or
``NO MATCH``.

A search at position 0 takes a snapshot of the matches; later pages of the same searchID read that snapshot, so
``totalMatches`` stays put while new records arrive (as on devices). A few recent snapshots are kept.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .documents import bad_parameter, integer

T = TypeVar("T")


class SearchPager:
    """Pages of one kind of record (users, cards, faces, access events)."""

    def __init__(self, cap: int = 30, keep: int = 16) -> None:
        self.cap = cap
        self.keep = keep
        self._snapshots: OrderedDict[str, list[Any]] = OrderedDict()

    def page(
        self, cond: Mapping[str, Any], matches: Callable[[], list[T]], *, require_id: bool = True
    ) -> tuple[list[T], dict[str, Any]]:
        """The records of this page and the paging fields of the answer."""
        search_id = cond.get("searchID")
        if require_id and (not isinstance(search_id, str) or not search_id):
            raise bad_parameter("searchID")
        key = str(search_id or "")
        position = integer(cond, "searchResultPosition", 0)
        wanted = integer(cond, "maxResults", self.cap, minimum=1)
        snapshot = self._snapshots.get(key) if position > 0 else None
        if snapshot is None:
            snapshot = matches()
            self._snapshots[key] = snapshot
            while len(self._snapshots) > self.keep:
                self._snapshots.popitem(last=False)
        self._snapshots.move_to_end(key)
        items = snapshot[position : position + min(wanted, self.cap)]
        if not items:
            status = "NO MATCH"
        elif position + len(items) < len(snapshot):
            status = "MORE"
        else:
            status = "OK"
        fields: dict[str, Any] = {
            "responseStatusStrg": status,
            "numOfMatches": len(items),
            "totalMatches": len(snapshot),
        }
        if search_id is not None:
            fields = {"searchID": key, **fields}
        return items, fields


def employee_filter(cond: Mapping[str, Any], list_field: str = "EmployeeNoList", key: str = "employeeNo") -> set[str]:
    """The ``[{"employeeNo": "1"}, ...]`` filter of a search condition, as a set (empty: no filter)."""
    entries = cond.get(list_field) or []
    if not isinstance(entries, list):
        raise bad_parameter(list_field, "is not a list")
    wanted: set[str] = set()
    for entry in entries:
        if not isinstance(entry, Mapping) or not entry.get(key):
            raise bad_parameter(f"{list_field}.{key}")
        wanted.add(str(entry[key]))
    return wanted
