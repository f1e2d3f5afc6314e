import { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod';
import type { ModelRouteKey } from '../../lib/definitions/api';
import { newRunId } from '../adapters/state-machine-schedules';
import { modelEnvironment, type ModelEnvironment } from '../composition/model-environment';
import type { ModelArtifact } from '../domain/scoring/artifact';
import { featureConfigBody, traitsOfModel } from '../domain/scoring/model-features';
import type { TrainingJob } from '../domain/scoring/model-versions';
import { ModelTrainingRefusal } from '../domain/scoring/retrain';
import { holdoutCutOff, labelDefinitionOf, ModelServingConflict, retrainableLabel, rollbackModel } from '../domain/scoring/training-job';
import { trainingCutOffs } from '../domain/scoring/training-examples';
import { adminApiHandler, dispatchRoute, type AdminRoute, type RouteTable } from '../http/admin-handler';
import { BadRequestError, ConflictError, NotFoundError } from '../http/errors';
import { invalidBody, optionalJsonBody } from '../http/request-body';
import { jsonResponse } from '../http/responses';

const logger = new Logger({ serviceName: 'model-api' });

const MAX_BODY_BYTES = 16_384;
/** Jobs listed with a model, newest first. */
const LISTED_JOBS = 20;
/** A job still `running` after this long is taken as dead (its execution timed out): another may start. */
const STALE_JOB_MS = 6 * 3_600_000;

const trainBody = z.strictObject({ asOf: z.string().optional() });

/** How a model reports its quality: its holdout AUC when trained here, else the prior's cross-validated (or training) AUC. */
function summaryOf(score: string, model: ModelArtifact, trained: boolean, holdoutAuc: number | undefined) {
  return {
    score,
    version: model.modelVersion,
    auc: holdoutAuc ?? model.training.crossValidation?.aucMean ?? model.training.trainAuc,
    trainedAt: model.createdAt,
    features: model.features.map((feature) => feature.name),
    traits: traitsOfModel(model),
    /** `prior`: shipped (or configured by file); `trained`: promoted by a retraining job on this platform's data. */
    source: trained ? 'trained' : 'prior',
    retrainable: retrainableLabel(score) !== undefined,
  };
}

const isStillRunning = (job: TrainingJob, now: Date): boolean => job.status === 'running' && now.getTime() - Date.parse(job.startedAt) < STALE_JOB_MS;

/** The routes of the Models API (docs/contract.md §14) over its environment and a clock. */
export function modelRoutes(environmentOf: () => ModelEnvironment, clock: () => Date = () => new Date()): AdminRoute {
  let built: ModelEnvironment | undefined;
  const environment = (): ModelEnvironment => (built ??= environmentOf());

  /** The model serving `score` and its serving entry; 404 when no model has that name. */
  const inService = async (score: string) => {
    const { models, entries } = await environment().models.current({ consistent: true });
    const model = models.get(score);
    if (!model) throw new NotFoundError(`no model scores "${score}": models are ${[...models.keys()].join(', ')}`);
    return { model, entry: entries.find((entry) => entry.score === score) };
  };

  const isTrained = (score: string, model: ModelArtifact): boolean => model.modelVersion !== environment().models.priorVersion(score);

  const retrainable = (score: string) => {
    try {
      return labelDefinitionOf(score);
    } catch (error) {
      if (error instanceof ModelTrainingRefusal) throw new ConflictError([{ path: 'score', reason: error.message }]);
      throw error;
    }
  };

  const startRescore = (score: string) => async (reason: string) => {
    await environment().rescore.start(`models-${score}-${newRunId(clock())}`, { trigger: 'model-change', reason });
  };

  const routes: RouteTable<ModelRouteKey> = {
    'GET /v1/models': async () => {
      const { models } = await environment().models.current({ consistent: true });
      const summaries = await Promise.all(
        [...models].map(async ([score, model]) => {
          const trained = isTrained(score, model);
          const record = trained ? (await environment().store.listVersions(score)).find((version) => version.version === model.modelVersion) : undefined;
          return summaryOf(score, model, trained, record?.auc);
        }),
      );
      return jsonResponse(200, { models: summaries });
    },
    'GET /v1/models/{score}': async (event) => {
      const score = event.pathParameters?.score ?? '';
      const { model, entry } = await inService(score);
      const [versions, jobs, config] = await Promise.all([
        environment().store.listVersions(score),
        environment().store.listJobs(score, LISTED_JOBS),
        environment().store.getFeatureConfig(score),
      ]);
      const current = versions.find((version) => version.version === model.modelVersion);
      const definition = retrainableLabel(score);
      return jsonResponse(200, {
        ...summaryOf(score, model, isTrained(score, model), current?.auc),
        ...(definition && { label: { column: definition.column, horizonDays: definition.horizonDays, description: definition.description } }),
        featureConfig: config ?? { traits: [] },
        rollbackTo: entry?.previous.at(-1) ?? null,
        versions: versions.map((version) => ({ ...version, inService: version.version === model.modelVersion })),
        jobs,
      });
    },
    'PUT /v1/models/{score}/features': async (event) => {
      const score = event.pathParameters?.score ?? '';
      await inService(score);
      retrainable(score);
      const parsed = featureConfigBody.safeParse(await optionalJsonBody(event, MAX_BODY_BYTES));
      if (!parsed.success) throw invalidBody(parsed.error);
      await environment().store.putFeatureConfig(score, parsed.data, clock());
      logger.info('model features configured', { score, traits: parsed.data.traits.length });
      return jsonResponse(200, { score, ...parsed.data, appliesFrom: 'the next training' });
    },
    'POST /v1/models/{score}/train': async (event) => {
      const score = event.pathParameters?.score ?? '';
      await inService(score);
      const definition = retrainable(score);
      const parsed = trainBody.safeParse(await optionalJsonBody(event, MAX_BODY_BYTES));
      if (!parsed.success) throw invalidBody(parsed.error);
      const now = clock();
      const asOf = (() => {
        try {
          return holdoutCutOff(definition, parsed.data.asOf, now);
        } catch (error) {
          if (error instanceof ModelTrainingRefusal) throw new BadRequestError([{ path: 'asOf', reason: error.message }]);
          throw error;
        }
      })();
      const [running] = (await environment().store.listJobs(score, 1)).filter((job) => isStillRunning(job, now));
      if (running) throw new ConflictError([{ path: 'score', reason: `job ${running.jobId} is already training "${score}"` }]);
      const jobId = newRunId(now);
      const config = await environment().store.getFeatureConfig(score);
      // Recorded before the execution starts, so the job can be read as soon as it is answered.
      await environment().store.putJob({
        score,
        jobId,
        status: 'running',
        trigger: 'api',
        asOf: asOf.toISOString().slice(0, 10),
        trainCutOff: trainingCutOffs(definition, asOf).train.toISOString().slice(0, 10),
        traits: config?.traits ?? [],
        startedAt: now.toISOString(),
      });
      await environment().training.start(jobId, { score, jobId, asOf: asOf.toISOString().slice(0, 10), trigger: 'api' });
      logger.info('training job started', { score, jobId });
      return jsonResponse(202, { jobId, status: 'running' });
    },
    'GET /v1/models/{score}/jobs/{jobId}': async (event) => {
      const score = event.pathParameters?.score ?? '';
      const jobId = event.pathParameters?.jobId ?? '';
      const job = await environment().store.getJob(score, jobId);
      if (!job) throw new NotFoundError(`no training job ${jobId} for "${score}"`);
      return jsonResponse(200, job);
    },
    'POST /v1/models/{score}/rollback': async (event) => {
      const score = event.pathParameters?.score ?? '';
      await inService(score);
      try {
        const entry = await rollbackModel(score, { ...environment(), startRescore: startRescore(score), now: clock });
        if (!entry)
          throw new ConflictError([{ path: 'score', reason: `"${score}" is served by its first model: there is no earlier version to roll back to` }]);
        logger.info('model rolled back', { score, version: entry.version });
        return jsonResponse(200, { score, version: entry.version, rollbackTo: entry.previous.at(-1) ?? null });
      } catch (error) {
        if (error instanceof ModelServingConflict) throw new ConflictError([{ path: 'score', reason: error.message }]);
        throw error;
      }
    },
  };
  return (event) => dispatchRoute(routes, event);
}

let route: AdminRoute | undefined;

/** Admin Models API (docs/contract.md §14): models in service, trait features, retraining jobs, rollback. */
export const handler = adminApiHandler(logger, (event) => {
  route ??= modelRoutes(() => modelEnvironment());
  return route(event);
});
