/**
 * One line chart as a standalone SVG, for the plots commands leave in their run folders (loss against
 * step, loss against bytes). Written by hand: a polyline and a few labels do not need a chart library,
 * and uPlot (the dashboard's) draws on a browser canvas, which Node does not have.
 */

export type LinePlot = {
  title: string;
  points: readonly { x: number; y: number }[];
  xLabel: string;
  yLabel: string;
  /** The x axis starts here, or at a smaller x of the points. */
  xFrom: number;
  /** The labels under the two ends of the x axis. */
  xTicks: (x0: number, x1: number) => [string, string];
  /** Mark each point with a dot as well. */
  dots?: boolean;
};

export function linePlotSvg({ title, points, xLabel, yLabel, xFrom, xTicks, dots = false }: LinePlot): string {
  const [W, H, left, right, top, bottom] = [640, 360, 64, 16, 32, 40];
  const finite = points.filter((p) => Number.isFinite(p.y));
  const xs = finite.map((p) => p.x);
  const ys = finite.map((p) => p.y);
  const [x0, x1] = [Math.min(xFrom, ...xs), Math.max(1, ...xs)];
  const [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  const span = y1 - y0 || 1;
  const px = (v: number) => (left + ((v - x0) / (x1 - x0)) * (W - left - right)).toFixed(1);
  const py = (v: number) => (top + (1 - (v - y0) / span) * (H - top - bottom)).toFixed(1);
  const text = (tx: number, ty: number, anchor: string, s: string) => `<text x="${tx}" y="${ty}" text-anchor="${anchor}">${escapeXml(s)}</text>`;
  const [tick0, tick1] = xTicks(x0, x1);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    text(W / 2, 20, 'middle', title),
    `<path d="M${left},${top} V${H - bottom} H${W - right}" fill="none" stroke="#888"/>`,
    text(left - 6, top + 4, 'end', y1.toPrecision(4)),
    text(left - 6, H - bottom, 'end', y0.toPrecision(4)),
    text(left, H - bottom + 16, 'middle', tick0),
    text(W - right, H - bottom + 16, 'end', tick1),
    text((left + W - right) / 2, H - 8, 'middle', xLabel),
    text(14, (top + H - bottom) / 2, 'middle', yLabel),
    finite.length > 0 ? `<polyline points="${finite.map((p) => `${px(p.x)},${py(p.y)}`).join(' ')}" fill="none" stroke="#2563eb" stroke-width="1.5"/>` : '',
    ...(dots ? finite.map((p) => `<circle cx="${px(p.x)}" cy="${py(p.y)}" r="2.5" fill="#2563eb"/>`) : []),
    '</svg>',
    '',
  ].join('\n');
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}
