// One camera's live page: HLS through our MSE player (camera-player.js), or MJPEG when the camera's codec cannot
// go into HLS or the browser has no Media Source Extensions; the stream's figures every two seconds; the state
// badge live; PTZ buttons that move while pressed (operators, cameras that support it).

import { api, errorMessage, toast } from "./api.js";
import { HlsPlayer, HlsUnsupportedError } from "./camera-player.js";
import { displayState, formatNumber, stateClass, stateWord } from "./format.js";
import { t } from "./i18n.js";
import { followEntities } from "./live.js";

const section = document.getElementById("camera-live");
const entityId = section.dataset.entityId;
const video = document.getElementById("camera-video");
const mjpeg = document.getElementById("camera-mjpeg");
const message = document.getElementById("camera-message");
const mode = document.getElementById("player-mode");
const note = document.getElementById("camera-note");
let player = null;

function setMode(key, tone = "unknown") {
  mode.textContent = t(`camera.mode.${key}`);
  mode.className = `badge state-${tone}`;
  mode.dataset.mode = key;
}

function showMjpeg(reason) {
  player?.stop();
  player = null;
  video.hidden = true;
  mjpeg.src = `/api/camera_proxy_stream/${encodeURIComponent(entityId)}?fps=5`;
  mjpeg.hidden = false;
  mjpeg.onerror = () => {
    message.textContent = t("camera.unavailable", { reason: t("camera.mode.failed") });
  };
  mjpeg.onload = () => {
    message.textContent = "";
  };
  message.textContent = "";
  note.textContent = reason ? t("camera.mjpeg_because", { reason }) : "";
  setMode("mjpeg", "idle");
}

async function startHls() {
  player = new HlsPlayer(video, `/api/hls/${encodeURIComponent(entityId)}/`, (state, reason) => {
    if (state === "playing") {
      video.hidden = false;
      message.textContent = "";
      setMode("hls", "streaming");
    } else if (state === "retrying") {
      message.textContent = t("camera.unavailable", { reason });
      setMode("retrying", "offline");
    }
  });
  try {
    await player.start();
  } catch (error) {
    if (error instanceof HlsUnsupportedError) showMjpeg(error.message);
    else message.textContent = t("camera.unavailable", { reason: error.message });
  }
}

function startSnapshots() {
  // A snapshot-only camera: refresh its still every two seconds.
  const refresh = () => {
    mjpeg.src = `/api/camera_proxy/${encodeURIComponent(entityId)}?width=1280&_=${Date.now()}`;
  };
  mjpeg.hidden = false;
  mjpeg.onload = () => {
    message.textContent = "";
  };
  refresh();
  setInterval(() => document.hidden || refresh(), 2000);
  setMode("snapshots", "idle");
}

if (!section.dataset.streamType) startSnapshots();
else if (HlsPlayer.supported()) startHls();
else showMjpeg(t("camera.no_mse"));

window.addEventListener("pagehide", () => {
  player?.stop();
  mjpeg.removeAttribute("src"); // closes the MJPEG connection, so the hub can let the decoder go
});

// ------------------------------------------------------------------------------------------------ figures

const stats = document.getElementById("stream-stats");
async function refreshStats() {
  if (document.hidden) return;
  try {
    const figures = await api("GET", `/api/cameras/${encodeURIComponent(entityId)}/stats`);
    const set = (name, value) => {
      const cell = stats.querySelector(`[data-stat="${name}"]`);
      if (cell) cell.textContent = value;
    };
    set("state", figures.state);
    set("size", figures.width ? `${figures.width}×${figures.height}` : "–");
    set("codec", figures.codec || "–");
    set("fps_received", formatNumber(figures.fps_received));
    set("fps_decoded", formatNumber(figures.fps_decoded));
    set("frames_dropped", formatNumber(figures.frames_dropped));
    set("consumers", formatNumber(figures.consumers));
    set("last_error", figures.last_error || "–");
  } catch {
    // the next round will tell
  }
}
setInterval(refreshStats, 2000);

followEntities((states) => {
  const state = states.find((candidate) => candidate.entity_id === entityId);
  if (!state) return;
  const badge = document.getElementById("camera-state");
  badge.className = `badge camera-state state-${stateClass(stateWord(state))}`;
  badge.textContent = displayState(state);
});

// -------------------------------------------------------------------------------------------------- PTZ

const pad = document.getElementById("ptz-pad");
if (pad) {
  const service = (name, data = {}) =>
    api("POST", `/api/services/${encodeURIComponent(pad.dataset.domain)}/${name}`, {
      target: { entity_id: pad.dataset.entityId },
      data,
    });
  for (const button of pad.querySelectorAll("button")) {
    const move = {};
    for (const axis of ["pan", "tilt", "zoom"]) if (button.dataset[axis]) move[axis] = Number(button.dataset[axis]);
    const press = async (event) => {
      event.preventDefault();
      button.setAttribute("aria-pressed", "true");
      try {
        await service("ptz_move", move);
      } catch (error) {
        toast(errorMessage(error), "bad");
      }
    };
    const release = async () => {
      if (button.getAttribute("aria-pressed") !== "true") return;
      button.setAttribute("aria-pressed", "false");
      try {
        await service("ptz_stop");
      } catch (error) {
        toast(errorMessage(error), "bad");
      }
    };
    button.addEventListener("pointerdown", press);
    button.addEventListener("pointerup", release);
    button.addEventListener("pointerleave", release);
    button.addEventListener("keydown", (event) => (event.key === " " || event.key === "Enter") && !event.repeat && press(event));
    button.addEventListener("keyup", (event) => (event.key === " " || event.key === "Enter") && release());
  }
}
