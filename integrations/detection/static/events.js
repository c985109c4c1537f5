// The detections list: acknowledge buttons, and new detections live. Each `detection` bus event of a camera the
// filters keep makes the table fetch itself again from the server (the store has the row before the event is
// fired), so a new row comes with its snapshot, its link and its acknowledge button; a burst fetches once.

import { refreshFromServer } from "/static/js/api.js";
import { formatTimes } from "/static/js/format.js";
import { connection } from "/static/js/live.js";
import { handleAcknowledgements } from "./ack.js";

const context = JSON.parse(document.getElementById("detection-context").textContent);
const filters = context.filters;
const REFRESH_DELAY_MS = 400;
let refreshTimer = null;

handleAcknowledgements();
formatTimes(document.getElementById("detection-events"));

function wanted(data) {
  if (filters.paged || filters.acknowledged === "yes") return false; // an older page, or only acknowledged ones
  if (filters.camera && data.camera !== filters.camera) return false;
  if (filters.label && data.label !== filters.label) return false;
  return true;
}

async function refresh() {
  if (await refreshFromServer("#detection-events")) {
    const table = document.getElementById("detection-events");
    formatTimes(table);
    document.dispatchEvent(new CustomEvent("detection:refreshed"));
  }
}

connection.subscribe({ type: "subscribe_events", event_type: "detection" }, (event) => {
  const data = event.data || {};
  // A start adds a row, an end gives it its duration; updates (every second per object) wait for those.
  if (!data.event_id || data.type === "update" || !wanted(data)) return;
  if (refreshTimer !== null) return; // one fetch serves a burst of events
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    refresh();
  }, REFRESH_DELAY_MS);
});
