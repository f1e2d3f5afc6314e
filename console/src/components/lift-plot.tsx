import { formatPoints } from '../format';
import { type LiftInterval, liftScale } from '../lift-scale';

export interface LiftRow extends LiftInterval {
  readonly label: string;
  readonly significant: boolean;
}

/**
 * Lift (a difference of conversion rates, in points) with its 95 % interval per row (a forest plot, in SVG: no inline style, so the CSP holds):
 * a dot at the lift, a line across the interval, the "no lift" line at 0; significant rows in
 * the accent colour. The table beside it holds the same figures.
 */
export function LiftPlot({ rows, title }: { readonly rows: readonly LiftRow[]; readonly title: string }) {
  const scale = liftScale(rows);
  const labelWidth = 220;
  const plotWidth = 480;
  const rowHeight = 28;
  const top = 28;
  const height = top + rows.length * rowHeight + 24;
  // Room on the right for the last tick's label.
  const width = labelWidth + plotWidth + 40;
  const x = (lift: number): number => labelWidth + scale.x(lift, plotWidth);
  const summary = `${title}: ${rows
    .map(
      (row) =>
        `${row.label} ${formatPoints(row.value)} (${formatPoints(row.low)} to ${formatPoints(row.high)})${row.significant ? ', significant' : ', not significant'}`,
    )
    .join('; ')}`;
  return (
    <figure class="chart">
      <svg class="lift-plot" viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-label={summary}>
        <text x={0} y={16} class="lift-title">
          {title}
        </text>
        {scale.ticks.map((tick) => (
          <g key={tick}>
            <line x1={x(tick)} x2={x(tick)} y1={top - 4} y2={height - 20} class={tick === 0 ? 'lift-zero' : 'lift-grid'} />
            <text x={x(tick)} y={height - 6} text-anchor="middle" class="lift-tick">
              {formatPoints(tick)}
            </text>
          </g>
        ))}
        {rows.map((row, index) => {
          const y = top + index * rowHeight + rowHeight / 2;
          return (
            <g key={row.label} class={row.significant ? 'lift-row significant' : 'lift-row'}>
              <text x={labelWidth - 8} y={y + 4} text-anchor="end" class="lift-label">
                {row.label}
              </text>
              <line x1={x(row.low)} x2={x(row.high)} y1={y} y2={y} class="lift-interval" />
              <circle cx={x(row.value)} cy={y} r={5} class="lift-dot" />
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

/** A lift in words: "+5 pts (+1 pts to +9 pts)", or why there is none. */
export function liftInWords(lift: LiftInterval | null, unavailable: string | undefined): string {
  return lift ? `${formatPoints(lift.value)} (${formatPoints(lift.low)} to ${formatPoints(lift.high)})` : (unavailable ?? '—');
}
