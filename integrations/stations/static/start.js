// Start a session: a visitor (or none), a station (or any available one), minutes; the hub answers with the
// session and its access code, and the page goes to the session's printable ticket.

import { api, busy, clearErrors, showErrors } from "/static/js/api.js";

const form = document.getElementById("session-form");
const minutes = form?.elements.minutes;

for (const preset of document.querySelectorAll("button[data-minutes]")) {
  preset.addEventListener("click", () => {
    minutes.value = preset.dataset.minutes;
    for (const other of document.querySelectorAll("button[data-minutes]")) {
      other.setAttribute("aria-pressed", String(other === preset));
    }
  });
}

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const text = minutes.value.trim();
  const body = { minutes: /^\d+$/.test(text) ? Number(text) : text }; // the API names what is wrong otherwise
  for (const name of ["visitor_id", "station_id", "tenant_id"]) {
    const value = form.elements[name]?.value;
    if (value) body[name] = value;
  }
  await busy(form.querySelector("button[type=submit]"), async () => {
    try {
      const session = await api("POST", "/api/stations/sessions", body);
      location.assign(`/stations/sessions/${encodeURIComponent(session.id)}`);
    } catch (error) {
      showErrors(form, error);
    }
  });
});
