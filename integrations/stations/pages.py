"""The stations dashboard, added through the ``dashboard_pages`` hook: ``/stations`` (the board: one card per
station, live), ``/stations/sessions/new`` (start a session), ``/stations/sessions/{id}`` (its code, big and
printable), ``/stations/visitors`` (visitors with their GDPR consent, erasure) and ``/stations/log`` (the audit log).

Pages render complete on the server from the ``StationManager`` through the caller's scope (another tenant's
session is the 404 page). ``static/board.js`` then counts the remaining time down every second from ``ends_at``,
follows the stations' entities over the WebSocket API (``subscribe_entities``: status, last seen, session and its
end) and calls the REST API (``/api/stations/...``) for the actions, like the other integrations' pages.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from aiohttp import web

from hub.auth.scope import NotFound, Role
from hub.core import Hub
from hub.hookspecs import hookimpl
from hub.http.dashboard import DashboardPages, NavLink, Page, Rendered, page_handler

from . import const
from .const import DOMAIN, MAX_ADD_MINUTES, MAX_SESSION_SECONDS, SESSION_WAITING
from .manager import StationManager, manager_of
from .visitors import visitor_dict

HERE = Path(__file__).parent
#: Audit lines per page of /stations/log; older ones through the "Older" link (``before_id``).
LOG_PAGE = 100
#: Visitors listed (and offered when starting a session); search narrows them down.
VISITOR_PAGE = 200
#: What an unknown remaining time reads as (an en dash, as the dashboard's tables show a missing value).
NO_TIME = "\u2013"
#: The choices offered when starting a session, in minutes (any other number may be typed).
MINUTE_PRESETS = (15, 30, 60, 120)


def remaining_text(seconds: int | None) -> str:
    """``1:05:09`` or ``05:09``, as ``static/board.js`` writes it every second."""
    if seconds is None:
        return NO_TIME
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def epoch(iso: str | None) -> float | None:
    """ISO 8601 text (the manager's) as epoch seconds (what the ``time_tag`` macro reads)."""
    return dt.datetime.fromisoformat(iso).timestamp() if iso else None


def safe_json(value: Any) -> str:
    """JSON for a ``<script type="application/json">``: names are user input, so ``<`` is escaped."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def _station_cards(page: Page, manager: StationManager) -> list[dict[str, Any]]:
    """Each visible station as the board shows it, with the ids of the entities ``board.js`` follows."""
    cards = []
    for record in manager.stations(page.scope.tenant_filter):
        station = manager.station_dict(record.id)
        follow: dict[str, str] = {}
        for entity_id in station["entities"]:
            entry = page.hub.entities.get(entity_id)
            unique_id = getattr(entry, "unique_id", "") or ""
            for key in ("status", "session"):
                if unique_id == f"{record.id}_{key}":
                    follow[key] = entity_id
        session = station["session"]
        cards.append(
            {
                **station,
                "last_seen_at": epoch(station["last_seen"]),
                "remaining_text": remaining_text(session["remaining"]) if session else None,
                "follow": follow,
            }
        )
    return cards


@page_handler(nav="/stations")
async def board(request: web.Request, page: Page) -> Rendered:
    manager = manager_of(page.hub)
    cards = _station_cards(page, manager) if manager is not None else []
    waiting = []
    if manager is not None:
        records = await manager.store.sessions(page.scope.tenant_filter, status=SESSION_WAITING, limit=50)
        waiting = await manager.session_views(records)
    follow = {card["id"]: card["follow"] for card in cards}
    return Rendered(
        "stations/board.html",
        {
            "title": page.t("stations.board.title"),
            "configured": manager is not None,
            "stations": cards,
            "waiting": waiting,
            "counts": {
                status: sum(1 for card in cards if card["status"] == status) for status in const.STATION_STATUSES
            },
            "board_json": safe_json({"follow": follow, "server_now": _now()}),
            "max_add_minutes": MAX_ADD_MINUTES,
            "tenants": page.scope.tenants(),
            "needs_tenant": page.caller.tenant_id is None,
        },
    )


def _now() -> float:
    return dt.datetime.now(dt.UTC).timestamp()


@page_handler(nav="/stations", role=Role.OPERATOR)
async def new_session(request: web.Request, page: Page) -> Rendered:
    manager = manager_of(page.hub)
    stations, visitors = [], []
    if manager is not None:
        stations = [manager.station_dict(record.id) for record in manager.stations(page.scope.tenant_filter)]
        records = await manager.store.visitors(page.scope.tenant_filter, limit=VISITOR_PAGE)
        visitors = [visitor_dict(record) for record in records if record.erased_at is None]
    return Rendered(
        "stations/new_session.html",
        {
            "title": page.t("stations.start.title"),
            "configured": manager is not None,
            "stations": stations,
            "visitors": visitors,
            "chosen_station": request.query.get("station", ""),
            "chosen_visitor": request.query.get("visitor", ""),
            "presets": MINUTE_PRESETS,
            "max_minutes": MAX_SESSION_SECONDS // 60,
            "tenants": page.scope.tenants(),
            "needs_tenant": page.caller.tenant_id is None,
        },
    )


@page_handler(nav="/stations")
async def session_ticket(request: web.Request, page: Page) -> Rendered:
    manager = manager_of(page.hub)
    session_id = request.match_info["session_id"]
    view = await manager.session_view(session_id) if manager is not None else None
    if view is None or not page.scope.sees(view.tenant_id):
        raise NotFound("session", session_id)
    data = {"code": None, **view.as_dict(with_code=page.can(Role.OPERATOR) and view.status != "finished")}
    return Rendered(
        "stations/session.html",
        {
            "title": page.t("stations.ticket.title"),
            "session": data,
            "remaining_text": remaining_text(view.remaining),
            "expires_at": view.expires_at,
            "ends_at": view.ends_at,
            "board_json": safe_json({"follow": {}, "server_now": _now(), "session_id": view.id}),
            "max_add_minutes": MAX_ADD_MINUTES,
        },
    )


@page_handler(nav="/stations")
async def visitors(request: web.Request, page: Page) -> Rendered:
    manager = manager_of(page.hub)
    search = request.query.get("q", "").strip()[:128]
    rows = []
    if manager is not None:
        records = await manager.store.visitors(page.scope.tenant_filter, search=search or None, limit=VISITOR_PAGE)
        rows = [
            {**visitor_dict(record), "consent_time": record.consent_at, "erased_time": record.erased_at}
            for record in records
        ]
    return Rendered(
        "stations/visitors.html",
        {
            "title": page.t("stations.visitors.title"),
            "configured": manager is not None,
            "visitors": rows,
            "search": search,
            "tenants": {tenant.id: tenant.name for tenant in page.scope.tenants()},
            "needs_tenant": page.caller.tenant_id is None,
        },
    )


@page_handler(nav="/stations")
async def audit_log(request: web.Request, page: Page) -> Rendered:
    manager = manager_of(page.hub)
    station_id = request.query.get("station") or None
    action = request.query.get("action") or None
    before = request.query.get("before_id", "")
    before_id = int(before) if before.isdigit() and len(before) < 19 else None
    lines: list[dict[str, Any]] = []
    stations: dict[str, str] = {}
    if manager is not None:
        stations = {record.id: record.name for record in manager.stations(page.scope.tenant_filter)}
        logs = await manager.store.logs(
            page.scope.tenant_filter, station_id=station_id, action=action, before_id=before_id, limit=LOG_PAGE
        )
        names = await manager.store.visitor_names([log.visitor_id for log in logs if log.visitor_id])
        for log in logs:
            user = page.hub.auth.user(log.actor) if log.actor else None
            lines.append(
                {
                    **log.as_dict(),
                    "actor_name": user.username if user is not None else log.actor,
                    "station_name": stations.get(log.station_id or "", log.station_id),
                    "visitor_name": names.get(log.visitor_id or "") if log.visitor_id else None,
                    "details_text": json.dumps(log.details, ensure_ascii=False, sort_keys=True) if log.details else "",
                }
            )
    return Rendered(
        "stations/log.html",
        {
            "title": page.t("stations.log.title"),
            "configured": manager is not None,
            "lines": lines,
            "stations": stations,
            "station_id": station_id or "",
            "action": action or "",
            "actions": ACTIONS,
            "older": lines[-1]["id"] if len(lines) == LOG_PAGE else None,
        },
    )


#: The audit actions, for the log's filter; each has a translation ``stations.action.<name>``.
ACTIONS = (
    const.ACTION_SESSION_CREATE,
    const.ACTION_SESSION_VALIDATE,
    const.ACTION_SESSION_ADD_TIME,
    const.ACTION_SESSION_TERMINATE,
    const.ACTION_SESSION_EXPIRE,
    const.ACTION_CODE_REJECTED,
    const.ACTION_STATION_CREATE,
    const.ACTION_STATION_UPDATE,
    const.ACTION_STATION_DELETE,
    const.ACTION_STATION_STATUS,
    const.ACTION_STATION_TOKEN,
    const.ACTION_STATION_WARN,
    const.ACTION_VISITOR_CREATE,
    const.ACTION_VISITOR_UPDATE,
    const.ACTION_VISITOR_ERASE,
)


@hookimpl
def dashboard_pages(hub: Hub) -> DashboardPages:
    """The pages, their templates, scripts, strings and the header link (exact paths before ``{session_id}``)."""
    return DashboardPages(
        domain=DOMAIN,
        routes=[
            web.get("/stations", board, name="stations_board"),
            web.get("/stations/sessions/new", new_session, name="stations_new_session"),
            web.get("/stations/sessions/{session_id}", session_ticket, name="stations_session"),
            web.get("/stations/visitors", visitors, name="stations_visitors"),
            web.get("/stations/log", audit_log, name="stations_log"),
        ],
        templates=HERE / "templates",
        static=HERE / "static",
        locales=HERE / "locales",
        nav=[NavLink("/stations", "stations.nav.board")],
    )
