// Visitors: register one (the GDPR consent box must be ticked: the hub refuses a visitor without it and says so
// next to the box), with an optional photo sent as base64; erase one on request, after a confirmation.

import { api, busy, clearErrors, errorMessage, showErrors, toast } from "/static/js/api.js";
import { t } from "/static/js/i18n.js";

/** The chosen file as base64 without the "data:...;base64," prefix (what the API takes), or null. */
function photoBase64(input) {
  const file = input?.files?.[0];
  if (!file) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

const form = document.getElementById("visitor-form");
form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const value = (name) => form.elements[name]?.value.trim() ?? "";
  const body = { last_name: value("last_name"), consent: form.elements.consent.checked };
  for (const name of ["first_name", "email", "phone", "id_document", "tenant_id"]) {
    if (value(name)) body[name] = value(name);
  }
  await busy(form.querySelector("button[type=submit]"), async () => {
    try {
      const photo = await photoBase64(form.elements.photo);
      if (photo) body.photo = photo;
      await api("POST", "/api/stations/visitors", body);
      toast(t("stations.visitors.added"));
      location.reload();
    } catch (error) {
      showErrors(form, error);
    }
  });
});

document.addEventListener("click", (event) => {
  const erase = event.target.closest("button[data-erase-visitor]");
  if (!erase) return;
  busy(erase, async () => {
    if (!confirm(erase.dataset.confirm)) return;
    try {
      await api("DELETE", `/api/stations/visitors/${encodeURIComponent(erase.dataset.eraseVisitor)}`);
      toast(t("stations.visitors.erased_done"));
      location.reload();
    } catch (error) {
      toast(errorMessage(error), "bad");
    }
  });
});
