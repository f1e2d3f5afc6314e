import type { Provenance } from '../profile/profile';
import type { AcceptedMessage } from '../tracking/accepted-message';
import { asObject } from '../tracking/json';

/** Imports mark their rows with `context.dmp.origin`; everything else is the company's own tracking. */
export function provenanceOf(message: AcceptedMessage): Provenance {
  const origin = asObject(asObject(message.context.dmp).origin);
  const party = origin.party === 'second' || origin.party === 'third' ? origin.party : 'first';
  const source = typeof origin.source === 'string' ? origin.source : 'tracking';
  return { source, party };
}
