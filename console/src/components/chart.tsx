import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface BarSeries {
  readonly label: string;
  readonly values: readonly (number | null)[];
  /** A CSS colour. */
  readonly color: string;
}

/**
 * Grouped bars over categories (uPlot: a few kB, canvas, fast on thousands of points). The
 * canvas is described by `summary` for screen readers; the table beside it holds the figures.
 */
export function BarChart(props: {
  readonly title: string;
  readonly summary: string;
  readonly categories: readonly string[];
  readonly series: readonly BarSeries[];
  readonly format: (value: number) => string;
}) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const count = Math.max(1, props.series.length);
    const barWidth = 0.8 / count;
    // One x position per bar: category i, series j at i + offset j; each series is null at the others' positions.
    const offset = (series: number): number => (series - (count - 1) / 2) * barWidth;
    const x: number[] = [];
    for (let category = 0; category < props.categories.length; category += 1) {
      for (let series = 0; series < props.series.length; series += 1) x.push(category + offset(series));
    }
    const data: uPlot.AlignedData = [
      x,
      ...props.series.map((series, seriesIndex) =>
        x.map((_, position) => (position % count === seriesIndex ? (series.values[Math.floor(position / count)] ?? null) : null)),
      ),
    ];
    const width = Math.max(300, Math.min(element.clientWidth || 800, 960));
    const chart = new uPlot(
      {
        title: props.title,
        width,
        height: 280,
        scales: {
          x: { time: false, range: () => [-0.5, Math.max(0.5, props.categories.length - 0.5)] },
          y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] },
        },
        axes: [
          { splits: () => props.categories.map((_, index) => index), values: (_u, ticks) => ticks.map((tick) => props.categories[Math.round(tick)] ?? '') },
          { values: (_u, ticks) => ticks.map((tick) => props.format(tick)), size: 70 },
        ],
        legend: { show: true, live: false },
        cursor: { show: false },
        series: [
          {},
          ...props.series.map((series) => ({
            label: series.label,
            stroke: series.color,
            fill: series.color,
            width: 0,
            spanGaps: false,
            paths: uPlot.paths.bars?.({ size: [0.9, 120], align: 0 }),
            points: { show: false },
          })),
        ],
      },
      data,
      element,
    );
    return () => chart.destroy();
  }, [props.categories, props.series, props.title, props.format]);
  return (
    <figure class="chart">
      <div ref={host} role="img" aria-label={props.summary} />
    </figure>
  );
}

/** A series over time (segment sizes): uPlot's time axis in the browser's time zone, points joined. */
export function TimeChart(props: {
  readonly title: string;
  readonly summary: string;
  /** Epoch seconds, ascending. */
  readonly times: readonly number[];
  readonly values: readonly number[];
  readonly label: string;
  readonly format: (value: number) => string;
}) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const width = Math.max(300, Math.min(element.clientWidth || 800, 960));
    const chart = new uPlot(
      {
        title: props.title,
        width,
        height: 220,
        scales: { y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] } },
        axes: [{}, { values: (_u, ticks) => ticks.map((tick) => props.format(tick)), size: 70 }],
        legend: { show: true, live: false },
        series: [{}, { label: props.label, stroke: '#1f5fa8', width: 2, points: { show: true, size: 6 } }],
      },
      [[...props.times], [...props.values]],
      element,
    );
    return () => chart.destroy();
  }, [props.times, props.values, props.title, props.label, props.format]);
  return (
    <figure class="chart">
      <div ref={host} role="img" aria-label={props.summary} />
    </figure>
  );
}
