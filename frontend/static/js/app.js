// What every page does: the phone menu, sign-out, the language switcher (keeping the page's query), dates in the
// browser's locale, and relative times that keep counting.

import { api } from "./api.js";
import { formatTimes } from "./format.js";

const toggle = document.querySelector(".nav-toggle");
const nav = document.getElementById("main-nav");
if (toggle && nav) {
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("open", open);
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && nav.classList.contains("open")) {
      nav.classList.remove("open");
      toggle.setAttribute("aria-expanded", "false");
      toggle.focus();
    }
  });
}

document.getElementById("logout")?.addEventListener("click", async () => {
  try {
    await api("POST", "/api/auth/logout", {});
  } finally {
    location.assign("/login");
  }
});

for (const link of document.querySelectorAll(".language-option")) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    document.cookie = `lang=${link.dataset.lang}; path=/; max-age=${365 * 86400}; SameSite=Lax`;
    location.reload();
  });
}

formatTimes();
setInterval(() => formatTimes(), 30000);
