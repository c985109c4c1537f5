// The tenant's people (administrators): add one (with a card number and a PIN if given), enable or disable,
// delete. The hub pushes each change to every terminal of the tenant; the page reloads to show the result.

import { api, busy, clearErrors, errorMessage, showErrors, toast } from "/static/js/api.js";
import { t } from "/static/js/i18n.js";

const form = document.getElementById("person-form");
form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const value = (name) => form.elements[name]?.value.trim() ?? "";
  const body = { enrollid: Number(value("enrollid")), name: value("name"), admin: Number(value("admin") || 0) };
  if (!/^\d+$/.test(value("enrollid"))) body.enrollid = value("enrollid"); // the API names the problem
  const credentials = [];
  if (value("card")) credentials.push({ backupnum: 11, record: /^\d+$/.test(value("card")) ? Number(value("card")) : value("card") });
  if (value("pin")) credentials.push({ backupnum: 10, record: /^\d+$/.test(value("pin")) ? Number(value("pin")) : value("pin") });
  if (credentials.length) body.credentials = credentials;
  if (form.elements.tenant_id) body.tenant_id = value("tenant_id");
  await busy(form.querySelector("button[type=submit]"), async () => {
    try {
      await api("POST", "/api/tm20/people", body);
      toast(t("tm20.people.added"));
      location.reload();
    } catch (error) {
      showErrors(form, error);
    }
  });
});

document.addEventListener("click", (event) => {
  const toggle = event.target.closest("button[data-toggle-person]");
  if (toggle) {
    busy(toggle, async () => {
      try {
        const enabled = toggle.dataset.enabled !== "true";
        await api("PATCH", `/api/tm20/people/${encodeURIComponent(toggle.dataset.togglePerson)}`, { enabled });
        location.reload();
      } catch (error) {
        toast(errorMessage(error), "bad");
      }
    });
    return;
  }
  const remove = event.target.closest("button[data-delete-person]");
  if (remove) {
    busy(remove, async () => {
      if (!confirm(remove.dataset.confirm)) return;
      try {
        await api("DELETE", `/api/tm20/people/${encodeURIComponent(remove.dataset.deletePerson)}`);
        location.reload();
      } catch (error) {
        toast(errorMessage(error), "bad");
      }
    });
  }
});
