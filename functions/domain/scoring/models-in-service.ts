/**
 * The model serving each predictive score: the prior (shipped, or configured by file) until a
 * retraining job promotes a version trained on the customer's data. The score function asks at
 * every batch (one small query), so a promotion or rollback reaches every profile rescored after
 * it; artifacts are loaded once per version and kept.
 */
import type { ModelStore } from '../../ports/model-store';
import type { ModelArtifact } from './artifact';
import type { ServingEntry } from './model-versions';

export class ModelsInService {
  private readonly artifacts = new Map<string, Promise<ModelArtifact | undefined>>();

  constructor(
    private readonly store: Pick<ModelStore, 'servingEntries' | 'loadArtifact'>,
    /** The priors by score name: what serves a score no job has promoted for. */
    readonly priors: ReadonlyMap<string, ModelArtifact>,
  ) {}

  /** The prior's version: what "nothing promoted" compares and rolls back to. */
  priorVersion(score: string): string | undefined {
    return this.priors.get(score)?.modelVersion;
  }

  /** Every score's model in service, with the serving entries read. */
  async current(options: { readonly consistent?: boolean } = {}): Promise<{ models: ReadonlyMap<string, ModelArtifact>; entries: readonly ServingEntry[] }> {
    const entries = await this.store.servingEntries(options);
    const models = new Map(this.priors);
    await Promise.all(
      entries.map(async (entry) => {
        const prior = this.priors.get(entry.score);
        if (prior?.modelVersion === entry.version) return;
        const artifact = await this.artifact(entry.score, entry.version);
        // Never score silently with another model than the one in service: the batch fails and is retried.
        if (artifact === undefined) throw new Error(`model ${entry.version} of "${entry.score}" is in service but its artifact is missing`);
        models.set(entry.score, artifact);
      }),
    );
    return { models, entries };
  }

  private artifact(score: string, version: string): Promise<ModelArtifact | undefined> {
    const key = `${score}@${version}`;
    let loading = this.artifacts.get(key);
    if (loading === undefined) {
      loading = this.store.loadArtifact(score, version);
      // A failed read is tried again at the next batch, not cached.
      loading.catch(() => this.artifacts.delete(key));
      this.artifacts.set(key, loading);
    }
    return loading;
  }
}
