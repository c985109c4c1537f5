"""The kernel: the Hub and the three things it owns directly, the event bus, the states and the services.

Everything else (store, registries, plugins, health, HTTP) hangs off the Hub but lives in its own module.
The classes on the hot path (Event, State, Context, the dispatch loops) use ``__slots__`` and allocate as
little as possible per call: most of a state write's cost in Python is the small objects it leaves behind.
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypedDict, TypeVar

import voluptuous as vol

from hub.exceptions import InvalidEntityId, ServiceNotFound, ServiceValidationError
from hub.validation import invalid_fields

if TYPE_CHECKING:
    from hub.auth.manager import AuthManager
    from hub.automation.manager import AutomationManager
    from hub.config_entries import ConfigEntries
    from hub.device_registry import DeviceRegistry
    from hub.entity_registry import EntityRegistry
    from hub.health import HealthMonitor
    from hub.http.server import HttpServer
    from hub.notifications import NotificationManager
    from hub.plugins import PluginManager
    from hub.scheduler import Scheduler
    from hub.store.database import Database
    from hub.store.recorder import Recorder
    from hub.streams import StreamManager
    from hub.tenants import TenantRegistry

_LOGGER = logging.getLogger(__name__)

_DataT = TypeVar("_DataT", bound=Mapping[str, Any])
_T = TypeVar("_T")

MATCH_ALL = "*"
MAX_STATE_LENGTH = 255


class EventType(str, Generic[_DataT]):
    """An event type name that also tells type checkers what the event's ``data`` holds."""

    __slots__ = ()


class StateChangedData(TypedDict):
    entity_id: str
    old_state: State | None
    new_state: State | None


class ServiceCallData(TypedDict):
    domain: str
    service: str
    data: Mapping[str, Any]


EVENT_STATE_CHANGED: EventType[StateChangedData] = EventType("state_changed")
EVENT_CALL_SERVICE: EventType[ServiceCallData] = EventType("call_service")
EVENT_HUB_STARTED: EventType[Mapping[str, Any]] = EventType("hub_started")
EVENT_HUB_STOP: EventType[Mapping[str, Any]] = EventType("hub_stop")

_ENTITY_ID = re.compile(r"^(?!.+__)(?!_)[\da-z_]+(?<!_)\.(?!_)[\da-z_]+(?<!_)$")


def valid_entity_id(entity_id: str) -> bool:
    """``domain.object_id``: lower-case letters, digits and single inner underscores on both sides."""
    return _ENTITY_ID.match(entity_id) is not None


def split_entity_id(entity_id: str) -> tuple[str, str]:
    domain, _, object_id = entity_id.partition(".")
    return domain, object_id


async def await_maybe(result: Awaitable[_T] | _T) -> _T:
    """A callback may return a value or an awaitable (Datasette's ``await_me_maybe``): the value either way."""
    if inspect.isawaitable(result):
        return await result
    return result


# --------------------------------------------------------------------------------------------------- context


class Context:
    """Who caused something: the user, their tenant, and the context of the event that led to it.

    The id is made only when somebody reads it, so the many writes nobody traces never pay for one.
    """

    __slots__ = ("_id", "parent_id", "tenant_id", "user_id")

    def __init__(
        self,
        user_id: str | None = None,
        tenant_id: str | None = None,
        parent_id: str | None = None,
        id: str | None = None,
    ) -> None:
        self._id = id
        self.user_id = user_id
        self.tenant_id = tenant_id
        self.parent_id = parent_id

    @property
    def id(self) -> str:
        if self._id is None:
            # Sortable like a ULID: milliseconds first, then randomness.
            self._id = f"{time.time_ns() // 1_000_000:012x}{os.urandom(8).hex()}"
        return self._id

    def as_dict(self) -> dict[str, str | None]:
        return {"id": self.id, "user_id": self.user_id, "tenant_id": self.tenant_id, "parent_id": self.parent_id}

    def __repr__(self) -> str:
        return f"<Context {self.id} user={self.user_id} tenant={self.tenant_id}>"


