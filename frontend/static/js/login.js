// Sign in: POST /api/auth/login with session: true sets the session cookies; then go to the page asked for.
// Wrong credentials and rate limiting (429, with the wait) are said in the form.

import { ApiError, api, busy } from "./api.js";
import { t } from "./i18n.js";

const form = document.getElementById("login-form");
const message = document.getElementById("login-error");

function fail(text) {
  message.textContent = text;
  message.hidden = false;
  form.elements.password.select();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  message.hidden = true;
  const username = form.elements.username.value.trim();
  const password = form.elements.password.value;
  if (!username || !password) {
    fail(t("login.missing"));
    return;
  }
  await busy(form.querySelector("button[type=submit]"), async () => {
    try {
      await api("POST", "/api/auth/login", { username, password, session: true });
      location.assign(form.dataset.next || "/");
    } catch (error) {
      if (error instanceof ApiError && error.status === 429) {
        fail(t("login.rate_limited", { seconds: Math.ceil(error.retryAfter || 60) }));
      } else if (error instanceof ApiError && (error.status === 401 || error.status === 400)) {
        fail(t("login.wrong"));
      } else {
        fail(t("error.network"));
      }
    }
  });
});
