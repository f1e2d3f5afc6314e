import type { AudienceTransition } from '../../../functions/domain/pipeline/messages';
import { newProfile, type ProfileRecord } from '../../../functions/domain/profile/profile';
import { definitionOf } from '../../../functions/domain/segments/definition';
import { audienceTransition } from '../../../functions/domain/segments/membership';
import type { IntentOutbox, MembershipIntent, SegmentIdentity } from '../../../functions/domain/segments/rebuild/evaluate-slice';
import type { EvaluableSegment } from '../../../functions/domain/segments/rebuild/membership-diff';

export const GOLD: EvaluableSegment = { id: 'gold', name: 'Gold plan', definition: definitionOf({ trait: 'plan', op: 'eq', value: 'gold' }) };

export function profileWithPlan(profileId: string, plan: string | undefined, now = new Date('2026-01-01T00:00:00.000Z')): ProfileRecord {
  const profile = newProfile(profileId, now);
  if (plan === undefined) return profile;
  return { ...profile, traits: { plan: { value: plan, at: now.toISOString(), source: 'test', party: 'first', messageId: `m-${profileId}` } } };
}

/**
 * Memberships with the semantics of SegmentStore.applyMembership (conditional on the state read,
 * the same change at the same time again returns the same transition).
 */
export class FakeMemberships {
  readonly state = new Map<string, { member: boolean; version: number; changedAt: string; runId?: string }>();
  /** Fails the n-th upcoming call (1-based) once, after writing when `afterWrite`. */
  failOn?: { call: number; afterWrite: boolean };
  private calls = 0;

  set(segmentId: string, profileId: string, member: boolean): void {
    this.state.set(`${segmentId}|${profileId}`, { member, version: member ? 1 : 2, changedAt: '2025-12-01T00:00:00.000Z' });
  }

  membersOf(segmentId: string): string[] {
    return [...this.state]
      .filter(([key, value]) => key.startsWith(`${segmentId}|`) && value.member)
      .map(([key]) => key.split('|')[1] as string)
      .sort();
  }

  memberships(segmentIds: readonly string[], profileIds: readonly string[]): Map<string, Set<string>> {
    const result = new Map<string, Set<string>>();
    for (const profileId of profileIds) {
      const of = new Set(segmentIds.filter((segmentId) => this.state.get(`${segmentId}|${profileId}`)?.member === true));
      if (of.size > 0) result.set(profileId, of);
    }
    return result;
  }

  async applyMembership(
    segment: SegmentIdentity,
    profileId: string,
    shouldBeMember: boolean,
    at: Date,
    runId?: string,
  ): Promise<AudienceTransition | undefined> {
    this.calls += 1;
    const failing = this.failOn?.call === this.calls ? this.failOn : undefined;
    if (failing && !failing.afterWrite) throw new Error('injected failure before the write');
    const key = `${segment.id}|${profileId}`;
    const current = this.state.get(key);
    const changedAt = at.toISOString();
    let result: AudienceTransition | undefined;
    if ((current?.member ?? false) === shouldBeMember) {
      result =
        current && current.changedAt === changedAt
          ? audienceTransition(segment, profileId, current.member, current.version, changedAt, current.runId)
          : undefined;
    } else {
      const version = (current?.version ?? 0) + 1;
      this.state.set(key, { member: shouldBeMember, version, changedAt, ...(runId !== undefined && { runId }) });
      result = audienceTransition(segment, profileId, shouldBeMember, version, changedAt, runId);
    }
    if (failing) throw new Error('injected failure after the write');
    return result;
  }
}

export class FakeOutbox implements IntentOutbox {
  readonly entries = new Map<string, MembershipIntent>();
  private key = (intent: MembershipIntent): string => `${intent.segmentId}|${intent.profileId}`;

  async pending(): Promise<MembershipIntent[]> {
    return [...this.entries.values()];
  }

  async record(intents: readonly MembershipIntent[]): Promise<void> {
    for (const intent of intents) this.entries.set(this.key(intent), intent);
  }

  async clear(intents: readonly MembershipIntent[]): Promise<void> {
    for (const intent of intents) this.entries.delete(this.key(intent));
  }
}
