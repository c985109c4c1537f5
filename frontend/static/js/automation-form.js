// A new automation from a blueprint: choosing a blueprint reloads the page with its form; submitting posts
// {alias, use_blueprint: {path, input}} to /api/automations. A refused input ("use_blueprint.input.door" or
// "input.door") is shown next to its field; other reasons at the form's foot.

import { ApiError, api, busy, clearErrors, showErrors, toast } from "./api.js";
import { t } from "./i18n.js";

const picker = document.getElementById("blueprint-picker");
picker?.elements.blueprint.addEventListener("change", () => {
  if (picker.elements.blueprint.value) picker.submit();
});

const form = document.getElementById("blueprint-form");

/** "01:30" or "01:30:15" as {hours, minutes, seconds}; anything else is sent as typed (the API says why). */
function duration(text) {
  const parts = text.split(":").map(Number);
  if (parts.length < 2 || parts.length > 3 || parts.some((part) => !Number.isInteger(part))) return text;
  const [hours, minutes, seconds = 0] = parts;
  return { hours, minutes, seconds };
}

function valueOf(element) {
  const type = element.dataset.type;
  if (type === "boolean") return element.checked;
  if (element.multiple) return [...element.selectedOptions].map((option) => option.value);
  const text = element.value.trim();
  if (element.dataset.multiple === "true") return text.split(",").map((item) => item.trim()).filter(Boolean);
  if (text === "") return undefined;
  if (type === "number") return Number.isFinite(Number(text)) ? Number(text) : text;
  if (type === "duration") return duration(text);
  if (type === "object") {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function inputs() {
  const values = {};
  for (const element of form.querySelectorAll("#blueprint-inputs [name]")) {
    const value = valueOf(element);
    if (value !== undefined && !(Array.isArray(value) && value.length === 0)) values[element.name] = value;
  }
  return values;
}

/** The API names inputs by their dotted key; the form by the input's name. */
function byField(error) {
  if (!(error instanceof ApiError)) return error;
  const fields = {};
  for (const [key, reason] of Object.entries(error.fields)) {
    const match = key.match(/(?:^|\.)input\.([^.]+)/);
    fields[match ? match[1] : key] = reason;
  }
  error.fields = fields;
  return error;
}

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const alias = form.elements.alias.value.trim();
  if (!alias) {
    showErrors(form, new ApiError(400, { message: t("form.check_fields"), fields: { alias: t("form.required") } }));
    return;
  }
  const body = { alias, use_blueprint: { path: form.dataset.path, input: inputs() } };
  await busy(form.querySelector("button[type=submit]"), async () => {
    try {
      const automation = await api("POST", "/api/automations", body);
      toast(t("automations.new.created"));
      location.assign(`/automations#${encodeURIComponent(automation.id)}`);
    } catch (error) {
      showErrors(form, byField(error));
    }
  });
});
