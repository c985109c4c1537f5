// Live entity rows and health badges, shared by the overview and the device page: the markup is the
// entity_row and level_badge macros of templates/_macros.html.

import { api } from "./api.js";
import { displayState, formatDateTime, friendlyName, relativeTime, stateClass, stateWord } from "./format.js";
import { t, tOr } from "./i18n.js";

function setText(element, text) {
  if (element && element.textContent !== text) element.textContent = text;
}

/** Rewrite one row (.entity-row) with a state; a row whose state changed glows for a moment. */
export function renderEntityRow(row, state) {
  const badge = row.querySelector(".badge");
  const changed = row.querySelector("time.changed");
  const badgeClass = `badge state-${stateClass(stateWord(state))}`;
  if (row.dataset.lastChanged && Number(row.dataset.lastChanged) !== Number(state.last_changed)) {
    row.classList.add("changed-now");
    setTimeout(() => row.classList.remove("changed-now"), 1500);
  }
  row.dataset.lastChanged = String(state.last_changed);
  setText(row.querySelector(".entity-name"), friendlyName(state));
  setText(row.querySelector(".entity-id"), state.entity_id);
  setText(badge, displayState(state));
  if (badge.className !== badgeClass) badge.className = badgeClass;
  changed.dataset.timestamp = String(state.last_changed);
  changed.dateTime = new Date(state.last_changed * 1000).toISOString();
  changed.title = formatDateTime(state.last_changed);
  setText(changed, relativeTime(state.last_changed));
}

/** Update every row and health badge that shows one of these states. */
export function renderStates(states) {
  let healthChanged = false;
  for (const state of states) {
    const selector = `.entity-row[data-entity-id="${CSS.escape(state.entity_id)}"]`;
    for (const row of document.querySelectorAll(selector)) renderEntityRow(row, state);
    for (const badge of document.querySelectorAll(`[data-health-entity="${CSS.escape(state.entity_id)}"]`)) {
      setText(badge, tOr(`health.level.${state.state}`, state.state));
      badge.className = `badge level-badge state-${stateClass(state.state)}`;
      healthChanged = true;
    }
  }
  return healthChanged;
}

export function removeRows(entityIds) {
  for (const entityId of entityIds) {
    for (const row of document.querySelectorAll(`.entity-row[data-entity-id="${CSS.escape(entityId)}"]`)) row.remove();
  }
}

// ------------------------------------------------------------------------------------------ health summary

let summaryTimer = null;

/** Fetch the health summary again (a health entity changed), at most once a second. */
export function refreshSummarySoon() {
  if (summaryTimer || !document.querySelector("[data-summary]")) return;
  summaryTimer = setTimeout(async () => {
    summaryTimer = null;
    try {
      renderSummary(await api("GET", "/api/health/summary"));
    } catch (error) {
      console.warn("Gatehouse: health summary", error);
    }
  }, 1000);
}

export function renderSummary(summary) {
  for (const element of document.querySelectorAll("[data-summary]")) {
    const value = summary[element.dataset.summary];
    if (element.dataset.summary === "average_uptime") {
      setText(element, value === null || value === undefined ? "–" : `${Number(value).toFixed(1)} %`);
    } else {
      setText(element, String(value ?? 0));
    }
  }
  let checked = 0;
  for (const [level, count] of Object.entries(summary.levels || {})) {
    checked += count;
    setText(document.querySelector(`[data-level="${CSS.escape(level)}"]`), String(count));
    const segment = document.querySelector(`[data-level-segment="${CSS.escape(level)}"]`);
    if (segment) segment.style.flexGrow = String(count);
  }
  const bar = document.querySelector(".level-bar");
  if (bar) bar.dataset.empty = String(checked === 0);
}

export { t };
