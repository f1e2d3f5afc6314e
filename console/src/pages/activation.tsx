import type { Api } from '../api';
import { Show, TableScroll, useLoad } from '../components/common';
import { featureInWords, formatDateTime, formatNumber, formatPercent } from '../format';
import { segmentHref } from '../router';

interface Offer {
  readonly id: string;
  readonly name?: string;
  readonly placement: string;
  readonly segment?: string;
  readonly definition?: unknown;
  readonly priority?: number;
  readonly default?: boolean;
  readonly holdout?: number;
  readonly cap?: { readonly perDay?: number };
  readonly startAt?: string;
  readonly endAt?: string;
}

/** Offers by placement (read-only here: the Offers API edits them). */
export function OffersPage({ api }: { readonly api: Api }) {
  const [loaded] = useLoad(() => api.get<{ offers: Offer[] }>('/v1/offers'), []);
  return (
    <>
      <h1>Offers</h1>
      <p class="muted">The offers each placement chooses from, highest priority first (edit them with the Offers API).</p>
      <Show loaded={loaded}>
        {({ offers }) =>
          offers.length === 0 ? (
            <p class="muted">No offer yet.</p>
          ) : (
            <TableScroll label="Offers table">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Offer</th>
                    <th scope="col">Placement</th>
                    <th scope="col">Audience</th>
                    <th scope="col">Priority</th>
                    <th scope="col">Holdout</th>
                    <th scope="col">Cap per day</th>
                    <th scope="col">Runs</th>
                  </tr>
                </thead>
                <tbody>
                  {[...offers]
                    .sort((a, b) => a.placement.localeCompare(b.placement) || (b.priority ?? 0) - (a.priority ?? 0))
                    .map((offer) => (
                      <tr key={offer.id}>
                        <th scope="row">{offer.name ?? offer.id}</th>
                        <td>{offer.placement}</td>
                        <td>
                          {offer.default ? (
                            'default (everyone else)'
                          ) : offer.segment ? (
                            <a href={segmentHref(offer.segment)}>{offer.segment}</a>
                          ) : offer.definition ? (
                            <code>{JSON.stringify(offer.definition)}</code>
                          ) : (
                            'everyone'
                          )}
                        </td>
                        <td>{formatNumber(offer.priority ?? 0)}</td>
                        <td>{formatPercent(offer.holdout ?? 0)}</td>
                        <td>{offer.cap?.perDay === undefined ? '—' : formatNumber(offer.cap.perDay)}</td>
                        <td>{offer.startAt || offer.endAt ? `${formatDateTime(offer.startAt)} to ${formatDateTime(offer.endAt)}` : 'always'}</td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </TableScroll>
          )
        }
      </Show>
    </>
  );
}

interface Lookalike {
  readonly id: string;
  readonly name?: string;
  readonly seed: string;
  readonly candidates?: string;
  readonly segmentId?: string;
  readonly size?: { readonly share?: number; readonly count?: number };
  readonly lastRun?: {
    readonly status: string;
    readonly seedSize?: number;
    readonly candidates?: number;
    readonly audienceSize?: number;
    readonly auc?: number;
    readonly liftAt10?: number;
    readonly topFeatures?: readonly (string | { readonly feature?: string; readonly label?: string })[];
  };
}

/** The platform's own sentence for a feature when it has one ("AvgPageValue is higher among your customers..."). */
const featureName = (feature: string | { readonly feature?: string; readonly label?: string }): string =>
  typeof feature === 'string' ? featureInWords(feature) : (feature.label ?? featureInWords(feature.feature ?? '?'));

/** Lookalike audiences and their last run (read-only here: the Lookalikes API edits and runs them). */
export function LookalikesPage({ api }: { readonly api: Api }) {
  const [loaded] = useLoad(() => api.get<{ lookalikes: Lookalike[] }>('/v1/lookalikes'), []);
  return (
    <>
      <h1>Lookalikes</h1>
      <p class="muted">Audiences of the people most like a seed segment (create and run them with the Lookalikes API).</p>
      <Show loaded={loaded}>
        {({ lookalikes }) =>
          lookalikes.length === 0 ? (
            <p class="muted">No lookalike yet.</p>
          ) : (
            <TableScroll label="Lookalikes table">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Lookalike</th>
                    <th scope="col">Seed</th>
                    <th scope="col">Audience</th>
                    <th scope="col">Last run</th>
                    <th scope="col">Quality</th>
                    <th scope="col">Most telling features</th>
                  </tr>
                </thead>
                <tbody>
                  {lookalikes.map((lookalike) => (
                    <tr key={lookalike.id}>
                      <th scope="row">{lookalike.name ?? lookalike.id}</th>
                      <td>
                        <a href={segmentHref(lookalike.seed)}>{lookalike.seed}</a>
                      </td>
                      <td>
                        {lookalike.segmentId ? <a href={segmentHref(lookalike.segmentId)}>{formatNumber(lookalike.lastRun?.audienceSize)} people</a> : '—'}
                      </td>
                      <td>{lookalike.lastRun?.status ?? 'never run'}</td>
                      <td>
                        {lookalike.lastRun?.auc === undefined
                          ? '—'
                          : `AUC ${formatNumber(lookalike.lastRun.auc, undefined, { maximumFractionDigits: 3 })}, lift at 10 % ${formatNumber(lookalike.lastRun.liftAt10)}`}
                      </td>
                      <td>{(lookalike.lastRun?.topFeatures ?? []).slice(0, 3).map(featureName).join('; ') || '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableScroll>
          )
        }
      </Show>
    </>
  );
}
