// The cameras grid: each visible camera's still, fetched again every few seconds (a few at a time, nothing while
// the tab is hidden), and each camera's state badge kept live through subscribe_entities.

import { displayState, stateClass, stateWord } from "./format.js";
import { t } from "./i18n.js";
import { followEntities } from "./live.js";

const grid = document.getElementById("camera-grid");
const REFRESH_MS = Number(grid?.dataset.refreshSeconds || 5) * 1000;
const PARALLEL = 2; // the hub decodes on a small machine: ask for two stills at a time
const visible = new Set();
const queue = [];
let running = 0;

function cardOf(entityId) {
  return grid.querySelector(`.camera-card[data-entity-id="${CSS.escape(entityId)}"]`);
}

async function refresh(card) {
  const image = card.querySelector(".camera-still");
  const message = card.querySelector(".camera-still-message");
  const width = Math.min(960, Math.max(320, Math.round(card.clientWidth * (window.devicePixelRatio || 1))));
  try {
    const response = await fetch(`/api/camera_proxy/${encodeURIComponent(card.dataset.entityId)}?width=${width}`, {
      credentials: "same-origin",
      cache: "no-store",
    });
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      throw new Error(body?.error?.message || `HTTP ${response.status}`);
    }
    const url = URL.createObjectURL(await response.blob());
    await new Promise((resolve) => {
      image.onload = image.onerror = resolve;
      image.src = url;
    });
    if (card.dataset.objectUrl) URL.revokeObjectURL(card.dataset.objectUrl);
    card.dataset.objectUrl = url;
    image.hidden = false;
    message.textContent = "";
    card.dataset.stale = "false";
    card.dataset.loaded = "true";
  } catch (error) {
    card.dataset.stale = "true";
    message.textContent = t("camera.unavailable", { reason: error.message });
  }
}

function schedule(card) {
  if (!queue.includes(card)) queue.push(card);
  pump();
}

function pump() {
  while (running < PARALLEL && queue.length) {
    const card = queue.shift();
    running += 1;
    refresh(card).finally(() => {
      running -= 1;
      card.dataset.refreshedAt = String(Date.now());
      pump();
    });
  }
}

function tick() {
  if (document.hidden) return;
  const now = Date.now();
  for (const card of visible) {
    if (now - Number(card.dataset.refreshedAt || 0) >= REFRESH_MS) schedule(card);
  }
}

if (grid) {
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (entry.isIntersecting) {
        visible.add(entry.target);
        if (!entry.target.dataset.refreshedAt) schedule(entry.target);
      } else {
        visible.delete(entry.target);
      }
    }
  });
  for (const card of grid.querySelectorAll(".camera-card")) observer.observe(card);
  setInterval(tick, 1000);
  document.addEventListener("visibilitychange", tick);

  followEntities((states) => {
    for (const state of states) {
      if (!state.entity_id.startsWith("camera.")) continue;
      const badge = cardOf(state.entity_id)?.querySelector(".camera-state");
      if (!badge) continue;
      badge.className = `badge camera-state state-${stateClass(stateWord(state))}`;
      badge.textContent = displayState(state);
    }
  });
}