# ---------------------------------------------------------------------------------------------------- events


class Event(Generic[_DataT]):
    """Something that happened, with its payload, when, who caused it, and which tenant may see it."""

    __slots__ = ("context", "data", "event_type", "tenant_id", "time_fired")

    def __init__(
        self,
        event_type: str,
        data: _DataT,
        time_fired: float,
        context: Context | None = None,
        tenant_id: str | None = None,
    ) -> None:
        self.event_type = event_type
        self.data = data
        self.time_fired = time_fired
        self.context = context
        self.tenant_id = tenant_id

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_type": self.event_type,
            "data": dict(self.data),
            "time_fired": self.time_fired,
            "context": self.context.as_dict() if self.context else None,
            "tenant_id": self.tenant_id,
        }

    def __repr__(self) -> str:
        return f"<Event {self.event_type} {dict(self.data)!r}>"


EventCallback = Callable[[Event[Any]], Awaitable[None] | None]
EventFilter = Callable[[Event[Any]], bool]
# A listener as the dispatch loop wants it: callback, is it a coroutine function, optional filter.
_Listener = tuple[EventCallback, bool, EventFilter | None]

_EMPTY: Mapping[str, Any] = {}


class EventBus:
    """Fires events to listeners of one type or of all types.

    Plain callbacks run inline, in the order they subscribed; coroutine functions run as tasks the hub tracks.
    Listener tuples are copied on subscribe and unsubscribe, so a listener may unsubscribe while dispatching.
    A listener that raises is logged and the others still run.
    """

    __slots__ = ("_hub", "_listeners", "_match_all")

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._listeners: dict[str, tuple[_Listener, ...]] = {}
        self._match_all: tuple[_Listener, ...] = ()

    def listen(
        self,
        event_type: str,
        callback: EventCallback,
        event_filter: EventFilter | None = None,
    ) -> Callable[[], None]:
        """Call ``callback`` for each event of ``event_type`` (``MATCH_ALL`` for every event); returns unsubscribe."""
        listener: _Listener = (callback, asyncio.iscoroutinefunction(callback), event_filter)
        if event_type == MATCH_ALL:
            self._match_all = (*self._match_all, listener)
        else:
            self._listeners[event_type] = (*self._listeners.get(event_type, ()), listener)

        def unsubscribe() -> None:
            self._remove(event_type, listener)

        return unsubscribe

    def listen_once(self, event_type: str, callback: EventCallback) -> Callable[[], None]:
        """Like ``listen``, for the next matching event only."""
        fired = False

        def once(event: Event[Any]) -> None:
            nonlocal fired
            if fired:
                return
            fired = True
            unsubscribe()
            result = callback(event)
            if asyncio.iscoroutine(result):
                self._hub.create_task(result, f"listen_once {event_type}")

        unsubscribe = self.listen(event_type, once)
        return unsubscribe

    def _remove(self, event_type: str, listener: _Listener) -> None:
        if event_type == MATCH_ALL:
            self._match_all = tuple(item for item in self._match_all if item is not listener)
            return
        remaining = tuple(item for item in self._listeners.get(event_type, ()) if item is not listener)
        if remaining:
            self._listeners[event_type] = remaining
        else:
            self._listeners.pop(event_type, None)

    def has_listeners(self, event_type: str) -> bool:
        return bool(self._match_all) or event_type in self._listeners

    def listener_counts(self) -> dict[str, int]:
        counts = {event_type: len(listeners) for event_type, listeners in self._listeners.items()}
        if self._match_all:
            counts[MATCH_ALL] = len(self._match_all)
        return counts

    def fire(
        self,
        event_type: str,
        data: Mapping[str, Any] | None = None,
        *,
        context: Context | None = None,
        tenant_id: str | None = None,
    ) -> None:
        """Fire an event; builds it only when somebody listens. Must run on the event loop."""
        listeners = self._listeners.get(event_type)
        if listeners is None and not self._match_all:
            return
        self.dispatch(Event(event_type, data or _EMPTY, time.time(), context, tenant_id), listeners)

    def fire_threadsafe(self, event_type: str, data: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        """Fire from another thread (a decoder, an executor job)."""
        self._hub.loop.call_soon_threadsafe(lambda: self.fire(event_type, data, **kwargs))

    def dispatch(self, event: Event[Any], listeners: tuple[_Listener, ...] | None) -> None:
        if listeners:
            self._call(event, listeners)
        if self._match_all:
            self._call(event, self._match_all)

    def _call(self, event: Event[Any], listeners: tuple[_Listener, ...]) -> None:
        for callback, is_coroutine, event_filter in listeners:
            if event_filter is not None and not event_filter(event):
                continue
            if is_coroutine:
                self._hub.create_task(callback(event), f"listener {event.event_type}")  # type: ignore[arg-type]
                continue
            try:
                callback(event)
            except Exception:
                _LOGGER.exception("Listener %r failed on event %s", callback, event.event_type)


# ---------------------------------------------------------------------------------------------------- states


class ReadOnlyDict(dict[str, Any]):
    """A dict that refuses changes: state attributes are shared by every reader of a State."""

    __slots__ = ()

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("state attributes are read-only; write a new state instead")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _read_only


_NO_ATTRIBUTES = ReadOnlyDict()


class _StateFields(NamedTuple):
    entity_id: str
    state: str
    attributes: Mapping[str, Any]
    last_changed: float
    last_updated: float
    context: Context | None
    tenant_id: str | None


class State(_StateFields):
    """The immutable state of one entity at one time.

    A tuple underneath: immutable by construction, small in memory, cheap to build. ``last_changed`` moves
    when the state string changes, ``last_updated`` when the state or any attribute does (epoch seconds).
    """

    __slots__ = ()

    @property
    def domain(self) -> str:
        return self.entity_id.partition(".")[0]

    @property
    def object_id(self) -> str:
        return self.entity_id.partition(".")[2]

    @property
    def name(self) -> str:
        name = self.attributes.get("friendly_name")
        return str(name) if name else self.object_id.replace("_", " ")

    def as_dict(self) -> dict[str, Any]:
        return {
            "entity_id": self.entity_id,
            "state": self.state,
            "attributes": dict(self.attributes),
            "last_changed": self.last_changed,
            "last_updated": self.last_updated,
            "context": self.context.as_dict() if self.context else None,
            "tenant_id": self.tenant_id,
        }


class StateMachine:
    """Holds the current State of every entity and fires ``state_changed`` on each real change."""

    __slots__ = ("_bus", "_by_domain", "_by_tenant", "_states")

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._states: dict[str, State] = {}
        self._by_domain: dict[str, set[str]] = {}
        self._by_tenant: dict[str | None, set[str]] = {}

    def __len__(self) -> int:
        return len(self._states)

    def __contains__(self, entity_id: str) -> bool:
        return entity_id in self._states

    def get(self, entity_id: str) -> State | None:
        return self._states.get(entity_id)

    def entity_ids(self, domain: str | None = None) -> list[str]:
        if domain is None:
            return list(self._states)
        return sorted(self._by_domain.get(domain, ()))

    def all(self, domain: str | None = None, tenant_id: str | None = None) -> list[State]:
        """Every state, or those of one domain, or those one tenant owns (``tenant_id``), or both."""
        states = self._states
        if tenant_id is not None:
            ids: Iterable[str] = self._by_tenant.get(tenant_id, ())
            if domain is not None:
                ids = set(ids).intersection(self._by_domain.get(domain, ()))
        elif domain is not None:
            ids = self._by_domain.get(domain, ())
        else:
            return list(states.values())
        return [states[entity_id] for entity_id in ids]

    def set(
        self,
        entity_id: str,
        new_state: str,
        attributes: Mapping[str, Any] | None = None,
        *,
        force_update: bool = False,
        context: Context | None = None,
        tenant_id: str | None = None,
    ) -> State:
        """Write a state. No event when state and attributes are unchanged (unless ``force_update``).

        ``tenant_id`` None keeps the current owner; a new entity id must be valid or InvalidEntityId is raised.
        """
        if type(new_state) is not str:
            new_state = str(new_state)
        if len(new_state) > MAX_STATE_LENGTH:
            raise ValueError(f"state of {entity_id} is longer than {MAX_STATE_LENGTH} characters")
        old = self._states.get(entity_id)
        now = time.time()
        if old is None:
            if not valid_entity_id(entity_id):
                raise InvalidEntityId(entity_id)
            last_changed = now
        else:
            same_state = old.state == new_state
            if tenant_id is None:
                tenant_id = old.tenant_id
            elif tenant_id != old.tenant_id:
                self._unindex_tenant(entity_id, old.tenant_id)
                self._by_tenant.setdefault(tenant_id, set()).add(entity_id)
                force_update = True
            if same_state and not force_update and old.attributes == (attributes or _NO_ATTRIBUTES):
                return old
            last_changed = old.last_changed if same_state else now
        state = State(
            entity_id,
            new_state,
            ReadOnlyDict(attributes) if attributes else _NO_ATTRIBUTES,
            last_changed,
            now,
            context,
            tenant_id,
        )
        self._states[entity_id] = state
        if old is None:
            self._by_domain.setdefault(entity_id.partition(".")[0], set()).add(entity_id)
            self._by_tenant.setdefault(tenant_id, set()).add(entity_id)
        bus = self._bus
        listeners = bus._listeners.get(EVENT_STATE_CHANGED)
        if listeners is not None or bus._match_all:
            data: StateChangedData = {"entity_id": entity_id, "old_state": old, "new_state": state}
            bus.dispatch(Event(EVENT_STATE_CHANGED, data, now, context, tenant_id), listeners)
        return state

    def remove(self, entity_id: str, context: Context | None = None) -> bool:
        """Forget an entity's state; fires ``state_changed`` with ``new_state`` None."""
        old = self._states.pop(entity_id, None)
        if old is None:
            return False
        self._by_domain[old.domain].discard(entity_id)
        self._unindex_tenant(entity_id, old.tenant_id)
        data: StateChangedData = {"entity_id": entity_id, "old_state": old, "new_state": None}
        self._bus.fire(EVENT_STATE_CHANGED, data, context=context, tenant_id=old.tenant_id)
        return True

    def _unindex_tenant(self, entity_id: str, tenant_id: str | None) -> None:
        owned = self._by_tenant.get(tenant_id)
        if owned is not None:
            owned.discard(entity_id)


# -------------------------------------------------------------------------------------------------- services


class ServiceCall:
    """One call of a service: what to do, to which entities and devices, with which data, on whose behalf."""

    __slots__ = ("context", "data", "device_ids", "domain", "entity_ids", "service")

    def __init__(
        self,
        domain: str,
        service: str,
        data: Mapping[str, Any],
        entity_ids: tuple[str, ...] = (),
        device_ids: tuple[str, ...] = (),
        context: Context | None = None,
    ) -> None:
        self.domain = domain
        self.service = service
        self.data = data
        self.entity_ids = entity_ids
        self.device_ids = device_ids
        self.context = context

    def __repr__(self) -> str:
        return f"<ServiceCall {self.domain}.{self.service} entities={self.entity_ids} data={dict(self.data)!r}>"


ServiceHandler = Callable[[ServiceCall], Any]
ServiceAuthorizer = Callable[[ServiceCall], None]


class Service:
    """A registered service: its handler, the schema of its data, and a description for the API."""

    __slots__ = ("description", "handler", "is_coroutine", "schema")

    def __init__(self, handler: ServiceHandler, schema: vol.Schema | None, description: str) -> None:
        self.handler = handler
        self.schema = schema
        self.is_coroutine = asyncio.iscoroutinefunction(handler)
        self.description = description


def _ids(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


class ServiceRegistry:
    """Services per domain, each with a voluptuous schema, called with a target and data.

    ``authorize`` (set by the auth layer) sees every call before it runs: the one place where a caller's
    tenant and role are checked.
    """

    __slots__ = ("_hub", "_services", "authorize")

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._services: dict[str, dict[str, Service]] = {}
        self.authorize: ServiceAuthorizer | None = None

    def register(
        self,
        domain: str,
        service: str,
        handler: ServiceHandler,
        schema: vol.Schema | None = None,
        *,
        description: str = "",
    ) -> None:
        self._services.setdefault(domain, {})[service] = Service(handler, schema, description)

    def remove(self, domain: str, service: str) -> None:
        services = self._services.get(domain, {})
        services.pop(service, None)
        if not services:
            self._services.pop(domain, None)

    def has(self, domain: str, service: str) -> bool:
        return service in self._services.get(domain, ())

    def all(self) -> dict[str, dict[str, Service]]:
        return {domain: dict(services) for domain, services in self._services.items()}

    async def call(
        self,
        domain: str,
        service: str,
        data: Mapping[str, Any] | None = None,
        *,
        target: Mapping[str, str | Iterable[str]] | None = None,
        context: Context | None = None,
        blocking: bool = True,
    ) -> Any:
        """Call a service. Blocking calls return the handler's result; others return None at once.

        Raises ServiceNotFound, ServiceValidationError (naming each bad field) or Unauthorized.
        """
        try:
            handler = self._services[domain][service]
        except KeyError:
            raise ServiceNotFound(domain, service) from None
        call = self._make_call(domain, service, handler, data, target, context)
        if self.authorize is not None:
            self.authorize(call)
        bus = self._hub.bus
        if bus.has_listeners(EVENT_CALL_SERVICE):
            event_data: ServiceCallData = {"domain": domain, "service": service, "data": call.data}
            bus.fire(EVENT_CALL_SERVICE, event_data, context=context, tenant_id=context.tenant_id if context else None)
        if not blocking:
            self._hub.create_task(self._run_logged(handler, call), f"service {domain}.{service}")
            return None
        if handler.is_coroutine:
            return await handler.handler(call)
        return handler.handler(call)

    @staticmethod
    def _make_call(
        domain: str,
        service: str,
        handler: Service,
        data: Mapping[str, Any] | None,
        target: Mapping[str, str | Iterable[str]] | None,
        context: Context | None,
    ) -> ServiceCall:
        if not data and not target:
            if handler.schema is not None:
                data = ServiceRegistry._validate(domain, service, handler.schema, {})
            return ServiceCall(domain, service, data or _EMPTY, (), (), context)
        data = dict(data or ())
        # Like Home Assistant, entity_id / device_id may come in the data or in the target.
        entity_ids = _ids(data.pop("entity_id", None)) + _ids((target or {}).get("entity_id"))
        device_ids = _ids(data.pop("device_id", None)) + _ids((target or {}).get("device_id"))
        if handler.schema is not None:
            data = ServiceRegistry._validate(domain, service, handler.schema, data)
        return ServiceCall(domain, service, data, entity_ids, device_ids, context)

    @staticmethod
    def _validate(domain: str, service: str, schema: vol.Schema, data: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return schema(data)
        except vol.Invalid as err:
            raise ServiceValidationError(domain, service, invalid_fields(err)) from None

    @staticmethod
    async def _run_logged(handler: Service, call: ServiceCall) -> None:
        try:
            await await_maybe(handler.handler(call))
        except Exception:
            _LOGGER.exception("Service %s.%s failed", call.domain, call.service)


# ------------------------------------------------------------------------------------------------------- hub


class HubPhase(enum.StrEnum):
    NOT_RUNNING = "not_running"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"


StopCallback = Callable[[], Awaitable[None] | None]


class Hub:
    """The root object: owns the bus, the states and the services, and holds every other part of the hub.

    The other parts (store, registries, plugins, health, scheduler, recorder) are attached by
    ``hub.bootstrap`` so that this module stays a kernel that imports none of them.
    """

    plugins: PluginManager
    database: Database
    recorder: Recorder
    tenants: TenantRegistry
    auth: AuthManager
    automations: AutomationManager
    notifications: NotificationManager
    devices: DeviceRegistry
    entities: EntityRegistry
    config_entries: ConfigEntries
    health: HealthMonitor
    streams: StreamManager
    scheduler: Scheduler
    http: HttpServer

    def __init__(self, config_dir: Path | str, config: Mapping[str, Any] | None = None) -> None:
        self.config_dir = Path(config_dir)
        self.config: Mapping[str, Any] = config or {}
        self.bus = EventBus(self)
        self.states = StateMachine(self.bus)
        self.services = ServiceRegistry(self)
        self.phase = HubPhase.NOT_RUNNING
        self.data: dict[str, Any] = {}  # per-integration storage, keyed by domain
        self._tasks: set[asyncio.Task[Any]] = set()
        self._background_tasks: set[asyncio.Task[Any]] = set()
        self._stop_callbacks: list[StopCallback] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.stopped = asyncio.Event()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    @property
    def is_running(self) -> bool:
        return self.phase in (HubPhase.STARTING, HubPhase.RUNNING)

    def create_task(self, coroutine: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        """Start a task the hub keeps a reference to, logs if it fails, and waits for in ``block_till_done``."""
        task = self.loop.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def create_background_task(self, coroutine: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        """Start a long-lived task (a writer loop, a connection): kept and cancelled at stop, never waited for."""
        task = self.loop.create_task(coroutine, name=name)
        self._background_tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        self._background_tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            _LOGGER.error("Task %s failed", task.get_name(), exc_info=error)

    async def block_till_done(self) -> None:
        """Wait until every task the hub started (and the tasks those started) has finished."""
        current = asyncio.current_task()
        while pending := [task for task in self._tasks if task is not current and not task.done()]:
            await asyncio.wait(pending)
        await asyncio.sleep(0)

    def on_stop(self, callback: StopCallback) -> None:
        """Run ``callback`` when the hub stops; callbacks run last-registered first (reverse of start-up)."""
        self._stop_callbacks.append(callback)

    async def run_in_executor(self, func: Callable[..., _T], *args: Any) -> _T:
        """Run blocking work (decoding, SOAP, inference) in the default thread pool, off the event loop."""
        return await self.loop.run_in_executor(None, func, *args)

    def mark_started(self) -> None:
        self.phase = HubPhase.RUNNING
        self.bus.fire(EVENT_HUB_STARTED)

    async def stop(self) -> None:
        """Stop in reverse order of start: integrations, then the recorder's last flush, then the database."""
        if self.phase in (HubPhase.STOPPING, HubPhase.STOPPED):
            await self.stopped.wait()
            return
        self.phase = HubPhase.STOPPING
        self.bus.fire(EVENT_HUB_STOP)
        for callback in reversed(self._stop_callbacks):
            try:
                await await_maybe(callback())
            except Exception:
                _LOGGER.exception("Error while stopping %r", callback)
        current = asyncio.current_task()
        remaining = [task for task in (*self._tasks, *self._background_tasks) if task is not current]
        for task in remaining:
            task.cancel()
        await asyncio.gather(*remaining, return_exceptions=True)
        self.phase = HubPhase.STOPPED
        self.stopped.set()
