/**
 * A positive number from the function environment, `fallback` when unset or empty. A wrong value
 * stops the function at its first use with the setting's name, rather than running misconfigured.
 */
export function positiveSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, options: { readonly integer?: boolean } = {}): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  const valid = options.integer ? Number.isSafeInteger(value) && value > 0 : Number.isFinite(value) && value > 0;
  if (!valid) throw new Error(`${name} must be a positive ${options.integer ? 'integer' : 'number'}`);
  return value;
}
