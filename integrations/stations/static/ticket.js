// A session's page: the code, big and printable ("Print" or the browser's own print: the print stylesheet keeps
// only the ticket). While the session is live, its remaining time counts down, and the page follows the session
// through the REST API every few seconds: when it starts at a station or ends, the page is drawn again.

import { api } from "/static/js/api.js";
import { bindActions } from "./actions.js";
import { startCountdown } from "./countdown.js";

const context = JSON.parse(document.getElementById("stations-context").textContent);
const ticket = document.getElementById("ticket");
const tick = startCountdown(context.server_now);
const POLL_MS = 3000;

document.getElementById("print-ticket")?.addEventListener("click", () => window.print());
bindActions(() => location.reload());

if (ticket.dataset.status !== "finished") {
  const poll = setInterval(async () => {
    let session;
    try {
      session = await api("GET", `/api/stations/sessions/${encodeURIComponent(context.session_id)}`);
    } catch {
      return; // the next poll tries again
    }
    if (session.status !== ticket.dataset.status) {
      clearInterval(poll);
      location.reload();
      return;
    }
    const countdown = ticket.querySelector("[data-ends-at]");
    if (countdown && session.ends_at && countdown.dataset.endsAt !== session.ends_at) {
      countdown.dataset.endsAt = session.ends_at;
      tick();
    }
  }, POLL_MS);
}
