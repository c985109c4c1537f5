// The overview's notifications: dismiss one (operators), and follow the tenant's notification_created and
// notification_dismissed events to fetch the panel again from the server, so new ones appear without reloading.

import { api, busy, errorMessage, refreshFromServer, toast } from "./api.js";
import { formatTimes } from "./format.js";
import { t } from "./i18n.js";
import { connection } from "./live.js";

let timer = null;

function refreshSoon() {
  if (timer) return;
  timer = setTimeout(async () => {
    timer = null;
    if (await refreshFromServer("#notifications")) formatTimes(document.getElementById("notifications"));
  }, 300);
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-dismiss]");
  if (!button) return;
  busy(button, async () => {
    try {
      await api("POST", `/api/notifications/${encodeURIComponent(button.dataset.dismiss)}/dismiss`);
      button.closest(".notification")?.remove();
      const panel = document.getElementById("notifications");
      if (panel && !panel.querySelector(".notification")) panel.hidden = true;
      toast(t("notifications.dismissed"));
    } catch (error) {
      toast(errorMessage(error), "bad");
    }
  });
});

for (const eventType of ["notification_created", "notification_dismissed"]) {
  connection.subscribe({ type: "subscribe_events", event_type: eventType }, refreshSoon);
}
