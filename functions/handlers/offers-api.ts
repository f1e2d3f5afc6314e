import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { OfferRouteKey } from '../../lib/definitions/api';
import type { SegmentApiEnvironment } from '../composition/segment-api';
import { eligibilitySegmentOf, managedSegmentIdOf, PERSONALIZATION_PURPOSE, type Offer, type OfferFields } from '../domain/personalization/offer';
import { decideFor } from '../domain/personalization/visitor-decisions';
import { parseProfileReference } from '../domain/profile/profile-reference';
import type { RouteTable } from '../http/admin-handler';
import { BadRequestError, ConflictError, NotFoundError } from '../http/errors';
import { parseJsonBody, readRequestBody } from '../http/request-body';
import { jsonResponse } from '../http/responses';
import { OfferConflictError } from '../ports/offer-store';
import { SegmentConflictError, type SegmentRecord } from '../ports/segment-store';
import { parsePlacements } from '../schemas/decision-query';
import { createOfferBody, updateOfferBody, type OfferRequestBody } from '../schemas/offers';
import { parseBody } from '../schemas/segments';
import { rebuildForDefinition, syncSchedule, validDefinition } from './segment-definition-changes';

const MAX_BODY_BYTES = 64 * 1024;
/** A managed segment is rebuilt like any segment: behaviour windows (`within`) end as time passes. */
const MANAGED_SEGMENT_SCHEDULE = 'rate(1 hour)';

/** The offer as stored, with the segment its eligibility is kept in. */
const offerView = (offer: Offer) => ({ ...offer, eligibilitySegment: eligibilitySegmentOf(offer) ?? null });

function fieldsOf(id: string, body: OfferRequestBody): OfferFields {
  return {
    id,
    ...(body.name !== undefined && { name: body.name }),
    placement: body.placement,
    content: body.content,
    ...(body.segment !== undefined && { segment: body.segment }),
    ...(body.definition !== undefined && { definition: body.definition }),
    priority: body.priority ?? 0,
    default: body.default ?? false,
    ...(body.holdout !== undefined && { holdout: body.holdout }),
    ...(body.cap !== undefined && { cap: body.cap }),
    ...(body.startAt !== undefined && { startAt: body.startAt }),
    ...(body.endAt !== undefined && { endAt: body.endAt }),
    purpose: body.purpose ?? PERSONALIZATION_PURPOSE,
  };
}

/**
 * The offers API (docs/contract.md §10, README "Personalization"), in the segments API function:
 * an offer's inline definition is a segment the offer manages (`offer-<id>`), saved, rebuilt and
 * scheduled with it, and deleted with it.
 */
