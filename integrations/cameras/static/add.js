// The add-camera wizard: auto-detect (ONVIF first, then the brand's URL templates), show every result, let the
// user pick one (the recommended one is pre-selected), then save it as a config entry of the cameras integration.
// The password typed in step 1 is sent again in step 2: the API never returns it.

import { api, busy, clearErrors, errorMessage, showErrors, toast } from "/static/js/api.js";
import { t } from "/static/js/i18n.js";
import { cell } from "/static/js/format.js";

const page = JSON.parse(document.getElementById("cameras-page").textContent);
const detectForm = document.getElementById("detect-form");
const cameraForm = document.getElementById("camera-form");
const results = document.querySelector("#detect-results tbody");
const status = document.getElementById("detect-status");
const notes = document.getElementById("manufacturer-notes");

const value = (form, name) => form.elements[name]?.value.trim() ?? "";

function showNotes() {
  const key = value(detectForm, "manufacturer");
  const profile = page.manufacturers.find((item) => item.key === key);
  notes.textContent = profile?.notes || "";
  notes.hidden = !profile?.notes;
}
detectForm.elements.manufacturer.addEventListener("change", showNotes);
showNotes();

/** Fill the save form from a result's ``config`` (the entry fields, without the password). */
function choose(config) {
  for (const [name, fieldValue] of Object.entries(config)) {
    const input = cameraForm.elements[name];
    if (input && fieldValue !== null && fieldValue !== undefined) input.value = String(fieldValue);
  }
  cameraForm.elements.password.value = detectForm.elements.password.value;
  cameraForm.elements.url.value = "";
  if (!value(cameraForm, "name")) cameraForm.elements.name.value = `${t("cameras.camera")} ${config.host || ""}`.trim();
}

function resultRow(result, recommended) {
  const row = document.createElement("tr");
  row.dataset.success = String(result.success);
  const pick = document.createElement("input");
  pick.type = "radio";
  pick.name = "pick";
  pick.disabled = !result.success;
  pick.checked = recommended;
  pick.setAttribute("aria-label", t("cameras.add.choose"));
  pick.addEventListener("change", () => choose(result.config));
  row.append(
    cell(t("cameras.add.choose"), pick),
    cell(t("cameras.connection_type"), `${t(`cameras.type.${result.connection_type}`)}${result.source === "onvif" ? " (ONVIF)" : ""}`),
    cell(t("cameras.stream"), result.stream),
    cell("URL", result.url),
    cell(t("cameras.resolution"), result.resolution || "–"),
    cell("fps", result.fps ?? "–"),
    cell(t("cameras.response_time"), result.response_time_ms === null ? "–" : `${Math.round(result.response_time_ms)} ms`),
  );
  const outcome = document.createElement("span");
  outcome.className = `badge ${result.success ? "state-connected" : "state-offline"}`;
  outcome.textContent = result.success ? (recommended ? t("cameras.add.recommended") : t("cameras.add.works")) : result.error || t("cameras.add.failed");
  row.append(cell(t("cameras.result"), outcome));
  return row;
}

detectForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(detectForm);
  const body = { host: value(detectForm, "host"), username: value(detectForm, "username"), password: detectForm.elements.password.value };
  for (const name of ["manufacturer", "port", "onvif_port"]) if (value(detectForm, name)) body[name] = value(detectForm, name);
  status.textContent = t("cameras.add.detecting");
  await busy(document.getElementById("detect-button"), async () => {
    try {
      const detection = await api("POST", "/api/discovery/auto-detect", body);
      results.replaceChildren();
      const best = detection.recommended;
      for (const result of detection.all_results) {
        const isBest = best !== null && result.url === best.url && result.stream === best.stream;
        results.append(resultRow(result, isBest));
      }
      document.getElementById("results-card").hidden = false;
      const onvif = detection.onvif || {};
      document.getElementById("onvif-summary").textContent = t(`cameras.onvif.${onvif.status || "skipped"}`, {
        device: onvif.device ? `${onvif.device.manufacturer} ${onvif.device.model}` : "",
      });
      if (best) {
        choose(best.config);
        status.textContent = t("cameras.add.found", { n: detection.all_results.filter((r) => r.success).length });
      } else {
        status.textContent = t("cameras.add.nothing");
      }
    } catch (error) {
      status.textContent = "";
      showErrors(detectForm, error);
    }
  });
});

cameraForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(cameraForm);
  const data = {};
  for (const name of ["name", "connection_type", "host", "path", "manufacturer", "stream", "rtsp_transport", "username", "snapshot_url", "url"]) {
    if (value(cameraForm, name)) data[name] = value(cameraForm, name);
  }
  for (const name of ["port", "channel"]) if (value(cameraForm, name)) data[name] = /^\d+$/.test(value(cameraForm, name)) ? Number(value(cameraForm, name)) : value(cameraForm, name);
  if (cameraForm.elements.password.value) data.password = cameraForm.elements.password.value;
  if (data.url) {
    // A whole URL says everything: the form's other connection fields would contradict it.
    for (const name of ["connection_type", "host", "port", "path"]) delete data[name];
  }
  const body = { domain: "cameras", data, title: data.name };
  if (cameraForm.elements.tenant_id) body.tenant_id = value(cameraForm, "tenant_id");
  await busy(document.getElementById("save-camera"), async () => {
    try {
      const entry = await api("POST", "/api/config_entries", body);
      toast(entry.state === "loaded" ? t("cameras.add.saved") : t("cameras.add.saved_not_ready"));
      location.assign("/cameras/setup");
    } catch (error) {
      showErrors(cameraForm, error);
      if (!(error?.fields && Object.keys(error.fields).length)) toast(errorMessage(error), "bad");
    }
  });
});

