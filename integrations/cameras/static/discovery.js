// Discovery: start a subnet scan, follow its progress every second until it ends (or is stopped), list what
// answered; ONVIF WS-Discovery lists cameras that announce themselves. "Add" opens the wizard pre-filled.

import { api, busy, clearErrors, errorMessage, showErrors, toast } from "/static/js/api.js";
import { t } from "/static/js/i18n.js";
import { cell } from "/static/js/format.js";

const scanForm = document.getElementById("scan-form");
const stopButton = document.getElementById("scan-stop");
const bar = document.getElementById("scan-bar");
const statusLine = document.getElementById("scan-status");
const found = document.querySelector("#scan-results tbody");
let jobId = null;
let timer = null;

function addLink(host, manufacturer, port) {
  const link = document.createElement("a");
  link.className = "button button-quiet";
  const query = new URLSearchParams({ host });
  if (manufacturer) query.set("manufacturer", manufacturer);
  if (port) query.set("onvif_port", port);
  link.href = `/cameras/add?${query}`;
  link.textContent = t("cameras.discovery.add");
  return link;
}

function render(job) {
  bar.value = job.progress;
  statusLine.textContent = t(`cameras.discovery.status.${job.status}`, { scanned: job.scanned_hosts, total: job.total_hosts, found: job.devices.length });
  found.replaceChildren();
  for (const device of job.devices) {
    const row = document.createElement("tr");
    row.dataset.host = device.host;
    const services = device.services.map((service) => `${service.port}/${service.protocol}${service.server ? ` (${service.server})` : ""}`).join(", ");
    const onvifService = device.services.find((service) => service.protocol === "onvif");
    row.append(
      cell(t("cameras.host"), device.host),
      cell(t("cameras.discovery.services"), services),
      cell(t("cameras.manufacturer"), device.manufacturer || "–"),
      cell("ONVIF", device.onvif ? "✓" : "–"),
      cell(t("cameras.actions"), addLink(device.host, device.manufacturer, onvifService?.port)),
    );
    found.append(row);
  }
  document.getElementById("scan-empty").hidden = job.devices.length > 0;
  const running = job.status === "running";
  stopButton.hidden = !running;
  if (!running) {
    clearInterval(timer);
    timer = null;
  }
}

async function poll() {
  if (!jobId) return;
  try {
    render(await api("GET", `/api/discovery/scan/${encodeURIComponent(jobId)}`));
  } catch (error) {
    clearInterval(timer);
    timer = null;
    toast(errorMessage(error), "bad");
  }
}

scanForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(scanForm);
  const ports = scanForm.elements.ports.value.split(/[\s,]+/).filter(Boolean).map((port) => (/^\d+$/.test(port) ? Number(port) : port));
  const body = { cidr: scanForm.elements.cidr.value.trim() };
  if (ports.length) body.ports = ports;
  await busy(document.getElementById("scan-start"), async () => {
    try {
      const job = await api("POST", "/api/discovery/scan", body);
      jobId = job.id;
      document.getElementById("scan-progress").hidden = false;
      render(job);
      clearInterval(timer);
      timer = setInterval(poll, 1000);
    } catch (error) {
      showErrors(scanForm, error);
    }
  });
});

stopButton.addEventListener("click", () =>
  busy(stopButton, async () => {
    try {
      render(await api("DELETE", `/api/discovery/scan/${encodeURIComponent(jobId)}`));
    } catch (error) {
      toast(errorMessage(error), "bad");
    }
  }),
);

const onvifForm = document.getElementById("onvif-form");
onvifForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(onvifForm);
  const address = onvifForm.elements.address.value.trim();
  await busy(document.getElementById("onvif-start"), async () => {
    try {
      const devices = await api("POST", "/api/discovery/onvif", address ? { address } : {});
      const table = document.getElementById("onvif-results");
      const body = table.querySelector("tbody");
      body.replaceChildren();
      for (const device of devices) {
        const row = document.createElement("tr");
        row.dataset.endpoint = device.endpoint;
        row.append(
          cell(t("cameras.name"), device.name || device.endpoint),
          cell(t("cameras.host"), `${device.host}:${device.port}`),
          cell(t("cameras.discovery.hardware"), device.hardware || "–"),
          cell(t("cameras.actions"), addLink(device.host, device.manufacturer, device.port)),
        );
        body.append(row);
      }
      table.hidden = false;
      toast(t("cameras.discovery.onvif_found", { n: devices.length }));
    } catch (error) {
      showErrors(onvifForm, error);
    }
  });
});
