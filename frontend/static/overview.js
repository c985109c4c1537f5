// Keeps the server-rendered overview live: polls /api/states and /api/health/summary every 2 s and updates the
// cards in place (new entities and domains come from the <template> elements of overview.html).
// No framework and no build step; everything the API sends is written with textContent, never as HTML.

const POLL_MS = 2000;
const REQUEST_TIMEOUT_MS = 5000;
const NO_VALUE_STATES = new Set(["unknown", "unavailable"]);

const entitiesRoot = document.getElementById("entities");
const live = document.getElementById("live");
const domainTemplate = document.getElementById("domain-template");
const entityTemplate = document.getElementById("entity-template");
const { titles, order, binary_sensor_words: binarySensorWords } = JSON.parse(document.getElementById("domains").textContent);

let lastSuccess = Date.now();
let timer = null;
let refreshing = false;

// ------------------------------------------------------------------------------------------- formatting

/** The same words as the server's relative_time filter. */
function relativeTime(epochSeconds) {
  const seconds = Math.max(0, Date.now() / 1000 - epochSeconds);
  if (seconds < 45) return "just now";
  if (seconds < 3600) return `${Math.max(1, Math.floor(seconds / 60))} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  const days = Math.floor(seconds / 86400);
  return days === 1 ? "1 day ago" : `${days} days ago`;
}

/** The same class suffix as the server's state_class filter. */
function stateClass(state) {
  return state.toLowerCase().replace(/[^a-z0-9_]+/g, "-").replace(/^-+|-+$/g, "") || "empty";
}

/** The same words as the server's state_word filter: a door's binary sensor reads open or closed. */
function stateWord(state) {
  const words = binarySensorWords[state.attributes.device_class];
  if (words && state.entity_id.startsWith("binary_sensor.") && (state.state === "on" || state.state === "off")) {
    return words[state.state === "on" ? 1 : 0];
  }
  return state.state;
}

function displayState(state) {
  const unit = state.attributes.unit_of_measurement;
  const word = stateWord(state);
  return unit && !NO_VALUE_STATES.has(word) ? `${word} ${unit}` : word;
}

function friendlyName(state) {
  return state.attributes.friendly_name || state.entity_id.split(".")[1].replaceAll("_", " ");
}

function domainTitle(domain) {
  return titles[domain] || domain.replaceAll("_", " ").replace(/^./, (c) => c.toUpperCase());
}

function domainRank(domain) {
  const index = order.indexOf(domain);
  return [index === -1 ? order.length : index, domain];
}

function compareRanks(a, b) {
  const [ra, rb] = [domainRank(a), domainRank(b)];
  return ra[0] - rb[0] || ra[1].localeCompare(rb[1]);
}

function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

// --------------------------------------------------------------------------------------------- entities

function domainSection(domain) {
  let section = entitiesRoot.querySelector(`section.domain[data-domain="${CSS.escape(domain)}"]`);
  if (section) return section;
  section = domainTemplate.content.firstElementChild.cloneNode(true);
  section.dataset.domain = domain;
  section.querySelector(".domain-title").textContent = domainTitle(domain);
  const next = [...entitiesRoot.querySelectorAll("section.domain")].find(
    (other) => compareRanks(domain, other.dataset.domain) < 0,
  );
  entitiesRoot.insertBefore(section, next || document.getElementById("empty"));
  return section;
}

function renderEntity(card, state) {
  const badge = card.querySelector(".badge");
  const changed = card.querySelector(".changed");
  const badgeClass = `badge state-${stateClass(stateWord(state))}`;
  if (card.dataset.lastChanged && card.dataset.lastChanged !== String(state.last_changed)) {
    card.classList.add("changed-now");
    setTimeout(() => card.classList.remove("changed-now"), 1500);
  }
  card.dataset.lastChanged = String(state.last_changed);
  setText(card.querySelector(".entity-name"), friendlyName(state));
  setText(badge, displayState(state));
  if (badge.className !== badgeClass) badge.className = badgeClass;
  changed.dataset.timestamp = String(state.last_changed);
  changed.dateTime = new Date(state.last_changed * 1000).toISOString();
  changed.title = new Date(state.last_changed * 1000).toLocaleString();
  setText(changed, relativeTime(state.last_changed));
}

function newCard(state) {
  const card = entityTemplate.content.firstElementChild.cloneNode(true);
  card.dataset.entityId = state.entity_id;
  card.querySelector(".entity-id").textContent = state.entity_id;
  return card;
}

function renderStates(states) {
  const cards = new Map([...entitiesRoot.querySelectorAll("article.entity")].map((card) => [card.dataset.entityId, card]));
  const byDomain = new Map();
  for (const state of states) {
    const domain = state.entity_id.split(".")[0];
    if (!byDomain.has(domain)) byDomain.set(domain, []);
    byDomain.get(domain).push(state);
  }
  for (const [domain, domainStates] of byDomain) {
    const section = domainSection(domain);
    const grid = section.querySelector(".grid");
    domainStates.sort((a, b) => friendlyName(a).localeCompare(friendlyName(b)) || a.entity_id.localeCompare(b.entity_id));
    const wanted = domainStates.map((state) => {
      const card = cards.get(state.entity_id) || newCard(state);
      cards.delete(state.entity_id);
      renderEntity(card, state);
      return card;
    });
    const current = [...grid.children];
    if (wanted.length !== current.length || wanted.some((card, index) => card !== current[index])) {
      grid.replaceChildren(...wanted);
    }
    setText(section.querySelector(".count"), String(domainStates.length));
  }
  for (const card of cards.values()) card.remove(); // entities that are gone
  for (const section of entitiesRoot.querySelectorAll("section.domain")) {
    if (!byDomain.has(section.dataset.domain)) section.remove();
  }
  document.getElementById("empty").hidden = states.length > 0;
  setText(document.getElementById("entity-count"), String(states.length));
}

// ------------------------------------------------------------------------------------------------ health

function renderSummary(summary) {
  for (const element of document.querySelectorAll("[data-summary]")) {
    const value = summary[element.dataset.summary];
    if (element.dataset.summary === "average_uptime") {
      setText(element, value === null || value === undefined ? "–" : `${value.toFixed(1)} %`);
    } else {
      setText(element, String(value ?? 0));
    }
  }
  let checked = 0;
  for (const [level, count] of Object.entries(summary.levels || {})) {
    checked += count;
    const label = document.querySelector(`[data-level="${CSS.escape(level)}"]`);
    if (label) setText(label, String(count));
    const segment = document.querySelector(`[data-level-segment="${CSS.escape(level)}"]`);
    if (segment) segment.style.flexGrow = String(count);
  }
  const bar = document.querySelector(".level-bar");
  if (bar) bar.dataset.empty = String(checked === 0);
}

// ------------------------------------------------------------------------------------------------ polling

async function fetchJson(path) {
  const response = await fetch(path, {
    headers: { Accept: "application/json" },
    cache: "no-store",
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

function setLive(state, text) {
  if (!live) return;
  live.dataset.state = state;
  setText(live.querySelector(".live-text"), text);
}

function tickTimes() {
  for (const element of entitiesRoot.querySelectorAll("time[data-timestamp]")) {
    const timestamp = Number(element.dataset.timestamp);
    if (timestamp) setText(element, relativeTime(timestamp));
  }
  setText(document.getElementById("updated"), relativeTime(lastSuccess / 1000));
}

async function refresh() {
  const hasHealth = document.querySelector("[data-summary]") !== null;
  try {
    const [states, summary] = await Promise.all([
      fetchJson("/api/states"),
      hasHealth ? fetchJson("/api/health/summary") : Promise.resolve(null),
    ]);
    renderStates(states);
    if (summary) renderSummary(summary);
    lastSuccess = Date.now();
    setLive("live", "Live");
  } catch (error) {
    console.warn("Gatehouse overview: refresh failed", error);
    setLive("lost", "Reconnecting…");
  }
  tickTimes();
}

async function loop() {
  if (refreshing) return; // the refresh in flight schedules the next one
  refreshing = true;
  clearTimeout(timer);
  timer = null;
  try {
    await refresh();
  } finally {
    refreshing = false;
  }
  if (!document.hidden) timer = setTimeout(loop, POLL_MS);
}

// Hidden tabs do not poll; coming back refreshes at once.
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) {
    loop();
    return;
  }
  clearTimeout(timer);
  timer = null;
  setLive("paused", "Paused");
});

timer = setTimeout(loop, POLL_MS);
