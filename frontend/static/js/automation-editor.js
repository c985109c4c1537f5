// The YAML editor: save sends the text as it is (POST for a new automation, PUT for an existing one); a 400
// lists each refused key with its line and reason under the text box. Delete asks first.

import { ApiError, api, busy, clearErrors, errorMessage, toast } from "./api.js";
import { t } from "./i18n.js";

const form = document.getElementById("automation-editor");
const list = document.getElementById("automation-field-errors");
const general = document.getElementById("automation-error");
const automationId = form?.dataset.automationId || "";

function clear() {
  clearErrors(form);
  list.replaceChildren();
  list.hidden = true;
}

/** Every refused key as "key: line N: reason"; a YAML syntax error under the text box itself. */
function show(error) {
  clear();
  const fields = error instanceof ApiError ? error.fields : {};
  const entries = Object.entries(fields);
  for (const [key, reason] of entries) {
    const item = document.createElement("li");
    item.className = "automation-field-error";
    item.dataset.key = key;
    const code = document.createElement("code");
    code.textContent = key;
    const text = document.createElement("span");
    text.className = "error-text";
    text.textContent = ` ${reason}`;
    item.append(code, text);
    list.append(item);
  }
  list.hidden = entries.length === 0;
  if (!entries.length) {
    general.textContent = errorMessage(error);
    general.hidden = false;
  }
  form.elements.yaml.setAttribute("aria-invalid", "true");
  form.elements.yaml.focus();
}

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  await busy(button, async () => {
    clear();
    const body = { yaml: form.elements.yaml.value };
    try {
      const saved = automationId
        ? await api("PUT", `/api/automations/${encodeURIComponent(automationId)}`, body)
        : await api("POST", "/api/automations", body);
      toast(t("automations.editor.saved"));
      if (!automationId) location.assign(`/automations/${encodeURIComponent(saved.id)}`);
    } catch (error) {
      show(error);
    }
  });
});

document.getElementById("automation-delete")?.addEventListener("click", async (event) => {
  if (!confirm(t("automations.editor.confirm_delete"))) return;
  await busy(event.currentTarget, async () => {
    try {
      await api("DELETE", `/api/automations/${encodeURIComponent(automationId)}`);
      location.assign("/automations");
    } catch (error) {
      toast(errorMessage(error), "bad");
    }
  });
});
