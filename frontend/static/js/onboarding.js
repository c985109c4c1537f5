// First run: create the platform administrator (POST /api/onboarding, allowed only while the hub has no user),
// signed in at once through the session cookies.

import { api, busy, clearErrors, showErrors } from "./api.js";

const form = document.getElementById("onboarding-form");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const body = {
    name: form.elements.name.value.trim(),
    username: form.elements.username.value.trim(),
    password: form.elements.password.value,
  };
  await busy(form.querySelector("button[type=submit]"), async () => {
    try {
      await api("POST", "/api/onboarding", { ...body, session: true });
      location.assign("/");
    } catch (error) {
      showErrors(form, error);
    }
  });
});
