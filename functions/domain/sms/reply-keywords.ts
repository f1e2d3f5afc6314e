/**
 * What an inbound SMS reply asks for. Carriers and AWS End User Messaging SMS recognise these
 * keywords; the platform honours them itself too, so an opt-out counts even where the phone
 * number's own keyword handling is off, and it reaches the profile's consent.
 *
 * - Opt-out: the reply's first word, or the whole reply without spaces, is one of STOP, ARRET
 *   (ARRÊT), STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, OPTOUT (OPT-OUT, OPT OUT) or REVOKE, in any
 *   case, accents ignored, punctuation ignored ("Stop.", "arrêt !", "STOP please"). Leaning to
 *   opt-out is deliberate: a missed STOP is a complaint, a needless one costs one subscriber.
 * - Opt-in: the whole reply is START or UNSTOP (nothing else: "start" inside a sentence is no consent).
 * - Anything else is an ordinary reply, not acted on.
 */
export type ReplyIntent = 'opt-out' | 'opt-in' | 'other';

export const OPT_OUT_KEYWORDS: readonly string[] = ['STOP', 'ARRET', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT', 'REVOKE'];
export const OPT_IN_KEYWORDS: readonly string[] = ['START', 'UNSTOP'];

/** Upper case, accents and punctuation removed, words separated by one space. */
export function normalizeReply(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, ' ')
    .trim();
}

export function replyIntent(text: string): ReplyIntent {
  const normalized = normalizeReply(text);
  if (normalized === '') return 'other';
  const words = normalized.split(' ');
  const joined = words.join('');
  if (OPT_OUT_KEYWORDS.includes(words[0] ?? '') || OPT_OUT_KEYWORDS.includes(joined)) return 'opt-out';
  if (OPT_IN_KEYWORDS.includes(joined) && words.length === 1) return 'opt-in';
  return 'other';
}
