/**
 * One SVG chart per metric, drawn here (no charting dependency): on the left the distribution of
 * the metric over the questions (a histogram), on the right its mean per author (bars). Plain SVG
 * 1.1 with text in the system sans-serif, readable on light backgrounds.
 */
import type { MetricSummary } from "./summary.js";

const WIDTH = 720;
const HEIGHT = 260;
const PANEL = { top: 40, bottom: 50, left: 50 };
const HISTOGRAM_WIDTH = 360;
const BAR_LEFT = 470;
const BAR_WIDTH = 220;
const COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948"];

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function format(value: number, unit: MetricSummary["unit"]): string {
  if (unit === "ms") return value >= 100 ? value.toFixed(0) : value.toFixed(1);
  if (unit === "words") return value.toFixed(0);
  return value.toFixed(2);
}

/** Histogram bounds: [0, 1] for scores, [−1, 1] for margins, else the data's range. */
function bounds(summary: MetricSummary): [number, number] {
  if (summary.unit === "score") return [0, 1];
  if (summary.unit === "margin") return [-1, 1];
  const low = Math.min(0, ...summary.values);
  const high = Math.max(...summary.values, low + 1);
  return [low, high];
}

export function histogram(values: readonly number[], low: number, high: number, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (const value of values) {
    const position = Math.floor(((value - low) / (high - low)) * bins);
    const bin = Math.min(bins - 1, Math.max(0, position));
    counts[bin] = (counts[bin] ?? 0) + 1;
  }
  return counts;
}

export function metricChartSvg(summary: MetricSummary, bins = 10): string {
  const [low, high] = bounds(summary);
  const counts = histogram(summary.values, low, high, bins);
  const tallest = Math.max(1, ...counts);
  const plotHeight = HEIGHT - PANEL.top - PANEL.bottom;
  const binWidth = (HISTOGRAM_WIDTH - PANEL.left) / bins;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${PANEL.left}" y="20" font-size="14" font-weight="bold">${escapeXml(summary.label)}</text>`,
    `<text x="${WIDTH - 10}" y="20" text-anchor="end">n = ${summary.count}${summary.missing > 0 ? `, missing ${summary.missing}` : ""}${summary.mean === null ? "" : `, mean ${format(summary.mean, summary.unit)}`}</text>`,
    `<text x="${PANEL.left}" y="${HEIGHT - 8}">distribution over questions</text>`,
    `<line x1="${PANEL.left}" y1="${PANEL.top + plotHeight}" x2="${HISTOGRAM_WIDTH}" y2="${PANEL.top + plotHeight}" stroke="#333"/>`,
    `<text x="${PANEL.left - 6}" y="${PANEL.top + 4}" text-anchor="end">${tallest}</text>`,
    `<text x="${PANEL.left - 6}" y="${PANEL.top + plotHeight}" text-anchor="end">0</text>`,
  ];
  counts.forEach((count, index) => {
    const height = (count / tallest) * plotHeight;
    const x = PANEL.left + index * binWidth;
    parts.push(
      `<rect x="${(x + 1).toFixed(1)}" y="${(PANEL.top + plotHeight - height).toFixed(1)}" width="${(binWidth - 2).toFixed(1)}" height="${height.toFixed(1)}" fill="${COLORS[0]}"><title>${count}</title></rect>`,
    );
  });
  for (const [position, value] of [
    [0, low],
    [0.5, (low + high) / 2],
    [1, high],
  ] as const) {
    const x = PANEL.left + position * (HISTOGRAM_WIDTH - PANEL.left);
    parts.push(
      `<text x="${x.toFixed(1)}" y="${PANEL.top + plotHeight + 14}" text-anchor="middle">${format(value, summary.unit)}</text>`,
    );
  }
  const authors = summary.perAuthor;
  const scaleMax = summary.unit === "score" ? 1 : Math.max(1e-9, ...authors.map((entry) => Math.abs(entry.mean ?? 0)));
  const rowHeight = Math.min(32, plotHeight / Math.max(1, authors.length));
  parts.push(`<text x="${BAR_LEFT}" y="${HEIGHT - 8}">mean per author</text>`);
  authors.forEach((entry, index) => {
    const y = PANEL.top + index * rowHeight;
    const value = entry.mean ?? 0;
    const zero = summary.unit === "margin" ? BAR_LEFT + BAR_WIDTH / 2 : BAR_LEFT;
    const span = summary.unit === "margin" ? BAR_WIDTH / 2 : BAR_WIDTH;
    const length = (Math.abs(value) / scaleMax) * span;
    const x = value < 0 ? zero - length : zero;
    parts.push(
      `<text x="${BAR_LEFT - 6}" y="${(y + rowHeight / 2 + 4).toFixed(1)}" text-anchor="end">${escapeXml(shorten(entry.author))}</text>`,
      `<rect x="${x.toFixed(1)}" y="${(y + 3).toFixed(1)}" width="${length.toFixed(1)}" height="${(rowHeight - 6).toFixed(1)}" fill="${COLORS[(index + 1) % COLORS.length]}"/>`,
      `<text x="${(Math.max(x + length, zero) + 4).toFixed(1)}" y="${(y + rowHeight / 2 + 4).toFixed(1)}">${entry.mean === null ? "n/a" : format(entry.mean, summary.unit)} (${entry.count})</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

function shorten(text: string): string {
  return text.length > 16 ? `${text.slice(0, 15)}…` : text;
}
