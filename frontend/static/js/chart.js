// The history chart of the device page, drawn as inline SVG from GET /api/history/{entity_id}: a line over
// time for numbers, a timeline of coloured segments for anything else (open/closed, locked/unlocked).

import { displayState, formatAxisTime, formatDateTime, formatNumber, stateClass, stateWord, translatedWord } from "./format.js";
import { t } from "./i18n.js";

const SVG = "http://www.w3.org/2000/svg";
let WIDTH = 720; // the figure's width in pixels, measured at each drawing: text is never stretched
const HEIGHT = 240;
const PAD = { top: 16, right: 16, bottom: 28, left: 52 };

function svgElement(name, attributes = {}, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

function timeTicks(start, end, count = 5) {
  return Array.from({ length: count }, (_, index) => start + ((end - start) * index) / (count - 1));
}

function niceRange(min, max) {
  if (min === max) return [min - 1, max + 1];
  const pad = (max - min) * 0.1;
  return [min - pad, max + pad];
}

/** Draw the chart of states (oldest first) between start and end (epoch seconds) into figure. */
export function drawChart(figure, states, start, end, name) {
  WIDTH = Math.max(280, Math.round(figure.clientWidth || 720));
  figure.replaceChildren();
  if (!states.length) {
    figure.append(Object.assign(document.createElement("p"), { className: "muted chart-message", textContent: t("device.chart_empty") }));
    return;
  }
  const numeric = states.every((state) => ["unknown", "unavailable"].includes(state.state) || Number.isFinite(Number(state.state)));
  const hasNumbers = states.some((state) => Number.isFinite(Number(state.state)) && state.state !== "");
  // A hub recording for less than the range: the axis starts at the first record instead of an empty stretch.
  start = Math.max(start, Math.min(states[0].last_changed, end - 60));
  const svg = svgElement("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", class: "chart-svg" });
  const x = (time) => PAD.left + ((time - start) / (end - start)) * (WIDTH - PAD.left - PAD.right);
  timeTicks(start, end).forEach((tick, index, ticks) => {
    const anchor = index === 0 ? "start" : index === ticks.length - 1 ? "end" : "middle";
    svg.append(svgElement("text", { x: x(tick), y: HEIGHT - 8, class: "chart-axis", "text-anchor": anchor }, formatAxisTime(tick, end - start)));
  });
  if (numeric && hasNumbers) drawLine(svg, states, x, start, end, name);
  else drawTimeline(svg, states, x, end, name, figure);
  figure.prepend(svg);
}

function drawLine(svg, states, x, start, end, name) {
  const points = states
    .map((state) => ({ time: Math.max(state.last_changed, start), value: Number(state.state), state }))
    .filter((point) => Number.isFinite(point.value) && point.state.state !== "");
  const values = points.map((point) => point.value);
  const [low, high] = niceRange(Math.min(...values), Math.max(...values));
  const y = (value) => PAD.top + (1 - (value - low) / (high - low)) * (HEIGHT - PAD.top - PAD.bottom);
  const unit = states[states.length - 1].attributes?.unit_of_measurement || "";
  for (const value of [low, (low + high) / 2, high]) {
    svg.append(svgElement("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(value), y2: y(value), class: "chart-grid" }));
    svg.append(svgElement("text", { x: PAD.left - 8, y: y(value) + 4, class: "chart-axis", "text-anchor": "end" }, formatNumber(Number(value.toPrecision(3)))));
  }
  // A sensor holds its value until the next one: draw steps, and carry the last value to the end of the window.
  let path = "";
  points.forEach((point, index) => {
    path += index === 0 ? `M${x(point.time)},${y(point.value)}` : `H${x(point.time)}V${y(point.value)}`;
  });
  path += `H${x(end)}`;
  const last = points[points.length - 1];
  svg.append(svgElement("path", { d: `${path}V${y(low)}H${x(points[0].time)}Z`, class: "chart-area" }));
  svg.append(svgElement("path", { d: path, class: "chart-line" }));
  svg.append(svgElement("circle", { cx: x(end), cy: y(last.value), r: 4, class: "chart-dot" }));
  svg.append(svgElement("title", {}, `${name}: ${formatNumber(last.value)} ${unit} (${formatDateTime(last.time)})`));
}

function drawTimeline(svg, states, x, end, name, figure) {
  const top = PAD.top + 40;
  const height = 56;
  const seen = new Map();
  states.forEach((state, index) => {
    const from = x(state.last_changed);
    const to = x(index + 1 < states.length ? states[index + 1].last_changed : end);
    const word = stateWord(state);
    const segment = svgElement("rect", { x: from, y: top, width: Math.max(1, to - from), height, class: `chart-segment state-${stateClass(word)}` });
    segment.append(svgElement("title", {}, `${displayState(state)} · ${formatDateTime(state.last_changed)}`));
    svg.append(segment);
    seen.set(word, stateClass(word));
  });
  svg.append(svgElement("title", {}, name));
  const legend = document.createElement("ul");
  legend.className = "level-legend chart-legend";
  for (const [word, className] of seen) {
    const item = document.createElement("li");
    const dot = document.createElement("span");
    dot.className = `dot chart-segment state-${className}`;
    item.append(dot, translatedWord(word));
    legend.append(item);
  }
  figure.append(legend);
}
