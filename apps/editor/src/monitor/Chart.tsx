import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
  /** Bars instead of a line. */
  bars?: boolean;
  format?: (v: number) => string;
}

/**
 * A small time chart (uPlot): one point per day. `target` draws a dashed horizontal line (the
 * seed's goal for the metric). Resizes with its container.
 */
export function Chart({ days, series, height = 180, target, yMax, testId, label }: {
  days: string[];
  series: ChartSeries[];
  height?: number;
  target?: { value: number; label: string };
  yMax?: number;
  testId?: string;
  label: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const xs = days.map((d) => Date.parse(`${d}T12:00:00Z`) / 1000);
    const fmt = series[0]?.format ?? ((v: number) => String(v));
    const bars = uPlot.paths.bars?.({ size: [0.6, 40] });
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: series.length > 1 },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true, range: (_u, min, max) => [min - 43_200, max + 43_200] }, y: { range: (_u, min, max) => [Math.min(0, min), yMax ?? Math.max(max * 1.1, target ? target.value * 1.2 : 1)] } },
      axes: [
        { stroke: '#6b7280', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#eef0f3' } },
        { stroke: '#6b7280', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#eef0f3' }, size: 56, values: (_u, vals) => vals.map((v) => fmt(v)) },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label, stroke: s.color, width: 2, fill: s.bars ? `${s.color}cc` : `${s.color}22`,
          ...(s.bars && bars ? { paths: bars, points: { show: false } } : { points: { show: true, size: 7, fill: s.color } }),
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : (s.format ?? fmt)(v)),
        })),
      ],
      hooks: target
        ? {
          draw: [(u: uPlot) => {
            const y = u.valToPos(target.value, 'y', true);
            const ctx = u.ctx;
            ctx.save();
            ctx.strokeStyle = '#9ca3af';
            ctx.setLineDash([6, 4]);
            ctx.lineWidth = 1.5 * devicePixelRatio;
            ctx.beginPath();
            ctx.moveTo(u.bbox.left, y);
            ctx.lineTo(u.bbox.left + u.bbox.width, y);
            ctx.stroke();
            ctx.setLineDash([]);
            ctx.fillStyle = '#6b7280';
            ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
            ctx.textAlign = 'right';
            ctx.fillText(target.label, u.bbox.left + u.bbox.width - 4 * devicePixelRatio, y - 5 * devicePixelRatio);
            ctx.restore();
          }],
        }
        : {},
    };
    const plot = new uPlot(opts, [xs, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [days, series, height, target, yMax]);
  return <div ref={box} className="mon-chart" role="img" aria-label={label} data-testid={testId} />;
}
