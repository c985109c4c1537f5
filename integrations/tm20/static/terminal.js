// A terminal's page: the open-door button (operators), and new logs live. Access events (people) and door
// events of this terminal arrive through subscribe_events and are added on top of the server-rendered table.

import { api, busy, errorMessage, toast } from "/static/js/api.js";
import { cell } from "/static/js/format.js";
import { t, tOr } from "/static/js/i18n.js";
import { connection } from "/static/js/live.js";

const context = JSON.parse(document.getElementById("tm20-context").textContent);
const MAX_ROWS = 200;

const door = document.getElementById("open-door");
door?.addEventListener("click", () =>
  busy(door, async () => {
    const result = document.getElementById("door-result");
    try {
      await api("POST", `/api/terminals/${encodeURIComponent(context.sn)}/command`, { command: "opendoor" });
      result.textContent = t("tm20.door.opened");
      toast(t("tm20.door.opened"));
    } catch (error) {
      result.textContent = errorMessage(error);
      toast(errorMessage(error), "bad");
    }
  }),
);

/** "2026-03-01T08:15:00+01:00" -> "2026-03-01 08:15:00": the terminal's own clock, as the table shows it. */
function terminalTime(iso) {
  return typeof iso === "string" && iso.length >= 19 ? iso.slice(0, 19).replace("T", " ") : String(iso ?? "");
}

function addRow(logId, time, who, method, direction) {
  const body = document.getElementById("tm20-logs-body");
  if (!body || (logId && body.querySelector(`tr[data-log-id="${CSS.escape(String(logId))}"]`))) return;
  const row = document.createElement("tr");
  row.className = "is-new";
  if (logId) row.dataset.logId = String(logId);
  const timeElement = document.createElement("span");
  timeElement.className = "serial";
  timeElement.textContent = time;
  row.append(
    cell(t("tm20.logs.time"), timeElement),
    cell(t("tm20.logs.who"), who),
    cell(t("tm20.logs.method"), method),
    cell(t("tm20.logs.direction"), direction),
  );
  body.prepend(row);
  while (body.rows.length > MAX_ROWS) body.deleteRow(-1);
  const empty = document.getElementById("tm20-logs-empty");
  if (empty) empty.hidden = true;
}

function mine(event) {
  const data = event.data || {};
  return data.sn === context.sn || data.device_id === context.device_id;
}

connection.subscribe({ type: "subscribe_events", event_type: "access" }, (event) => {
  if (!mine(event)) return;
  const data = event.data;
  const person = data.person || context.names[String(data.enrollid)] || t("tm20.unknown_person");
  const who = document.createElement("span");
  const id = document.createElement("span");
  id.className = "muted small";
  id.textContent = `#${data.enrollid}`;
  who.append(`${person} `, id);
  const direction = data.direction ? tOr(`tm20.direction.${data.direction}`, data.direction) : "–";
  addRow(data.log_id, terminalTime(data.time), who, tOr(`tm20.method.${data.method}`, data.method || "–"), direction);
});

connection.subscribe({ type: "subscribe_events", event_type: "tm20_door_event" }, (event) => {
  if (!mine(event)) return;
  const data = event.data;
  const what = tOr(`tm20.door_event.${data.event}`, t("tm20.door_event.other", { event: data.event }));
  addRow(data.log_id, terminalTime(data.time), what, "–", "–");
});
