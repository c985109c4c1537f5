// Acknowledge buttons of the detection pages (operators): POST the acknowledgement, then show who and when.

import { api, busy, errorMessage, toast } from "/static/js/api.js";
import { t } from "/static/js/i18n.js";

/** Handle clicks on every button[data-detection-ack] under root, now and later (rows added live). */
export function handleAcknowledgements(root = document) {
  root.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-detection-ack]");
    if (!button) return;
    busy(button, async () => {
      try {
        await api("POST", `/api/detection/events/${encodeURIComponent(button.dataset.detectionAck)}/acknowledge`);
        const done = document.createElement("span");
        done.className = "ack-done";
        done.textContent = `✓ ${t("detection.acknowledged_now")}`;
        button.closest("tr")?.classList.add("is-acknowledged");
        button.replaceWith(done);
        toast(t("detection.acknowledged_toast"));
      } catch (error) {
        toast(errorMessage(error), "bad");
      }
    });
  });
}
