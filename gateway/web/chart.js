// The trend chart of one indicator: actual against expected over time, as inline SVG.
// Small on purpose: one chart shape, no library to serve or keep up to date.

import { number, STATUS_LABELS } from "./format.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 720;
const HEIGHT = 240;
const MARGIN = { top: 16, right: 72, bottom: 28, left: 56 };

function svg(name, attributes = {}, text = null) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  if (text !== null) element.textContent = text;
  return element;
}

// A round step so that about `count` ticks cover 0..max.
function tickStep(max, count = 4) {
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw);
  return step ?? 10 * magnitude;
}

function dayNumber(iso) {
  return Date.parse(`${iso}T00:00:00Z`) / 86400000;
}

// Runs of consecutive points that have a value: a missing reading breaks the line.
function runs(points, field) {
  const out = [];
  let current = [];
  for (const point of points) {
    if (point[field] === null) {
      if (current.length) out.push(current);
      current = [];
    } else {
      current.push(point);
    }
  }
  if (current.length) out.push(current);
  return out;
}

/**
 * @param {{points: {date: string, actual: string|null, expected: string|null, status: string}[], unit: string}} series
 * @param {{key: string, name: string, target: string|null}} indicator
 */
export function trendChart(series, indicator) {
  const root = svg("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    class: "trend",
    role: "img",
    "data-chart": indicator.key,
    "aria-label": `${indicator.name}:实际值与期望值走势`,
  });
  const points = series.points;
  if (!points.length) {
    root.append(svg("text", { x: WIDTH / 2, y: HEIGHT / 2, class: "empty", "text-anchor": "middle" }, "计划尚未开始"));
    return root;
  }
  const values = points.flatMap((p) => [p.actual, p.expected]).filter((v) => v !== null).map(Number);
  const target = indicator.target === null ? null : Number(indicator.target);
  if (target !== null) values.push(target);
  const top = Math.max(...values, 0);
  const step = top > 0 ? tickStep(top) : 1;
  const yMax = Math.max(step * Math.ceil((top * 1.05) / step), step);

  const first = dayNumber(points[0].date);
  const last = dayNumber(points[points.length - 1].date);
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (iso) => MARGIN.left + (last === first ? plotWidth / 2 : ((dayNumber(iso) - first) / (last - first)) * plotWidth);
  const y = (value) => MARGIN.top + plotHeight - (Number(value) / yMax) * plotHeight;

  for (let tick = 0; tick <= yMax + step / 2; tick += step) {
    root.append(svg("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(tick), y2: y(tick), class: "grid" }));
    root.append(svg("text", { x: MARGIN.left - 6, y: y(tick) + 4, class: "tick", "text-anchor": "end" }, number(tick)));
  }
  // A label at each year's first point (or each point, for a short series).
  let lastYear = null;
  for (const point of points) {
    const year = point.date.slice(0, 4);
    const label = points.length <= 12 ? point.date.slice(0, 7) : year;
    if (points.length > 12 && year === lastYear) continue;
    lastYear = year;
    root.append(svg("text", { x: x(point.date), y: HEIGHT - 8, class: "tick", "text-anchor": "middle" }, label));
  }
  root.append(svg("text", { x: 4, y: 12, class: "unit" }, series.unit));

  if (target !== null) {
    root.append(svg("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(target), y2: y(target), class: "target" }));
    root.append(
      svg("text", { x: WIDTH - MARGIN.right + 4, y: y(target) + 4, class: "target-label" }, `目标 ${number(target)}`),
    );
  }
  for (const field of ["expected", "actual"]) {
    for (const run of runs(points, field)) {
      const d = run.map((p, i) => `${i ? "L" : "M"}${x(p.date).toFixed(1)},${y(p[field]).toFixed(1)}`).join(" ");
      root.append(svg("path", { d, class: `line ${field}`, "data-series": field }));
    }
  }
  for (const point of points.filter((p) => p.actual !== null)) {
    const dot = svg("circle", {
      cx: x(point.date),
      cy: y(point.actual),
      r: 3.5,
      class: `dot status-${point.status}`,
      "data-date": point.date,
      "data-status": point.status,
    });
    const expected = point.expected === null ? "" : `,期望 ${number(point.expected)}`;
    dot.append(
      svg("title", {}, `${point.date} 实际 ${number(point.actual)}${expected} ${series.unit}(${STATUS_LABELS[point.status]})`),
    );
    root.append(dot);
  }
  const legend = svg("g", { class: "legend", transform: `translate(${MARGIN.left + 8}, ${MARGIN.top + 4})` });
  legend.append(svg("line", { x1: 0, x2: 22, y1: 0, y2: 0, class: "line actual" }));
  legend.append(svg("text", { x: 28, y: 4 }, "实际"));
  legend.append(svg("line", { x1: 72, x2: 94, y1: 0, y2: 0, class: "line expected" }));
  legend.append(svg("text", { x: 100, y: 4 }, "期望"));
  root.append(legend);
  return root;
}
