// Calls to the REST API with the session cookies. Every error answer has one shape,
// {"error": {"code", "message", "fields"}}; ApiError carries it, plus Retry-After for 429.

import { t } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, error, retryAfter) {
    super(error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = error?.code || "";
    this.fields = error?.fields || {};
    this.retryAfter = retryAfter;
  }
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    cache: "no-store",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const retryAfter = Number(response.headers.get("Retry-After")) || undefined;
    if (response.status === 401 && !path.startsWith("/api/auth/login") && !path.startsWith("/api/onboarding")) {
      location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    }
    throw new ApiError(response.status, data?.error, retryAfter);
  }
  return data;
}

/** A message for people: the API's own for 4xx (it names the problem), a generic one otherwise. */
export function errorMessage(error) {
  if (error instanceof ApiError) {
    if (error.status === 403) return t("error.forbidden.message");
    if (error.status === 404) return t("error.not_found.message");
    if (error.status >= 500) return t("error.server");
    return error.message;
  }
  return t("error.network");
}

export function clearErrors(form) {
  for (const element of form.querySelectorAll(".field-error, .form-error")) {
    element.hidden = true;
    element.textContent = "";
  }
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

/** Show a 400's "fields" next to each field (data.host -> the field named host); the rest at the form's foot. */
export function showErrors(form, error) {
  clearErrors(form);
  const leftover = [];
  const fields = error instanceof ApiError ? error.fields : {};
  for (const [path, message] of Object.entries(fields)) {
    const name = path.replace(/^data\./, "");
    const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    if (slot) {
      slot.textContent = message;
      slot.hidden = false;
      const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
      if (input) {
        input.setAttribute("aria-invalid", "true");
        if (slot.id) input.setAttribute("aria-describedby", slot.id);
      }
    } else {
      leftover.push(`${name}: ${message}`);
    }
  }
  const general = form.querySelector(".form-error");
  if (general && (leftover.length || !Object.keys(fields).length)) {
    general.textContent = [errorMessage(error), ...leftover].join(" · ");
    general.hidden = false;
  }
  form.querySelector("[aria-invalid]")?.focus();
}

let toastTimer = null;

export function toast(message, tone = "ok") {
  const element = document.getElementById("toast");
  if (!element) return;
  element.textContent = message;
  element.dataset.tone = tone;
  element.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (element.hidden = true), 4000);
}

/** Disable a button while its request runs, so a double click sends one request. */
export async function busy(button, work) {
  if (button.disabled) return undefined;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/** Fetch this page again and swap one element for its fresh server rendering (tables after an action). */
export async function refreshFromServer(selector) {
  const response = await fetch(location.href, { credentials: "same-origin", cache: "no-store" });
  if (!response.ok) return false;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html").querySelector(selector);
  const current = document.querySelector(selector);
  if (!fresh || !current) return false;
  current.replaceWith(document.importNode(fresh, true));
  return true;
}
