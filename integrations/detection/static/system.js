// The statistics page's system panel: CPU, memory, GPU and each camera's detection figures, fetched again from
// GET /api/detection/system every few seconds while the page is visible.

import { api } from "/static/js/api.js";
import { formatNumber } from "/static/js/format.js";
import { t } from "/static/js/i18n.js";

const INTERVAL_MS = 5000;
const panel = document.getElementById("system-panel");

function figure(value, suffix = "") {
  return value === null || value === undefined ? "–" : `${formatNumber(value)}${suffix}`;
}

function set(name, text) {
  const element = panel.querySelector(`[data-system="${name}"]`);
  if (element && element.textContent !== text) element.textContent = text;
}

function show(system) {
  const host = system.host;
  set("cpu_percent", figure(host.cpu_percent, " %"));
  set("memory_percent", figure(host.memory_percent, " %"));
  set("load", host.load_average ? host.load_average.join(" · ") : "–");
  set("process_rss_mb", figure(host.process_rss_mb, " MB"));
  set("gpu", system.gpu ? system.gpu.name : t("detection.system.no_gpu"));
  if (system.gpu) {
    set("gpu_memory", `${figure(system.gpu.memory_used_mb)} / ${figure(system.gpu.memory_total_mb, " MB")}`);
    set("gpu_use", figure(system.gpu.utilization_percent, " %"));
  }
  for (const [camera, figures] of Object.entries(system.cameras || {})) {
    const row = panel.querySelector(`tr[data-camera="${CSS.escape(camera)}"]`);
    if (!row) continue;
    for (const cell of row.querySelectorAll("[data-figure]")) cell.textContent = figure(figures[cell.dataset.figure]);
  }
}

async function poll() {
  if (document.visibilityState === "visible") {
    try {
      show(await api("GET", "/api/detection/system"));
    } catch {
      // a failed refresh keeps the last figures; the next one tries again
    }
  }
  setTimeout(poll, INTERVAL_MS);
}

if (panel) setTimeout(poll, INTERVAL_MS);
