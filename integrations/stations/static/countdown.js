// The remaining time of sessions, counted down every second in the browser from the hub's `ends_at` (the hub is
// the clock: the page corrects for the browser's clock with the hub's time at rendering, `server_now`).

/** 3725 -> "1:02:05", 309 -> "05:09": the same text as pages.remaining_text on the server. */
export function remainingText(seconds) {
  const total = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  const two = (n) => String(n).padStart(2, "0");
  return hours ? `${hours}:${two(minutes)}:${two(secs)}` : `${two(minutes)}:${two(secs)}`;
}

/** Rewrite every [data-ends-at] under the document each second; returns the function that does one pass. */
export function startCountdown(serverNowSeconds) {
  const skewMs = serverNowSeconds ? serverNowSeconds * 1000 - Date.now() : 0; // hub clock minus browser clock
  const tick = () => {
    const now = Date.now() + skewMs;
    for (const element of document.querySelectorAll("[data-ends-at]")) {
      const endsAt = Date.parse(element.dataset.endsAt);
      if (Number.isNaN(endsAt)) continue;
      const seconds = Math.max(0, Math.ceil((endsAt - now) / 1000));
      const text = remainingText(seconds);
      if (element.textContent !== text) element.textContent = text;
      element.dataset.remaining = String(seconds);
      element.classList.toggle("countdown-low", seconds <= 300);
      element.classList.toggle("countdown-over", seconds === 0);
    }
  };
  tick();
  setInterval(tick, 1000);
  return tick;
}
