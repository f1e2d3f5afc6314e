/**
 * The Lambda functions of the platform: where each handler lives and what it may touch.
 * CDK builds `DmpFunction`s from these; the local platform imports the same entry files.
 */
export type FunctionId = 'ingest' | 'reconcile' | 'profileApi' | 'importApi';

export interface FunctionDefinition {
  readonly id: FunctionId;
  /** Handler module, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  /** Table ids (see tables.ts) the function reads and writes. */
  readonly tables: readonly string[];
  /** Queue ids (see queues.ts) the function sends to. */
  readonly sendsTo: readonly string[];
  /** Secrets the function verifies against (hashes only), see lib/definitions/secrets.ts. */
  readonly verifies: readonly ('writeKeys' | 'adminTokens')[];
}

export const FUNCTIONS: readonly FunctionDefinition[] = [
  {
    id: 'ingest',
    entry: 'functions/handlers/ingest.ts',
    description: 'Tracking API: authenticates, validates and durably enqueues Segment-compatible messages',
    memorySize: 512,
    timeoutSeconds: 10,
    tables: [],
    sendsTo: ['Events'],
    verifies: ['writeKeys'],
  },
  {
    id: 'reconcile',
    entry: 'functions/handlers/reconcile.ts',
    description: 'Consumes accepted events: resolves identities, updates profiles, stores event history',
    memorySize: 1024,
    timeoutSeconds: 30,
    tables: ['Profiles'],
    sendsTo: [],
    verifies: [],
  },
  {
    id: 'profileApi',
    entry: 'functions/handlers/profile-api.ts',
    description: 'Admin Profile API: profiles, their events and merge log, erasure',
    memorySize: 512,
    timeoutSeconds: 10,
    tables: ['Profiles'],
    sendsTo: [],
    verifies: ['adminTokens'],
  },
  {
    id: 'importApi',
    entry: 'functions/handlers/import-api.ts',
    description: 'Admin Import API: maps CRM, partner and third-party files to identify messages and queues them',
    memorySize: 1024,
    timeoutSeconds: 29,
    tables: [],
    sendsTo: ['Events'],
    verifies: ['adminTokens'],
  },
];

export function functionDefinition(id: FunctionId): FunctionDefinition {
  const found = FUNCTIONS.find((f) => f.id === id);
  if (!found) throw new Error(`unknown function ${id}`);
  return found;
}
