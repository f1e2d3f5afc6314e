/** A profile's lookalike scores, as the Profile API shows them beside its other scores (`scores["lookalike:<id>"]`). */
import type { LookalikeScore } from './audience';
import { lookalikeScoreName } from './lookalike';

/** Where a lookalike's current scores are (its last completed run), as the score store lays them out. */
export interface ScoredLookalike<Layout> {
  readonly lookalikeId: string;
  readonly layout: Layout;
}

export interface LookalikeScoreReader<Layout> {
  /** Every lookalike with a completed run (cached briefly by callers). */
  scored(): Promise<ReadonlyArray<ScoredLookalike<Layout>>>;
  scoreOf(lookalikeId: string, layout: Layout, profileId: string): Promise<LookalikeScore | undefined>;
}

export async function lookalikeScoresOf<Layout>(profileId: string, reader: LookalikeScoreReader<Layout>): Promise<Record<string, LookalikeScore>> {
  const lookalikes = await reader.scored();
  const scores = await Promise.all(lookalikes.map(({ lookalikeId, layout }) => reader.scoreOf(lookalikeId, layout, profileId)));
  return Object.fromEntries(lookalikes.flatMap(({ lookalikeId }, index) => (scores[index] ? [[lookalikeScoreName(lookalikeId), scores[index]]] : [])));
}
