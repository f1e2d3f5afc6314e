/**
 * The field problems of an API answer (`{"errors": [{"path", "reason"}]}` of a 400 or 409), so a
 * form shows each next to its field. Pure: it reads the answer's body, not the HTTP response.
 */

export interface Problem {
  readonly path: string;
  readonly reason: string;
}

/** Problems by form field: a field's name, or '' for what no field holds (shown above the form). */
export type FieldProblems = Readonly<Record<string, string>>;

/** The `errors` of an API answer's body; none when it has no such list. */
export function problemsOf(body: unknown): Problem[] {
  if (typeof body !== 'object' || body === null) return [];
  const { errors } = body as { errors?: unknown };
  if (!Array.isArray(errors)) return [];
  return errors.flatMap((error: unknown) => {
    if (typeof error !== 'object' || error === null) return [];
    const { path, reason } = error as { path?: unknown; reason?: unknown };
    return typeof reason === 'string' ? [{ path: typeof path === 'string' ? path : '', reason }] : [];
  });
}

/**
 * The problems under `prefix` (`destinations[1]`), by form field: `fields` maps an API path below
 * the prefix (`template.subject`) to the form field showing it; a path inside a field
 * (`events[0]`, `content.link`) goes to that field, anything else to ''.
 */
export function fieldProblems(problems: readonly Problem[], fields: Readonly<Record<string, string>>, prefix = ''): FieldProblems {
  const found: Record<string, string> = {};
  for (const { path, reason } of problems) {
    let rest: string;
    if (prefix === '') rest = path;
    else if (path === prefix) rest = '';
    else if (path.startsWith(`${prefix}.`)) rest = path.slice(prefix.length + 1);
    else continue;
    const apiPath = Object.keys(fields)
      .filter((key) => rest === key || rest.startsWith(`${key}.`) || rest.startsWith(`${key}[`))
      .sort((a, b) => b.length - a.length)[0];
    const field = apiPath === undefined ? '' : (fields[apiPath] ?? '');
    // The first reason of a field is the one to fix first; the others follow once it is.
    found[field] ??= field === '' && rest !== '' ? `${rest}: ${reason}` : reason;
  }
  return found;
}

/** Whether a set of problems has any. */
export const hasProblems = (problems: FieldProblems): boolean => Object.keys(problems).length > 0;
