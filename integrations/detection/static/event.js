// One detection: the acknowledge button, the boxed/clean snapshot switch, and a reload when this event ends (a
// `detection` bus event with its id) or its clip is written (a few seconds after the end: the post-roll, then the
// remux; the page asks the API until it is there), so the page shows the final snapshot and the clip.

import { api, refreshFromServer } from "/static/js/api.js";
import { formatTimes } from "/static/js/format.js";
import { connection } from "/static/js/live.js";
import { handleAcknowledgements } from "./ack.js";

const context = JSON.parse(document.getElementById("detection-context").textContent);

handleAcknowledgements();
formatTimes();

document.addEventListener("click", (event) => {
  const button = event.target.closest("#snapshot-boxed, #snapshot-clean");
  const image = document.getElementById("event-snapshot");
  if (!button || !image || !button.dataset.src) return;
  image.src = button.dataset.src;
  for (const other of document.querySelectorAll("#snapshot-boxed, #snapshot-clean")) {
    other.setAttribute("aria-pressed", String(other === button));
  }
});

connection.subscribe({ type: "subscribe_events", event_type: "detection" }, async (event) => {
  const data = event.data || {};
  if (data.event_id !== context.event_id || data.type !== "end") return;
  if (await refreshFromServer("#main")) formatTimes();
});

const CLIP_POLL_MS = 3000;
const CLIP_POLLS = 40;

async function waitForClip(left) {
  if (left <= 0 || !document.getElementById("no-clip")) return;
  try {
    const event = await api("GET", `/api/detection/events/${encodeURIComponent(context.event_id)}`);
    if (event.clip || event.media_error) {
      if (await refreshFromServer("#main")) formatTimes();
      return;
    }
  } catch {
    // the next poll tries again
  }
  setTimeout(() => waitForClip(left - 1), CLIP_POLL_MS);
}

if (context.clip_pending) setTimeout(() => waitForClip(CLIP_POLLS), CLIP_POLL_MS);
