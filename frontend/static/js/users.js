// Users and API keys of the tenant (administrators): create a user, change a role, disable or enable; create an
// API key (its secret is shown once, here, and never again) and revoke one.

import { api, busy, clearErrors, errorMessage, showErrors, toast } from "./api.js";
import { t } from "./i18n.js";

const userForm = document.getElementById("user-form");
userForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(userForm);
  const body = {
    username: userForm.elements.username.value.trim(),
    name: userForm.elements.name.value.trim(),
    password: userForm.elements.password.value,
    role: userForm.elements.role.value,
  };
  if (!body.name) delete body.name;
  await busy(userForm.querySelector("button[type=submit]"), async () => {
    try {
      await api("POST", "/api/users", body);
      location.reload();
    } catch (error) {
      showErrors(userForm, error);
    }
  });
});

for (const select of document.querySelectorAll("select[data-role-for]")) {
  let previous = select.value;
  select.addEventListener("change", async () => {
    try {
      await api("PATCH", `/api/users/${encodeURIComponent(select.dataset.roleFor)}`, { role: select.value });
      previous = select.value;
      toast(t("users.role_changed"));
    } catch (error) {
      select.value = previous;
      toast(errorMessage(error), "bad");
    }
  });
}

document.addEventListener("click", (event) => {
  const toggle = event.target.closest("button[data-toggle-user]");
  if (toggle) {
    busy(toggle, async () => {
      try {
        const disabled = toggle.dataset.disabled !== "true";
        await api("PATCH", `/api/users/${encodeURIComponent(toggle.dataset.toggleUser)}`, { disabled });
        location.reload();
      } catch (error) {
        toast(errorMessage(error), "bad");
      }
    });
    return;
  }
  const revoke = event.target.closest("button[data-revoke]");
  if (revoke) {
    busy(revoke, async () => {
      if (!confirm(revoke.dataset.confirm)) return;
      try {
        await api("DELETE", `/api/api_keys/${encodeURIComponent(revoke.dataset.revoke)}`);
        location.reload();
      } catch (error) {
        toast(errorMessage(error), "bad");
      }
    });
  }
});

const keyForm = document.getElementById("key-form");
const secretPanel = document.getElementById("key-secret");
keyForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(keyForm);
  const body = { name: keyForm.elements.name.value.trim(), role: keyForm.elements.role.value };
  await busy(keyForm.querySelector("button[type=submit]"), async () => {
    try {
      const created = await api("POST", "/api/api_keys", body);
      document.getElementById("key-secret-value").textContent = created.secret || created.key || "";
      secretPanel.hidden = false;
      keyForm.reset();
      keyForm.closest("details").open = false;
      secretPanel.scrollIntoView({ block: "nearest" });
    } catch (error) {
      showErrors(keyForm, error);
    }
  });
});

document.getElementById("key-secret-copy").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(document.getElementById("key-secret-value").textContent);
    toast(t("keys.copied"));
  } catch {
    toast(t("keys.copy_failed"), "bad");
  }
});
