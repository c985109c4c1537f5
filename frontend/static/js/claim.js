// Claim a device by manufacturer + serial number: POST /api/devices/claim. 201 is a new claim (PENDING until the
// device connects, ACTIVE when it is already here), 200 a serial this tenant owns already, 409 another tenant's.

import { ApiError, api, busy, clearErrors, showErrors } from "./api.js";
import { t } from "./i18n.js";

const form = document.getElementById("claim-form");
const result = document.getElementById("claim-result");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const body = {
    manufacturer: form.elements.manufacturer.value,
    serial_number: form.elements.serial_number.value.trim(),
  };
  const name = form.elements.name.value.trim();
  if (name) body.name = name;
  if (!body.serial_number) {
    showErrors(form, new ApiError(400, { message: t("form.check_fields"), fields: { serial_number: t("form.required") } }));
    return;
  }
  await busy(form.querySelector("button[type=submit]"), async () => {
    try {
      const device = await api("POST", "/api/devices/claim", body);
      show(device);
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        error.message = t("claim.conflict");
        error.fields = { serial_number: t("claim.conflict") };
      }
      showErrors(form, error);
    }
  });
});

function show(device) {
  const status = device.status.toLowerCase();
  result.querySelector(".claim-result-name").textContent = device.name;
  result.querySelector(".claim-result-serial").textContent = `${device.manufacturer} · ${device.serial_number}`;
  const badge = result.querySelector(".claim-result-status");
  badge.textContent = t(`device.status.${status}`);
  badge.className = `badge status-badge status-${status} claim-result-status`;
  result.querySelector(".claim-result-hint").textContent = t(`claim.hint.${status}`);
  result.querySelector(".claim-result-link").href = `/devices/${encodeURIComponent(device.id)}`;
  result.hidden = false;
  form.reset();
  result.querySelector("h2").focus?.();
}
