// The events page: acknowledge buttons (operators), and new events live through subscribe_events. A new event
// shows at once as a provisional row, then the table is fetched again from the server (the recorder has
// committed it by then) so the row gets its id and its acknowledge button.

import { api, busy, errorMessage, refreshFromServer, toast } from "./api.js";
import { cell, formatDateTime, formatTimes } from "./format.js";
import { t, tOr } from "./i18n.js";
import { connection } from "./live.js";

const context = JSON.parse(document.getElementById("event-context").textContent);
const types = [...document.querySelectorAll("#filter-type option")].map((option) => option.value).filter(Boolean);
const wanted = context.filters.type ? [context.filters.type] : types;
let refreshTimer = null;

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-ack]");
  if (!button) return;
  busy(button, async () => {
    try {
      await api("POST", `/api/events/${encodeURIComponent(button.dataset.ack)}/acknowledge`);
      const row = button.closest("tr");
      const done = document.createElement("span");
      done.className = "ack-done";
      done.textContent = `✓ ${t("events.acknowledged_now")}`;
      button.replaceWith(done);
      row.classList.add("is-acknowledged");
      toast(t("events.acknowledged_toast"));
    } catch (error) {
      toast(errorMessage(error), "bad");
    }
  });
});

function provisionalRow(event) {
  const row = document.createElement("tr");
  row.className = "is-new";
  const time = new Date(event.time_fired).getTime() / 1000;
  const timeElement = document.createElement("time");
  timeElement.dataset.timestamp = String(time);
  timeElement.textContent = formatDateTime(time);
  const device = context.devices[event.data?.device_id] || "–";
  const details = Object.entries(event.data || {})
    .filter(([key]) => key !== "device_id")
    .map(([key, value]) => `${key}: ${typeof value === "object" ? JSON.stringify(value) : value}`)
    .join(" · ");
  row.append(
    cell(t("events.time"), timeElement),
    cell(t("events.type"), tOr(`event_type.${event.event_type}`, event.event_type)),
    cell(t("events.device"), device),
    cell(t("events.details"), details),
    cell(t("events.acknowledged"), t("events.saving")),
  );
  return row;
}

function onEvent(event) {
  if (context.filters.device && event.data?.device_id !== context.filters.device) return;
  if (context.filters.acknowledged === "yes") return; // a new event is not acknowledged yet
  document.getElementById("events-body")?.prepend(provisionalRow(event));
  const empty = document.getElementById("events-empty");
  if (empty) empty.hidden = true;
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(async () => {
    if (await refreshFromServer("#events-table")) formatTimes(document.getElementById("events-table"));
  }, 1500);
}

for (const type of wanted) connection.subscribe({ type: "subscribe_events", event_type: type }, onEvent);
