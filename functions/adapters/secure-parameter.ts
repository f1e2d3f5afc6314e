import { createHmac } from 'node:crypto';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { Pseudonyms } from '../domain/identity/pseudonym';

/**
 * A secret from the function environment: `<name>` holds it directly (the local platform), else
 * `<name>_PARAMETER` names an SSM SecureString created by the operator (AWS), read with decryption
 * once per container. A failed read is retried on the next call rather than cached.
 */
export function secretFromEnvironment(env: NodeJS.ProcessEnv, name: string, ssm: () => SSMClient = () => new SSMClient({})): () => Promise<string> {
  let secret: Promise<string> | undefined;
  return () => {
    secret ??= (async () => {
      const inline = env[name];
      if (inline) return inline;
      const parameterName = env[`${name}_PARAMETER`];
      if (!parameterName) throw new Error(`neither ${name} nor ${name}_PARAMETER is set`);
      const { Parameter } = await ssm().send(new GetParameterCommand({ Name: parameterName, WithDecryption: true }));
      if (!Parameter?.Value) throw new Error(`the SSM parameter named by ${name}_PARAMETER has no value`);
      return Parameter.Value;
    })();
    secret.catch(() => (secret = undefined));
    return secret;
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
