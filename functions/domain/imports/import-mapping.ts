import * as z from 'zod';

/**
 * How the columns of an imported file map to identifiers and traits. Without a mapping, columns
 * named like an identifier type (`user_id`, `email`, `phone`, `anonymous_id`, `device_id`, or
 * `id:<type>` for an external id) are identifiers, columns named `consent:<category>` are consent
 * decisions (as Segment's `categoryPreferences`), and every other column is a trait of that name.
 */
export const importMappingSchema = z
  .object({
    /** Identifier type → column, e.g. `{"email": "E-mail", "crm_id": "Customer no."}`. */
    identifiers: z.record(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'identifier types are lower_snake_case'), z.string().min(1)).default({}),
    /** Trait name → column, e.g. `{"firstName": "First name"}`. */
    traits: z.record(z.string().min(1), z.string().min(1)).default({}),
    /** Column holding when the record was true (ISO 8601); the import time otherwise. */
    timestamp: z.string().min(1).optional(),
    /**
     * Consent category → column of yes/no values (`true`/`false`, `yes`/`no`, `1`/`0`, `granted`/`denied`,
     * `opt-in`/`opt-out`), e.g. `{"Marketing": "Newsletter opt-in"}`: the CRM's record of what the person chose.
     */
    consent: z.record(z.string().min(1).max(100), z.string().min(1)).optional(),
  })
  .strict();

export type ImportMapping = z.infer<typeof importMappingSchema>;

export type Party = 'first' | 'second' | 'third';

const IDENTIFIER_COLUMNS: Record<string, string> = {
  user_id: 'user_id',
  userid: 'user_id',
  email: 'email',
  phone: 'phone',
  anonymous_id: 'anonymous_id',
  anonymousid: 'anonymous_id',
  device_id: 'device_id',
};

/** The mapping implied by a header when none is given. */
export function defaultMapping(header: readonly string[]): ImportMapping {
  const identifiers: Record<string, string> = {};
  const traits: Record<string, string> = {};
  const consent: Record<string, string> = {};
  for (const column of header) {
    const lower = column.trim().toLowerCase();
    const category = /^consent:(.+)$/.exec(column.trim())?.[1];
    if (category) {
      consent[category] = column;
      continue;
    }
    const external = /^id:([a-z][a-z0-9_]{0,63})$/.exec(lower)?.[1];
    const type = (Object.hasOwn(IDENTIFIER_COLUMNS, lower) ? IDENTIFIER_COLUMNS[lower] : undefined) ?? external;
    if (type) identifiers[type] = column;
    else if (lower === 'timestamp') continue;
    else traits[column] = column;
  }
  return { identifiers, traits, ...(Object.keys(consent).length > 0 && { consent }), ...(header.includes('timestamp') && { timestamp: 'timestamp' }) };
}

/** Columns a mapping names that the file does not have. */
export function missingColumns(mapping: ImportMapping, header: readonly string[]): string[] {
  const present = new Set(header);
  const named = [
    ...Object.values(mapping.identifiers),
    ...Object.values(mapping.traits),
    ...Object.values(mapping.consent ?? {}),
    ...(mapping.timestamp ? [mapping.timestamp] : []),
  ];
  return [...new Set(named.filter((column) => !present.has(column)))];
}
