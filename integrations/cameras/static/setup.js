// Configured cameras: reconnect one (forget its failures, check now) or remove it; the table is re-rendered
// by the server afterwards so it shows the hub's word on the result.

import { api, busy, errorMessage, refreshFromServer, toast } from "/static/js/api.js";
import { t } from "/static/js/i18n.js";

document.addEventListener("click", (event) => {
  const reconnect = event.target.closest("button[data-reconnect]");
  if (reconnect) {
    busy(reconnect, async () => {
      try {
        await api("POST", `/api/health/devices/${encodeURIComponent(reconnect.dataset.reconnect)}/reconnect`);
        toast(t("cameras.reconnected"));
        await refreshFromServer("#cameras-table");
      } catch (error) {
        toast(errorMessage(error), "bad");
      }
    });
    return;
  }
  const remove = event.target.closest("button[data-remove-entry]");
  if (remove) {
    busy(remove, async () => {
      if (!confirm(remove.dataset.confirm)) return;
      try {
        await api("DELETE", `/api/config_entries/${encodeURIComponent(remove.dataset.removeEntry)}`);
        toast(t("cameras.removed"));
        location.reload();
      } catch (error) {
        toast(errorMessage(error), "bad");
      }
    });
  }
});
