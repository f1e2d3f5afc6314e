/**
 * Requests the local SQS answered, counted as SQS bills them, for benchmarks' cost models: every
 * API call is a request, and each 64 KB chunk of the messages a send carries or a receive returns
 * counts as one more. Receives that returned nothing are counted apart (long polls of idle queues
 * cost by the hour, not by the message).
 */

/** SQS bills each 64 KB chunk of a request's payload as one request. */
export const SQS_BILLING_CHUNK_BYTES = 64 * 1024;
/** What `record` counts a receive that returned no message as. */
export const EMPTY_RECEIVE = 'ReceiveMessage (empty)';

export interface SqsRequestCount {
  readonly requests: number;
  /** Requests as billed: 64 KB chunks of payload. */
  readonly billedRequests: number;
  /** Messages sent, received or deleted by those requests. */
  readonly messages: number;
}

/** By queue name (`(no queue)` for account-level calls), then action. */
export type SqsRequestCounts = Readonly<Record<string, Readonly<Record<string, SqsRequestCount>>>>;

interface WireMessage {
  readonly MessageBody?: unknown;
  readonly Body?: unknown;
  readonly MessageAttributes?: unknown;
}

/** Body and attributes (name, type and value), as SQS sizes a message. */
function messageBytes(message: WireMessage): number {
  const body = typeof message.MessageBody === 'string' ? message.MessageBody : typeof message.Body === 'string' ? message.Body : '';
  let bytes = Buffer.byteLength(body);
  const attributes = typeof message.MessageAttributes === 'object' && message.MessageAttributes !== null ? message.MessageAttributes : {};
  for (const [name, attribute] of Object.entries(attributes as Record<string, Record<string, unknown>>)) {
    const value = attribute.StringValue ?? attribute.BinaryValue;
    bytes += Buffer.byteLength(name) + Buffer.byteLength(String(attribute.DataType ?? '')) + (typeof value === 'string' ? Buffer.byteLength(value) : 0);
  }
  return bytes;
}

const listOf = (value: unknown): WireMessage[] => (Array.isArray(value) ? (value as WireMessage[]) : []);

/** The messages an answered request carried and their bytes. */
function payloadOf(action: string, input: Record<string, unknown>, output: unknown): { messages: WireMessage[]; counted: number } {
  const answer = typeof output === 'object' && output !== null ? (output as Record<string, unknown>) : {};
  switch (action) {
    case 'SendMessage':
      return { messages: [input], counted: 1 };
    case 'SendMessageBatch':
      return { messages: listOf(input.Entries), counted: listOf(answer.Successful).length };
    case 'ReceiveMessage': {
      const received = listOf(answer.Messages);
      return { messages: received, counted: received.length };
    }
    case 'DeleteMessage':
    case 'ChangeMessageVisibility':
      return { messages: [], counted: 1 };
    case 'DeleteMessageBatch':
    case 'ChangeMessageVisibilityBatch':
      return { messages: [], counted: listOf(answer.Successful).length };
    default:
      return { messages: [], counted: 0 };
  }
}

interface MutableCount {
  requests: number;
  billedRequests: number;
  messages: number;
}

export class SqsRequestCounter {
  private readonly counts = new Map<string, Map<string, MutableCount>>();

  /** Counts one answered request of `action` on `queue`. */
  record(queue: string, action: string, input: Record<string, unknown>, output: unknown): void {
    const { messages, counted } = payloadOf(action, input, output);
    const payload = messages.reduce((sum, message) => sum + messageBytes(message), 0);
    const label = action === 'ReceiveMessage' && counted === 0 ? EMPTY_RECEIVE : action;
    const byAction = this.counts.get(queue) ?? new Map<string, MutableCount>();
    const count = byAction.get(label) ?? { requests: 0, billedRequests: 0, messages: 0 };
    count.requests += 1;
    count.billedRequests += Math.max(1, Math.ceil(payload / SQS_BILLING_CHUNK_BYTES));
    count.messages += counted;
    byAction.set(label, count);
    this.counts.set(queue, byAction);
  }

  snapshot(): SqsRequestCounts {
    return Object.fromEntries(
      [...this.counts].map(([queue, byAction]) => [queue, Object.fromEntries([...byAction].map(([action, count]) => [action, { ...count }]))]),
    );
  }
}
