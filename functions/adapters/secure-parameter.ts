import { createHmac } from 'node:crypto';
import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import { Pseudonyms } from '../domain/identity/pseudonym';

/**
 * SSM SecureStrings, read with decryption through Powertools Parameters: one cache per container
 * for `maxAgeSeconds`, so a rotated value is picked up without a deploy; a failed read is not
 * cached (the next call tries again).
 */
export async function secureParameter(name: string, maxAgeSeconds: number): Promise<string> {
  const value = await getParameter(name, { decrypt: true, maxAge: maxAgeSeconds });
  if (!value) throw new Error(`the SSM parameter ${name} has no value`);
  return value;
}

/** Secrets that never change once data depends on them (unsubscribe links, pseudonyms): read once an hour. */
const STABLE_SECRET_MAX_AGE_SECONDS = 3_600;
/** Webhook signing secrets may be rotated by the operator: picked up within five minutes. */
const WEBHOOK_SECRET_MAX_AGE_SECONDS = 300;

/**
 * A secret from the function environment: `<name>` holds it directly (the local platform), else
 * `<name>_PARAMETER` names an SSM SecureString created by the operator (AWS).
 */
export function secretFromEnvironment(env: NodeJS.ProcessEnv, name: string): () => Promise<string> {
  return async () => {
    const inline = env[name];
    if (inline) return inline;
    const parameterName = env[`${name}_PARAMETER`];
    if (!parameterName) throw new Error(`neither ${name} nor ${name}_PARAMETER is set`);
    return secureParameter(parameterName, STABLE_SECRET_MAX_AGE_SECONDS);
  };
}

/**
 * The `whsec_` secret a webhook destination's `secretRef` names: an SSM SecureString on AWS.
 * Locally (no SSM), and for tests, `DMP_WEBHOOK_SECRETS` may map references to secrets as JSON:
 * `{"<ref>": "whsec_..."}`.
 */
export function webhookSecretsFromEnvironment(env: NodeJS.ProcessEnv): (secretRef: string) => Promise<string> {
  const local = env.DMP_WEBHOOK_SECRETS ? (JSON.parse(env.DMP_WEBHOOK_SECRETS) as Record<string, unknown>) : {};
  return async (secretRef) => {
    const inline = local[secretRef];
    return typeof inline === 'string' ? inline : secureParameter(secretRef, WEBHOOK_SECRET_MAX_AGE_SECONDS);
  };
}

/**
 * The keyed pseudonyms of suppression, unsubscribe and bounce records: `DMP_PSEUDONYM_SECRET`
 * (local) or the SecureString named by `DMP_PSEUDONYM_SECRET_PARAMETER` (AWS, `/dmp/pseudonym-secret`
 * by default). The secret must never change once records exist: records written under another
 * secret would no longer be found. A local platform that sets only `DMP_UNSUBSCRIBE_SECRET` (no
 * SSM there) gets one derived from it, as stable as that one.
 */
export function pseudonymsFromEnvironment(env: NodeJS.ProcessEnv): () => Promise<Pseudonyms> {
  const derivedLocally = !env.DMP_PSEUDONYM_SECRET && !env.DMP_PSEUDONYM_SECRET_PARAMETER && env.DMP_UNSUBSCRIBE_SECRET;
  const secret = derivedLocally
    ? async () =>
        createHmac('sha256', env.DMP_UNSUBSCRIBE_SECRET ?? '')
          .update('dmp-local-pseudonym-secret')
          .digest('hex')
    : secretFromEnvironment(env, 'DMP_PSEUDONYM_SECRET');
  let pseudonyms: Promise<Pseudonyms> | undefined;
  return () => {
    pseudonyms ??= secret().then((value) => new Pseudonyms(value));
    pseudonyms.catch(() => (pseudonyms = undefined));
    return pseudonyms;
  };
}