export function offerRoutes(environment: SegmentApiEnvironment, now: Date, logger: Logger): RouteTable<OfferRouteKey> {
  const { offers, segments } = environment;

  const body = async (event: APIGatewayProxyEventV2): Promise<unknown> => parseJsonBody(await readRequestBody(event, MAX_BODY_BYTES));

  const existing = async (event: APIGatewayProxyEventV2): Promise<Offer> => {
    const offer = await offers.getOffer(event.pathParameters?.offerId ?? '');
    if (!offer) throw new NotFoundError('offer not found');
    return offer;
  };

  /** Offers of a placement that hold people out: they see its default instead, which must exist. */
  const holdingOut = (all: readonly Offer[], placement: string, except: string): Offer | undefined =>
    all.find((offer) => offer.placement === placement && offer.id !== except && !offer.default && (offer.holdout ?? 0) > 0);

  /**
   * The targeting must name a segment that exists; a placement has one default, and one while an
   * offer of it holds people out (`current`: the offer as it was, when updated).
   */
  const checkTargets = async (fields: OfferFields, current?: Offer): Promise<void> => {
    if (fields.definition !== undefined) validDefinition(fields.definition);
    if (fields.segment !== undefined && !(await segments.getSegment(fields.segment)))
      throw new BadRequestError([{ path: 'segment', reason: 'no segment with this id' }]);
    const all = await offers.listOffers();
    const defaultOf = (placement: string) => all.find((offer) => offer.default && offer.placement === placement && offer.id !== fields.id);
    if (fields.default) {
      const other = defaultOf(fields.placement);
      if (other) throw new ConflictError([{ path: 'default', reason: `offer ${other.id} is already the default of placement ${fields.placement}` }]);
    } else if ((fields.holdout ?? 0) > 0 && !defaultOf(fields.placement)) {
      throw new BadRequestError([{ path: 'holdout', reason: `held-out people see the default offer of placement ${fields.placement}: create it first` }]);
    }
    if (current?.default && (!fields.default || fields.placement !== current.placement)) {
      const dependent = holdingOut(all, current.placement, current.id);
      if (dependent)
        throw new ConflictError([
          { path: 'default', reason: `offer ${dependent.id} holds people out of placement ${current.placement}: they see this default` },
        ]);
    }
  };

  /** An inline definition's segment id must not be a segment of someone else's (created before offers reserved the prefix). */
  const checkManagedSegmentFree = async (fields: OfferFields): Promise<void> => {
    if (fields.definition === undefined) return;
    const segmentId = managedSegmentIdOf(fields.id);
    if (await segments.getSegment(segmentId))
      throw new ConflictError([{ path: 'id', reason: `segment ${segmentId} exists and is not this offer's: choose another id` }]);
  };

  /** Creates, updates or deletes the segment keeping an inline definition's members; the rebuild run started, if any. */
  const syncManagedSegment = async (offer: Pick<Offer, 'id' | 'definition'>): Promise<string | undefined> => {
    const segmentId = managedSegmentIdOf(offer.id);
    const current = await segments.getSegment(segmentId);
    if (offer.definition === undefined) {
      if (current && (await segments.deleteSegment(segmentId))) await syncSchedule(environment, segmentId, null);
      return undefined;
    }
    const fields = {
      id: segmentId,
      name: `Eligibility of offer ${offer.id}`,
      description: `Managed by offer ${offer.id} (/v1/offers): changed and deleted with it.`,
      definition: offer.definition,
      schedule: current?.schedule ?? MANAGED_SEGMENT_SCHEDULE,
      destinations: current?.destinations ?? [],
    };
    let saved: SegmentRecord;
    try {
      saved = await segments.putSegment(fields, now, current?.version);
    } catch (error) {
      if (error instanceof SegmentConflictError) throw new ConflictError([{ path: 'definition', reason: 'its segment changed at the same time: try again' }]);
      throw error;
    }
    if (!current) await syncSchedule(environment, segmentId, saved.schedule);
    const changed = !current || JSON.stringify(current.definition) !== JSON.stringify(saved.definition);
    return changed ? rebuildForDefinition(environment, saved, now, logger) : undefined;
  };

  return {
    'GET /v1/offers': async () => jsonResponse(200, { offers: (await offers.listOffers()).map(offerView) }),
    'POST /v1/offers': async (event) => {
      const request = parseBody(createOfferBody, await body(event));
      const fields = fieldsOf(request.id ?? randomUUID(), request);
      await checkTargets(fields);
      await checkManagedSegmentFree(fields);
      const offer = await offers.putOffer(fields, now).catch((error: unknown) => {
        if (error instanceof OfferConflictError) throw new ConflictError([{ path: 'id', reason: 'an offer with this id exists' }]);
        throw error;
      });
      const runId = await syncManagedSegment(offer);
      logger.info('offer created', { offerId: offer.id, placement: offer.placement, runId });
      return jsonResponse(201, { ...offerView(offer), ...(runId && { runId }) });
    },
    'GET /v1/offers/{offerId}': async (event) => jsonResponse(200, offerView(await existing(event))),
    'PUT /v1/offers/{offerId}': async (event) => {
      const request = parseBody(updateOfferBody, await body(event));
      const current = await existing(event);
      const fields = fieldsOf(current.id, request);
      await checkTargets(fields, current);
      if (current.definition === undefined) await checkManagedSegmentFree(fields);
      const offer = await offers.putOffer(fields, now, request.version ?? current.version).catch((error: unknown) => {
        if (error instanceof OfferConflictError) throw new ConflictError([{ path: 'version', reason: 'the offer changed since it was read: read it again' }]);
        throw error;
      });
      const runId = await syncManagedSegment(offer);
      logger.info('offer updated', { offerId: offer.id, version: offer.version, runId });
      return jsonResponse(200, { ...offerView(offer), ...(runId && { runId }) });
    },
    'DELETE /v1/offers/{offerId}': async (event) => {
      const offer = await existing(event);
      const dependent = offer.default ? holdingOut(await offers.listOffers(), offer.placement, offer.id) : undefined;
      if (dependent)
        throw new ConflictError([{ path: 'id', reason: `offer ${dependent.id} holds people out of placement ${offer.placement}: they see this default` }]);
      if (!(await offers.deleteOffer(offer.id))) throw new NotFoundError('offer not found');
      await syncManagedSegment({ id: offer.id });
      logger.info('offer deleted', { offerId: offer.id });
      return jsonResponse(200, { success: true, id: offer.id });
    },
    'GET /v1/profiles/{profileRef}/decisions': async (event) => {
      const placements = parsePlacements(event.queryStringParameters ?? {});
      const reference = parseProfileReference(environment.identityConfig, event.pathParameters?.profileRef);
      if (typeof reference === 'string') throw new BadRequestError([{ path: 'profileRef', reason: reference }]);
      const linked = reference.kind === 'profile' ? reference.profileId : await environment.decisionFacts.profileIdOf([reference.identifier]);
      const profile = linked === undefined ? undefined : await environment.profiles.getProfile(linked);
      if (!profile) throw new NotFoundError('profile not found');
      const { decisions } = await decideFor(
        { offers: () => offers.listOffers(), facts: environment.decisionFacts, controlGroup: { contains: environment.inControlGroup } },
        { profileId: profile.profileId },
        placements,
        now,
      );
      return jsonResponse(200, {
        profileId: profile.profileId,
        decisions: decisions.map((decision) => ({
          placement: decision.placement,
          offerId: decision.offer?.id ?? null,
          content: decision.offer?.content ?? null,
          reason: decision.reason,
          ...(decision.heldOutOfferId !== undefined && { heldOutOfferId: decision.heldOutOfferId }),
        })),
      });
    },
  };
}
