// Keeps the server-rendered overview live through the WebSocket API: subscribe_entities gives every state of
// the tenant, then compressed diffs; rows update in place, new entities join "Other entities", and a change of
// a health entity refreshes the summary strip.

import { followEntities } from "./live.js";
import { refreshSummarySoon, removeRows, renderEntityRow, renderStates } from "./entities.js";

const known = new Set([...document.querySelectorAll("[data-entity-id]")].map((element) => element.dataset.entityId));
const hidden = new Set(JSON.parse(document.getElementById("known-entities")?.textContent || "[]"));
const loose = document.getElementById("loose");
const template = document.getElementById("entity-row-template");

function addRow(state) {
  const row = template.content.firstElementChild.cloneNode(true);
  row.dataset.entityId = state.entity_id;
  renderEntityRow(row, state);
  loose.querySelector(".entity-list").append(row);
  loose.hidden = false;
  document.getElementById("empty").hidden = true;
  known.add(state.entity_id);
}

followEntities((states, removed) => {
  for (const state of states) {
    if (!known.has(state.entity_id) && !hidden.has(state.entity_id)) addRow(state);
  }
  if (renderStates(states) || states.some((state) => state.entity_id.endsWith("_health"))) refreshSummarySoon();
  removeRows(removed);
});
