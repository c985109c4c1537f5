// How states and times read: the same rules as hub/http/pages/formatting.py, so a live update writes exactly
// what the server rendered. Dates and times use Intl in the browser's locale.

import { lang, t, tOr } from "./i18n.js";

export const BINARY_SENSOR_WORDS = {
  connectivity: ["disconnected", "connected"],
  door: ["closed", "open"],
  lock: ["locked", "unlocked"],
  motion: ["clear", "detected"],
  occupancy: ["clear", "detected"],
  opening: ["closed", "open"],
  problem: ["ok", "problem"],
  tamper: ["clear", "tampered"],
};
const NO_VALUE_STATES = new Set(["unknown", "unavailable"]);

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayAndTime = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

export function stateWord(state) {
  if (state.entity_id.startsWith("binary_sensor.") && (state.state === "on" || state.state === "off")) {
    const words = BINARY_SENSOR_WORDS[state.attributes?.device_class];
    if (words) return words[state.state === "on" ? 1 : 0];
  }
  return state.state;
}

export function stateClass(word) {
  return String(word).toLowerCase().replace(/[^a-z0-9_]+/g, "-").replace(/^-+|-+$/g, "") || "empty";
}

export function translatedWord(word) {
  return tOr(`state.${word}`, word);
}

export function displayState(state) {
  const unit = state.attributes?.unit_of_measurement;
  const word = stateWord(state);
  const text = translatedWord(word);
  return unit && !NO_VALUE_STATES.has(word) ? `${text} ${unit}` : text;
}

export function friendlyName(state) {
  return state.attributes?.friendly_name || state.entity_id.split(".")[1].replaceAll("_", " ");
}

/** The same words as the server's relative_time filter. */
export function relativeTime(epochSeconds) {
  const seconds = Math.max(0, Date.now() / 1000 - epochSeconds);
  if (seconds < 45) return t("time.just_now");
  if (seconds < 3600) return t("time.minutes_ago", { n: Math.max(1, Math.floor(seconds / 60)) });
  if (seconds < 86400) return t("time.hours_ago", { n: Math.floor(seconds / 3600) });
  const days = Math.floor(seconds / 86400);
  return days === 1 ? t("time.day_ago") : t("time.days_ago", { n: days });
}

export function formatDateTime(epochSeconds) {
  return dateTime.format(new Date(epochSeconds * 1000));
}

export function formatAxisTime(epochSeconds, spanSeconds) {
  return (spanSeconds > 86400 ? dayAndTime : timeOnly).format(new Date(epochSeconds * 1000));
}

export function formatNumber(value) {
  return numberFormat.format(value);
}

/** Write every <time data-timestamp> under root: absolute ones in the browser's locale, relative ones as words. */
export function formatTimes(root = document) {
  for (const element of root.querySelectorAll("time[data-timestamp]")) {
    const timestamp = Number(element.dataset.timestamp);
    if (!timestamp) continue;
    const absolute = formatDateTime(timestamp);
    const text = element.classList.contains("relative") ? relativeTime(timestamp) : absolute;
    if (element.textContent !== text) element.textContent = text;
    element.title = absolute;
  }
}

/** A table cell labelled for the phone layout (where rows become cards), holding text or a node. */
export function cell(label, content) {
  const td = document.createElement("td");
  td.dataset.label = label;
  if (content instanceof Node) td.append(content);
  else td.textContent = content;
  return td;
}

export { lang };
