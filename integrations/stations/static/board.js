// The stations board, live: remaining times count down every second (countdown.js); each station's status and
// session entities are followed over the WebSocket API (subscribe_entities), so a station going offline or busy,
// a session starting or ending redraws the board from the server, and time added by anyone moves the countdown.
// A fetch every 30 s catches what no entity says (codes issued elsewhere, stations added at another desk).

import { refreshFromServer } from "/static/js/api.js";
import { formatDateTime, formatTimes, relativeTime } from "/static/js/format.js";
import { connection } from "/static/js/live.js";
import { bindActions } from "./actions.js";
import { startCountdown } from "./countdown.js";

const REFRESH_MS = 30000;
const readContext = () => JSON.parse(document.getElementById("stations-context").textContent);
const tick = startCountdown(readContext().server_now);

// entity id -> [station id, "status" | "session"], and the last state of each.
const followed = new Map();
const states = new Map();

let pending = null;
/** Redraw the board from the server soon (a burst of changes makes one request), then follow new stations.
 * Never under the operator's fingers: while they type in a card's field, the redraw waits. */
function refresh(delay = 150) {
  clearTimeout(pending);
  pending = setTimeout(async () => {
    const typing = document.activeElement?.closest?.("#stations-live input, #stations-live select");
    if (typing) {
      refresh(2000);
      return;
    }
    if (await refreshFromServer("#stations-live")) {
      formatTimes(document.getElementById("stations-live"));
      tick();
      follow(readContext().follow);
    }
  }, delay);
}
setInterval(() => refresh(0), REFRESH_MS);
// Added time is already on the card (from the answer, and the session entity confirms it): no redraw for it.
bindActions((what) => what !== "add_time" && refresh(0));
document.addEventListener("stations:changed", () => refresh(0));

const card = (stationId) => document.querySelector(`.station-card[data-station-id="${CSS.escape(stationId)}"]`);

function showLastSeen(element, iso) {
  const seconds = Date.parse(iso) / 1000;
  if (!element || Number.isNaN(seconds)) return;
  let time = element.querySelector("time");
  if (!time) {
    time = document.createElement("time");
    time.className = "relative";
    element.replaceChildren(time);
  }
  time.dataset.timestamp = String(seconds);
  time.dateTime = iso;
  time.title = formatDateTime(seconds);
  time.textContent = relativeTime(seconds);
}

function stationChanged(stationId, kind, state) {
  const element = card(stationId);
  if (!element) return refresh();
  if (kind === "status") {
    if (element.dataset.status !== state.state) return refresh();
    return showLastSeen(element.querySelector("[data-last-seen]"), state.attributes.last_seen);
  }
  const sessionId = state.state === "none" ? "" : state.state;
  if (element.dataset.sessionId !== sessionId) return refresh();
  const countdown = element.querySelector("[data-ends-at]");
  if (countdown && state.attributes.ends_at && countdown.dataset.endsAt !== state.attributes.ends_at) {
    countdown.dataset.endsAt = state.attributes.ends_at; // time added (here, by an automation, by another operator)
    tick();
  }
  return undefined;
}

/** Home Assistant's compressed states: "a" adds full states, "c" carries diffs ("+" new values, "-" removed). */
function onEntities(event) {
  for (const [entityId, full] of Object.entries(event.a || {})) {
    if (!followed.has(entityId)) continue;
    const state = { state: full.s, attributes: full.a || {} };
    states.set(entityId, state);
    stationChanged(...followed.get(entityId), state);
  }
  for (const [entityId, diff] of Object.entries(event.c || {})) {
    const old = states.get(entityId);
    if (!old || !followed.has(entityId)) continue;
    const attributes = { ...old.attributes, ...(diff["+"]?.a || {}) };
    for (const name of diff["-"]?.a || []) delete attributes[name];
    const state = { state: "s" in (diff["+"] || {}) ? diff["+"].s : old.state, attributes };
    states.set(entityId, state);
    stationChanged(...followed.get(entityId), state);
  }
  if ((event.r || []).some((entityId) => followed.has(entityId))) refresh(); // a station was removed
}

/** Subscribe to the entities of stations not followed yet (all of them at first, then new ones). */
function follow(stations) {
  const fresh = [];
  for (const [stationId, entities] of Object.entries(stations || {})) {
    for (const [kind, entityId] of Object.entries(entities)) {
      if (followed.has(entityId)) continue;
      followed.set(entityId, [stationId, kind]);
      fresh.push(entityId);
    }
  }
  if (fresh.length) connection.subscribe({ type: "subscribe_entities", entity_ids: fresh }, onEntities);
}
follow(readContext().follow);
