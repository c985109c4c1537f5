// The device page: its entities live (subscribe_entities), the history chart of the chosen entity (redrawn as
// new states arrive), and the actions: reconnect / check now (operators), rename / release (admins).

import { api, busy, errorMessage, showErrors, toast } from "./api.js";
import { drawChart } from "./chart.js";
import { renderStates } from "./entities.js";
import { t } from "./i18n.js";
import { followEntities } from "./live.js";

const figure = document.getElementById("chart");
const entitySelect = document.getElementById("chart-entity");
const rangeSelect = document.getElementById("chart-range");
let history = [];
let window_ = { start: 0, end: 0 };

function chartName() {
  return entitySelect?.selectedOptions[0]?.textContent || "";
}

async function loadChart() {
  const entityId = entitySelect?.value;
  if (!figure || !entityId) return;
  const seconds = Number(rangeSelect?.value || 86400);
  const end = Date.now() / 1000;
  window_ = { start: end - seconds, end };
  figure.setAttribute("aria-busy", "true");
  try {
    const states = await api("GET", `/api/history/${encodeURIComponent(entityId)}?start=${window_.start}&end=${end}`);
    history = states;
    drawChart(figure, history, window_.start, window_.end, chartName());
  } catch (error) {
    figure.replaceChildren(Object.assign(document.createElement("p"), { className: "muted chart-message", textContent: errorMessage(error) }));
  } finally {
    figure.removeAttribute("aria-busy");
  }
}

entitySelect?.addEventListener("change", loadChart);
let resizeTimer = null;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => history.length && drawChart(figure, history, window_.start, window_.end, chartName()), 200);
});
rangeSelect?.addEventListener("change", loadChart);
loadChart();

followEntities((states) => {
  renderStates(states);
  const charted = states.find((state) => state.entity_id === entitySelect?.value);
  if (charted && history.length && charted.last_changed > history[history.length - 1].last_changed) {
    history.push(charted);
    window_.end = Date.now() / 1000;
    drawChart(figure, history, window_.start, window_.end, chartName());
  }
});

for (const button of document.querySelectorAll("button[data-action]")) {
  button.addEventListener("click", () =>
    busy(button, async () => {
      const action = button.dataset.action === "check" ? "check-now" : "reconnect";
      try {
        await api("POST", `/api/health/devices/${encodeURIComponent(button.dataset.key)}/${action}`);
        toast(t(action === "check-now" ? "health.checked" : "health.reconnecting"));
        setTimeout(() => location.reload(), 800);
      } catch (error) {
        toast(errorMessage(error), "bad");
      }
    }),
  );
}

const renameForm = document.getElementById("rename-form");
renameForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = renameForm.elements.name.value.trim();
  await busy(renameForm.querySelector("button[type=submit]"), async () => {
    try {
      const device = await api("PATCH", `/api/devices/${encodeURIComponent(renameForm.dataset.deviceId)}`, { name });
      document.getElementById("device-name").textContent = device.name;
      document.title = `${device.name} · ${document.title.split(" · ").slice(1).join(" · ")}`;
      toast(t("device.renamed"));
    } catch (error) {
      showErrors(renameForm, error);
    }
  });
});

const release = document.getElementById("release");
release?.addEventListener("click", () =>
  busy(release, async () => {
    if (!confirm(release.dataset.confirm)) return;
    try {
      await api("POST", `/api/devices/${encodeURIComponent(release.dataset.deviceId)}/release`);
      location.assign("/");
    } catch (error) {
      toast(errorMessage(error), "bad");
    }
  }),
);
