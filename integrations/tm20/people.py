"""People are managed once per tenant and pushed to all of the tenant's terminals, or pulled from one.

A change becomes queued commands (``tm20_pending_commands``) for every terminal the tenant owns, then the
queue of each connected terminal is flushed at once; an offline terminal gets its queue when it next
registers, after the clock sync and the log drain. The queue is in the database, so a restart loses nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from hub.exceptions import ServiceValidationError

from .const import DOMAIN, MANUFACTURER
from .protocol import BACKUPNUM_EVERYTHING, is_numeric_credential
from .session import CommandFailed
from .store import Person, TerminalUser, new_person_id

if TYPE_CHECKING:
    from .manager import TerminalManager

_LOGGER = logging.getLogger(__name__)

PERSON_CHANGES = frozenset({"name", "admin", "enabled", "credentials"})


def _record_for_terminal(backupnum: int, record: str) -> int | str:
    """Passwords and cards go out as JSON numbers, templates and photos as strings."""
    if is_numeric_credential(backupnum):
        try:
            return int(record)
        except ValueError:
            return record
    return record


def person_commands(person: Person) -> list[tuple[str, dict[str, Any]]]:
    """What makes a terminal hold exactly this person: each credential, the name, enabled or not."""
    commands: list[tuple[str, dict[str, Any]]] = [
        (
            "setuserinfo",
            {
                "enrollid": person.enrollid,
                "name": person.name,
                "backupnum": backupnum,
                "admin": person.admin,
                "record": _record_for_terminal(backupnum, record),
            },
        )
        for backupnum, record in sorted(person.credentials.items())
    ]
    commands.append(("setusername", {"count": 1, "record": [{"enrollid": person.enrollid, "name": person.name}]}))
    commands.append(("enableuser", {"enrollid": person.enrollid, "enflag": 1 if person.enabled else 0}))
    return commands


def _credentials(items: Iterable[Mapping[str, Any]]) -> dict[int, str]:
    return {int(item["backupnum"]): str(item["record"]) for item in items}


class People:
    """The tenants' people in memory (loaded once), written through to the database."""

    def __init__(self, manager: TerminalManager) -> None:
        self.manager = manager
        self.store = manager.store
        self._by_id: dict[str, Person] = {}
        self._by_enrollid: dict[tuple[str, int], Person] = {}

    async def load(self) -> None:
        for person in await self.store.people():
            self._remember(person)

    # -------------------------------------------------------------------------------------------- queries

    def find(self, tenant_id: str | None, enrollid: int) -> Person | None:
        return self._by_enrollid.get((tenant_id, enrollid)) if tenant_id is not None else None

    def by_credential(self, tenant_id: str | None, backupnums: Iterable[int], record: str) -> Person | None:
        """The tenant's person holding this card / password / QR text (None when nobody or no tenant)."""
        if tenant_id is None:
            return None
        wanted = tuple(backupnums)
        for person in self._by_id.values():
            if person.tenant_id == tenant_id and any(person.credentials.get(num) == record for num in wanted):
                return person
        return None

    def of_tenant(self, tenant_id: str) -> list[Person]:
        return sorted((p for p in self._by_id.values() if p.tenant_id == tenant_id), key=lambda p: p.enrollid)

    def lookup(self, person_id: str | None, enrollid: int | None, tenant_id: str | None) -> Person | None:
        """By id or enrollid, within ``tenant_id`` when given (a tenant's call sees only its own people)."""
        person = self._by_id.get(person_id) if person_id else None
        if person is None and enrollid is not None and tenant_id is not None:
            person = self.find(tenant_id, enrollid)
        if person is not None and tenant_id is not None and person.tenant_id != tenant_id:
            return None
        return person

    async def get(self, person_id: str) -> dict[str, Any] | None:
        person = self._by_id.get(person_id)
        return person.as_dict() if person else None

    # ---------------------------------------------------------------------------------------------- edits

    async def create(
        self,
        tenant_id: str,
        *,
        enrollid: int,
        name: str,
        admin: int = 0,
        enabled: bool = True,
        credentials: Iterable[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        """Add a person and push them to every terminal of the tenant."""
        if (tenant_id, enrollid) in self._by_enrollid:
            raise ServiceValidationError(DOMAIN, "create_person", {"enrollid": f"{enrollid} is already used"})
        now = time.time()
        person = Person(new_person_id(), tenant_id, enrollid, name, admin, enabled, _credentials(credentials), now, now)
        await self.store.save_person(person)
        self._remember(person)
        await self.push(person)
        return person.as_dict()

    async def update(self, person_id: str, **changes: Any) -> dict[str, Any]:
        """Change name, admin, enabled or credential slots (given slots replace, others stay); push it."""
        person = self._by_id.get(person_id)
        if person is None:
            raise ServiceValidationError(DOMAIN, "update_person", {"person_id": f"{person_id} not found"})
        unknown = set(changes) - PERSON_CHANGES
        if unknown:
            raise ServiceValidationError(DOMAIN, "update_person", {key: "not a person field" for key in unknown})
        for key in ("name", "admin", "enabled"):
            if key in changes:
                setattr(person, key, changes[key])
        person.credentials.update(_credentials(changes.get("credentials") or ()))
        person.updated_at = time.time()
        await self.store.save_person(person)
        await self.push(person)
        return person.as_dict()

    async def delete(self, person_id: str) -> None:
        """Forget the person and delete them (every slot) from every terminal of the tenant."""
        person = self._by_id.pop(person_id, None)
        if person is None:
            return
        self._by_enrollid.pop((person.tenant_id, person.enrollid), None)
        await self.store.delete_person(person_id)
        await self._queue(person.tenant_id, [("deleteuser", {"enrollid": person.enrollid, "backupnum": 13})])

    async def push(self, person: Person) -> list[str]:
        """Queue the person for every terminal of the tenant and flush connected ones; returns the serials."""
        return await self._queue(person.tenant_id, person_commands(person))

    async def _queue(self, tenant_id: str, commands: list[tuple[str, dict[str, Any]]]) -> list[str]:
        serials = [
            device.serial_number
            for device in self.manager.hub.devices.all(tenant_id)
            if device.manufacturer == MANUFACTURER
        ]
        for sn in serials:
            for command, params in commands:
                await self.store.queue_command(sn, command, params)
            self.manager.schedule_flush(sn)
        return serials

    # ----------------------------------------------------------------------------------------- from terminals

    async def learn(
        self, tenant_id: str, enrollid: int, name: str | None, admin: int, records: dict[int, str]
    ) -> Person:
        """A user seen on a terminal joins the tenant's people (credentials merged), without a push back."""
        person = self.find(tenant_id, enrollid)
        now = time.time()
        if person is None:
            person = Person(new_person_id(), tenant_id, enrollid, name or str(enrollid), admin, True, {}, now, now)
        elif name:
            person.name = name
        person.admin = admin
        person.credentials.update(records)
        person.updated_at = now
        await self.store.save_person(person)
        self._remember(person)
        return person

    async def pull(self, sn: str) -> dict[str, Any]:
        """``getuserlist`` then ``getuserinfo`` for each slot, inside disabledevice/enabledevice; the users
        replace what we knew of the terminal and join its tenant's people (a held terminal: the list only)."""
        session = self.manager.require_session(sn)
        device = self.manager.hub.devices.get_by_serial(MANUFACTURER, sn)
        tenant_id = device.tenant_id if device else None
        now = time.time()
        users: dict[int, dict[str, Any]] = {}
        failed = 0
        async with session.device_disabled():
            for item in await session.paged("getuserlist"):
                enrollid, backupnum = item.get("enrollid"), item.get("backupnum")
                if not isinstance(enrollid, int) or not isinstance(backupnum, int):
                    continue
                user = users.setdefault(enrollid, {"admin": int(item.get("admin") or 0), "name": None, "records": {}})
                try:
                    info = await session.command("getuserinfo", enrollid=enrollid, backupnum=backupnum)
                except CommandFailed:
                    failed += 1
                    continue
                if info.get("name"):
                    user["name"] = str(info["name"])
                if info.get("record") is not None and backupnum != BACKUPNUM_EVERYTHING:
                    user["records"][backupnum] = str(info["record"])
        await self.store.replace_terminal_users(
            sn,
            [
                TerminalUser(sn, enrollid, user["name"], user["admin"], tuple(sorted(user["records"])), now)
                for enrollid, user in users.items()
            ],
        )
        if tenant_id is not None:
            for enrollid, user in users.items():
                await self.learn(tenant_id, enrollid, user["name"], user["admin"], user["records"])
        self.manager.users_counted(sn, len(users))
        _LOGGER.info("Pulled %d users from TM20 %s (%d slots unreadable)", len(users), sn, failed)
        return {"users": len(users), "credentials": sum(len(u["records"]) for u in users.values()), "failed": failed}

    def _remember(self, person: Person) -> None:
        self._by_id[person.id] = person
        self._by_enrollid[(person.tenant_id, person.enrollid)] = person
