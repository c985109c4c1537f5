// The Hikvision pages: claim by serial (admins), door buttons and gateway sync (operators), and access records
// live. New records arrive through subscribe_events ("access" for scans, "hikvision_event" for door and alarm
// records) and are added on top of the server-rendered table; the page's device (if any) filters them.

import { ApiError, api, busy, clearErrors, errorMessage, showErrors, toast } from "/static/js/api.js";
import { cell } from "/static/js/format.js";
import { t, tOr } from "/static/js/i18n.js";
import { connection } from "/static/js/live.js";

const context = JSON.parse(document.getElementById("hikvision-context").textContent);
const MAX_ROWS = 200;

// ---------------------------------------------------------------------------------------------------- claim

const claim = document.getElementById("hikvision-claim");
claim?.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(claim);
  const body = { serial: claim.elements.serial.value.trim() };
  const name = claim.elements.name.value.trim();
  if (name) body.name = name;
  if (claim.elements.tenant_id) body.tenant_id = claim.elements.tenant_id.value;
  if (!body.serial) {
    showErrors(claim, new ApiError(400, { message: t("form.check_fields"), fields: { serial: t("form.required") } }));
    return;
  }
  await busy(claim.querySelector("button[type=submit]"), async () => {
    try {
      const device = await api("POST", "/api/hikvision/claim", body);
      document.getElementById("claim-result").textContent = t(`hikvision.claim.done.${device.status.toLowerCase()}`, {
        serial: device.serial,
      });
      claim.reset();
      setTimeout(() => location.reload(), 1200);
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        error.fields = { serial: t("hikvision.claim.conflict") };
      }
      showErrors(claim, error);
    }
  });
});

// ---------------------------------------------------------------------------------------------- doors, sync

document.addEventListener("click", (event) => {
  const door = event.target.closest("button[data-door-command]");
  if (door) {
    busy(door, async () => {
      const result = document.getElementById("door-result");
      const command = door.dataset.doorCommand;
      try {
        const answer = await api(
          "POST",
          `/api/hikvision/devices/${encodeURIComponent(context.serial)}/doors/${door.dataset.door}`,
          { command },
        );
        const message = t("hikvision.doors.done", { door: answer.door, command: t(`hikvision.doors.${command}`) });
        result.textContent = message;
        showDoor(answer.door, answer.state, command);
        toast(message);
      } catch (error) {
        result.textContent = errorMessage(error);
        toast(errorMessage(error), "bad");
      }
    });
    return;
  }
  const sync = event.target.closest("button[data-sync-gateway]");
  if (sync) {
    busy(sync, async () => {
      try {
        await api("POST", `/api/hikvision/gateways/${encodeURIComponent(sync.dataset.syncGateway)}/sync`);
        toast(t("hikvision.gateways.synced"));
        setTimeout(() => location.reload(), 800);
      } catch (error) {
        toast(errorMessage(error), "bad");
      }
    });
  }
});

const MODES = { open: "normal", close: "normal", alwaysOpen: "always_open", alwaysClose: "always_closed" };

/** The door's badge and mode as the command left them (the lock entity follows the same way). */
function showDoor(door, state, command) {
  const badge = document.querySelector(`[data-door-state="${door}"]`);
  if (badge && state) {
    badge.className = `badge state-${state}`;
    badge.textContent = tOr(`state.${state}`, state);
  }
  const mode = document.querySelector(`[data-door-mode="${door}"]`);
  if (mode) mode.textContent = t(`hikvision.doors.mode.${MODES[command]}`);
}

// ------------------------------------------------------------------------------------------- live records

const table = document.getElementById("hikvision-events");
const withDevice = table?.dataset.withDevice === "true";

function mine(data) {
  if (!context.serial) return true; // the overview page shows every device the caller sees
  return data.serial === context.serial || data.device_id === context.device_id;
}

function addRow(data, who, what) {
  const body = document.getElementById("hikvision-events-body");
  if (!body) return;
  const key = data.serial_no === null || data.serial_no === undefined ? "" : `${data.serial}:${data.serial_no}`;
  if (key && body.querySelector(`tr[data-live-key="${CSS.escape(key)}"]`)) return;
  const row = document.createElement("tr");
  row.className = "is-new";
  if (key) row.dataset.liveKey = key;
  const time = document.createElement("span");
  time.className = "serial";
  time.textContent = typeof data.time === "string" ? data.time.slice(0, 19).replace("T", " ") : "–";
  const cells = [cell(t("hikvision.events.time"), time)];
  if (withDevice) {
    const link = document.createElement("a");
    link.href = `/hikvision/${encodeURIComponent(data.serial)}`;
    link.textContent = data.serial;
    cells.push(cell(t("hikvision.events.device"), link));
  }
  cells.push(cell(t("hikvision.events.who"), who), cell(t("hikvision.events.what"), what));
  cells.push(cell(t("hikvision.events.door"), data.door === null || data.door === undefined ? "–" : String(data.door)));
  row.append(...cells);
  body.prepend(row);
  while (body.rows.length > MAX_ROWS) body.deleteRow(-1);
  const empty = document.getElementById("hikvision-events-empty");
  if (empty) empty.hidden = true;
}

function badge(text, tone) {
  const element = document.createElement("span");
  element.className = `badge state-${tone}`;
  element.textContent = text;
  return element;
}

if (table) {
  connection.subscribe({ type: "subscribe_events", event_type: "access" }, (event) => {
    const data = event.data || {};
    if (data.serial === undefined || !mine(data)) return; // another brand's terminal
    const who = document.createElement("span");
    who.append(`${data.person || data.person_id || data.card_no || t("hikvision.unknown_person")} `);
    if (data.person_id) {
      const id = document.createElement("span");
      id.className = "muted small";
      id.textContent = `#${data.person_id}`;
      who.append(id);
    }
    const what = document.createElement("span");
    what.append(data.granted ? badge(t("hikvision.granted"), "granted") : badge(t("hikvision.denied"), "denied"));
    if (data.method) what.append(" ", tOr(`hikvision.method.${data.method}`, data.method));
    addRow(data, who, what);
  });

  connection.subscribe({ type: "subscribe_events", event_type: "hikvision_event" }, (event) => {
    const data = event.data || {};
    if (data.event_type !== "AccessControllerEvent" || !mine(data)) return; // detections have their sensors
    const who = document.createElement("span");
    const text = document.createElement("span");
    text.className = "muted small";
    text.textContent = data.description || "";
    who.append(`${tOr(`hikvision.kind.${data.kind}`, data.kind)} `, text);
    addRow(data, who, badge(`${data.major}/${data.minor}`, "closed"));
  });
}
