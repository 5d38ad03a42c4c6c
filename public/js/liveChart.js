/**
 * A hand-drawn SVG line chart of the last few minutes. Series are told apart by colour AND
 * line style (solid, dashed), and gaps (service unreachable) are left as gaps, not joined.
 */
import { svg, replace } from './dom.js';

const HEIGHT = 200;
const PAD = { top: 12, right: 12, bottom: 24, left: 40 };

export class LiveChart {
  /**
   * @param {HTMLElement} container
   * @param {{windowMs: number, series: {key: string, label: string, className: string}[]}} opts
   */
  constructor(container, { windowMs, series }) {
    this.container = container;
    this.windowMs = windowMs;
    this.series = series;
    this.el = svg('svg', { class: 'live-chart', role: 'img', height: HEIGHT, width: '100%' });
    container.append(this.el);
  }

  /** `points`: [{t, <series key>: number}] or [{t, gap: true}], oldest first. */
  render(points, now = Date.now()) {
    const width = Math.max(240, Math.round(this.container.clientWidth || 600));
    this.el.setAttribute('viewBox', `0 0 ${width} ${HEIGHT}`);
    const plotW = width - PAD.left - PAD.right;
    const plotH = HEIGHT - PAD.top - PAD.bottom;
    const from = now - this.windowMs;
    const visible = points.filter((p) => p.t >= from);

    let max = 4;
    for (const p of visible) if (!p.gap) for (const s of this.series) max = Math.max(max, p[s.key] ?? 0);
    max = niceCeil(max);

    const x = (t) => PAD.left + ((t - from) / this.windowMs) * plotW;
    const y = (v) => PAD.top + plotH - (v / max) * plotH;

    const grid = [0, max / 2, max].map((v) =>
      svg(
        'g',
        { class: 'chart-grid' },
        svg('line', { x1: PAD.left, x2: width - PAD.right, y1: y(v), y2: y(v) }),
        svg('text', { x: PAD.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, formatTick(v)),
      ),
    );
    const minutes = this.windowMs / 60_000;
    const xLabels = [
      [from, `−${minutes} min`, 'start'],
      [from + this.windowMs / 2, `−${minutes / 2} min`, 'middle'],
      [now, 'now', 'end'],
    ].map(([t, text, anchor]) => svg('text', { class: 'chart-axis', x: x(t), y: HEIGHT - 6, 'text-anchor': anchor }, text));

    const lines = this.series.map((s) =>
      svg('path', { class: ['chart-line', s.className].join(' '), d: pathFor(visible, s.key, x, y), fill: 'none' }),
    );

    replace(this.el, grid, xLabels, lines);
    const last = [...visible].reverse().find((p) => !p.gap);
    this.el.setAttribute(
      'aria-label',
      last
        ? `Last ${minutes} minutes. Now: ${this.series.map((s) => `${s.label} ${last[s.key] ?? 0}`).join(', ')}.`
        : `Last ${minutes} minutes. No data yet.`,
    );
  }
}

/** One SVG path with a separate "M" segment after every gap. */
function pathFor(points, key, x, y) {
  let d = '';
  let pen = false;
  for (const p of points) {
    if (p.gap || typeof p[key] !== 'number') {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p[key]).toFixed(1)} `;
    pen = true;
  }
  return d.trim() || 'M0,0';
}

function niceCeil(v) {
  const magnitude = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= v) return step * magnitude;
  return 10 * magnitude;
}

function formatTick(v) {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}
