// The health page: reconnect and check-now (operators), and the table kept current: a change of any health
// entity (subscribe_entities) fetches the server's rendering of the table again, at most every two seconds.

import { api, busy, errorMessage, refreshFromServer, toast } from "./api.js";
import { refreshSummarySoon } from "./entities.js";
import { formatTimes } from "./format.js";
import { t } from "./i18n.js";
import { followEntities } from "./live.js";

let timer = null;
let first = true;

function refreshSoon() {
  if (timer) return;
  timer = setTimeout(async () => {
    timer = null;
    if (await refreshFromServer("#health-table")) formatTimes(document.getElementById("health-table"));
  }, 2000);
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  busy(button, async () => {
    const action = button.dataset.action === "check" ? "check-now" : "reconnect";
    try {
      await api("POST", `/api/health/devices/${encodeURIComponent(button.dataset.key)}/${action}`);
      toast(t(action === "check-now" ? "health.checked" : "health.reconnecting"));
      refreshSoon();
      refreshSummarySoon();
    } catch (error) {
      toast(errorMessage(error), "bad");
    }
  });
});

followEntities((states) => {
  if (first) {
    first = false; // the initial picture: the page shows it already
    return;
  }
  if (states.some((state) => /^(sensor|binary_sensor)\..+_(health|connected|response_time|uptime)$/.test(state.entity_id))) {
    refreshSoon();
    refreshSummarySoon();
  }
});
