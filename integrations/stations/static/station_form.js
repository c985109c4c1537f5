// Add a station from the board: the hub answers with the station and its agent token, shown here this once
// (only its hash is kept), with the WebSocket URL its agent connects to. The board then redraws with the new card.

import { api, busy, clearErrors, showErrors, toast } from "/static/js/api.js";
import { t } from "/static/js/i18n.js";

const form = document.getElementById("station-form");
form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const value = (name) => form.elements[name]?.value.trim() ?? "";
  const body = { name: value("name") };
  for (const name of ["address", "mac", "tenant_id"]) if (value(name)) body[name] = value(name);
  await busy(form.querySelector("button[type=submit]"), async () => {
    try {
      const station = await api("POST", "/api/stations/stations", body);
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      document.getElementById("station-token-value").textContent = station.token;
      document.getElementById("station-agent-url").textContent =
        `${scheme}://${location.host}/ws/station/${encodeURIComponent(station.address || station.id)}`;
      document.getElementById("station-token").hidden = false;
      form.reset();
      toast(t("stations.add.done", { station: station.name }));
      document.dispatchEvent(new CustomEvent("stations:changed")); // board.js redraws and follows the new card
    } catch (error) {
      showErrors(form, error);
    }
  });
});
