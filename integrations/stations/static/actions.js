// The operators' buttons on the board and on a session's page, through the REST API with the session cookies:
// add time, terminate (or cancel a waiting code), maintenance on/off. `changed(what, result)` runs after each.

import { api, busy, errorMessage, toast } from "/static/js/api.js";
import { t } from "/static/js/i18n.js";

const path = (id) => `/api/stations/sessions/${encodeURIComponent(id)}`;

export function bindActions(changed) {
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-add-time]");
    if (!form) return;
    event.preventDefault();
    const input = form.elements.minutes;
    const text = input.value.trim();
    const minutes = /^\d+$/.test(text) ? Number(text) : text; // the API names what is wrong with anything else
    busy(form.querySelector("button[type=submit]"), async () => {
      try {
        const session = await api("POST", `${path(form.dataset.addTime)}/add-time`, { minutes });
        // The card (board) or the ticket of this session counts down from the new end at once.
        for (const element of document.querySelectorAll(`[data-session-id="${CSS.escape(session.id)}"] [data-ends-at]`)) {
          element.dataset.endsAt = session.ends_at || "";
        }
        toast(t("stations.add_time.done", { minutes }));
        changed("add_time", session);
      } catch (error) {
        input.setAttribute("aria-invalid", "true");
        toast(errorMessage(error), "bad");
      }
    });
  });

  document.addEventListener("click", (event) => {
    const terminate = event.target.closest("button[data-terminate]");
    if (terminate) {
      busy(terminate, async () => {
        if (!confirm(terminate.dataset.confirm)) return;
        try {
          const session = await api("POST", `${path(terminate.dataset.terminate)}/terminate`);
          toast(t("stations.terminate.done"));
          changed("terminate", session);
        } catch (error) {
          toast(errorMessage(error), "bad");
        }
      });
      return;
    }
    const maintenance = event.target.closest("button[data-maintenance]");
    if (maintenance) {
      busy(maintenance, async () => {
        try {
          const station = await api("PUT", `/api/stations/stations/${encodeURIComponent(maintenance.dataset.maintenance)}/status`,
            { status: maintenance.dataset.to });
          toast(t(`stations.maintenance.done_${station.maintenance ? "on" : "off"}`, { station: station.name }));
          changed("status", station);
        } catch (error) {
          toast(errorMessage(error), "bad");
        }
      });
    }
  });
}
