import { withCors } from '../http/cors';
import { handler as ingest } from './ingest';

/**
 * The ingest function's entry: the Tracking API (ingest.ts) with CORS for any origin, since the
 * SDKs run in browsers on customer sites. The function answers the preflights of its paths itself
 * (see `CorsPolicy` in lib/definitions/api.ts).
 */
export const handler = withCors('any-origin', ingest);
