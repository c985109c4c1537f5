// Translations: the page embeds the strings of its language (frontend/locales/<lang>.json, English filling the
// gaps) in <script id="strings">, so scripts and templates read the same words for the same keys.

const element = document.getElementById("strings");
const strings = element ? JSON.parse(element.textContent) : {};

/** The page's language (<html lang>), for Intl formatters of words; dates use the browser's own locale. */
export const lang = document.documentElement.lang || "en";

/** t("time.minutes_ago", { n: 5 }) -> "5 min ago"; a missing key reads as itself. */
export function t(key, params = {}) {
  const text = strings[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in params ? String(params[name]) : match));
}

/** The string for key, or fallback when there is none (event types and states we have no word for). */
export function tOr(key, fallback) {
  return key in strings ? strings[key] : fallback;
}
