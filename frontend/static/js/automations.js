// The automation list: turn one on or off, run one now (operators); the table is fetched again from the server
// after each action and whenever an automation.* state changes (a run, a reload), so it shows what the hub holds.

import { api, busy, errorMessage, refreshFromServer, toast } from "./api.js";
import { formatTimes } from "./format.js";
import { t } from "./i18n.js";
import { followEntities } from "./live.js";

let timer = null;
let first = true;

async function refresh() {
  if (await refreshFromServer("#automations-panel")) formatTimes(document.getElementById("automations-panel"));
}

function refreshSoon() {
  if (timer) return;
  timer = setTimeout(() => {
    timer = null;
    refresh();
  }, 500);
}

followEntities((states, removed) => {
  if (first) {
    first = false; // the initial picture: the page shows it already
    return;
  }
  const changed = [...states.map((state) => state.entity_id), ...(removed || [])];
  if (changed.some((entityId) => entityId.startsWith("automation."))) refreshSoon();
});

document.addEventListener("change", async (event) => {
  const input = event.target.closest("input[data-action=toggle]");
  if (!input) return;
  const action = input.checked ? "enable" : "disable";
  input.disabled = true;
  try {
    await api("POST", `/api/automations/${encodeURIComponent(input.dataset.id)}/${action}`);
    toast(t(input.checked ? "automations.turned_on" : "automations.turned_off"));
  } catch (error) {
    input.checked = !input.checked;
    toast(errorMessage(error), "bad");
  } finally {
    input.disabled = false;
  }
  await refresh();
});

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action=trigger]");
  if (!button) return;
  busy(button, async () => {
    try {
      const trace = await api("POST", `/api/automations/${encodeURIComponent(button.dataset.id)}/trigger`, {});
      toast(t(trace.result === "error" ? "automations.run_failed" : "automations.ran"), trace.result === "error" ? "bad" : "ok");
    } catch (error) {
      toast(errorMessage(error), "bad");
    }
    await refresh();
  });
});
