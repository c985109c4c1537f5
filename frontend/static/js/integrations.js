// The integrations page: reload / remove a config entry, and "add" with a form built from the integration's
// config-entry schema (voluptuous-serialize: string, integer, float, boolean, select). A 400 answer's "fields"
// map is shown next to each field.

import { ApiError, api, busy, clearErrors, errorMessage, showErrors, toast } from "./api.js";
import { t } from "./i18n.js";

const forms = JSON.parse(document.getElementById("entry-forms").textContent);
const panel = document.getElementById("add-entry");
const form = document.getElementById("add-entry-form");
const fieldset = document.getElementById("schema-fields");
const openButton = document.getElementById("add-entry-open");

function fieldLabel(name) {
  const words = name.replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** One input for one serialised field; returns the wrapper with label, hint and error slot. */
function buildField(field) {
  const id = `entry-field-${field.name}`;
  const wrapper = document.createElement("div");
  wrapper.className = field.type === "boolean" ? "field field-check" : "field";
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = fieldLabel(field.name);
  if (!field.required) {
    const optional = document.createElement("span");
    optional.className = "muted";
    optional.textContent = ` (${t("form.optional")})`;
    label.append(optional);
  }
  let input;
  if (field.type === "select") {
    input = document.createElement("select");
    for (const option of field.options || []) {
      const [value, text] = Array.isArray(option) ? option : [option, option];
      input.append(new Option(text, value, false, value === field.default));
    }
  } else {
    input = document.createElement("input");
    if (field.type === "boolean") {
      input.type = "checkbox";
      input.checked = Boolean(field.default);
    } else if (field.type === "integer" || field.type === "float") {
      input.type = "number";
      input.step = field.type === "integer" ? "1" : "any";
      if (field.valueMin !== undefined) input.min = field.valueMin;
      if (field.valueMax !== undefined) input.max = field.valueMax;
    } else {
      input.type = /password|secret|token/.test(field.name) ? "password" : "text";
      input.autocomplete = "off";
    }
    if (field.type !== "boolean" && field.default !== undefined) input.value = field.default;
  }
  input.id = id;
  input.name = field.name;
  input.dataset.type = field.type;
  input.className = field.type === "boolean" ? "checkbox" : "input";
  if (field.required) input.required = true;
  const error = document.createElement("p");
  error.className = "field-error";
  error.id = `${id}-error`;
  error.dataset.errorFor = field.name;
  error.hidden = true;
  if (field.type === "boolean") wrapper.append(input, label, error);
  else wrapper.append(label, input, error);
  if (field.description) {
    const hint = document.createElement("p");
    hint.className = "hint";
    hint.textContent = field.description;
    wrapper.insertBefore(hint, error);
  }
  return wrapper;
}

function renderFields() {
  const domain = form.elements.domain.value;
  const fields = forms[domain]?.fields || [];
  fieldset.replaceChildren(...fields.map(buildField));
  const hint = document.createElement("p");
  hint.className = "muted small";
  hint.textContent = fields.length ? "" : t("integrations.no_settings");
  if (!fields.length) fieldset.append(hint);
}

/** The form's values as the schema expects them; empty optional fields are left out (their default applies). */
function values() {
  const data = {};
  for (const input of fieldset.querySelectorAll("[name]")) {
    const type = input.dataset.type;
    if (type === "boolean") {
      data[input.name] = input.checked;
      continue;
    }
    if (input.value === "" && !input.required) continue;
    if ((type === "integer" || type === "float") && input.value !== "" && Number.isFinite(Number(input.value))) {
      data[input.name] = Number(input.value);
    } else {
      data[input.name] = input.value;
    }
  }
  return data;
}

if (form) {
  form.elements.domain.addEventListener("change", renderFields);
  openButton?.addEventListener("click", () => {
    panel.hidden = false;
    renderFields();
    form.elements.domain.focus();
  });
  document.getElementById("add-entry-cancel").addEventListener("click", () => {
    panel.hidden = true;
    clearErrors(form);
    openButton?.focus();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = { domain: form.elements.domain.value, data: values() };
    const title = form.elements.title.value.trim();
    if (title) body.title = title;
    await busy(form.querySelector("button[type=submit]"), async () => {
      try {
        await api("POST", "/api/config_entries", body);
        location.reload();
      } catch (error) {
        showErrors(form, error);
      }
    });
  });
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-entry]");
  if (!button) return;
  const entry = encodeURIComponent(button.dataset.entry);
  busy(button, async () => {
    if (button.dataset.action === "remove" && !confirm(button.dataset.confirm)) return;
    try {
      if (button.dataset.action === "remove") await api("DELETE", `/api/config_entries/${entry}`);
      else await api("POST", `/api/config_entries/${entry}/reload`);
      location.reload();
    } catch (error) {
      toast(error instanceof ApiError ? errorMessage(error) : t("error.network"), "bad");
    }
  });
});
