import { lookup as dnsLookup } from 'node:dns/promises';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { AttemptResult } from '../domain/activation/delivery';
import type { WebhookCall } from '../domain/activation/deliver-transition';
import type { WebhookTransport } from '../ports/webhook-transport';
import { checkOutboundUrl, refusedAddressClass, type OutboundUrlPolicy } from '../domain/activation/outbound-address';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Every address a host name resolves to (as `dns.lookup` with `all: true`). */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export interface WebhookSenderOptions {
  /** A receiver that has not answered by then (name resolution included) counts as a failed attempt. Default 10 s. */
  readonly timeoutMs?: number;
  /** Which receivers may be called; default: public addresses only, over https. */
  readonly policy?: OutboundUrlPolicy;
  /** Test seam: name resolution. Default: the system resolver (`dns.lookup`), as the HTTP client would use. */
  readonly resolve?: Resolver;
}

const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));

/** Rejects when `signal` aborts first. */
function racing<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * POSTs one signed webhook and reports what happened; it never throws for the receiver's failures.
 *
 * Against SSRF the URL is checked (scheme, literal address), its host name resolved, every address
 * it resolves to checked, and the connection pinned to the checked addresses through the socket's
 * `lookup`: a DNS answer that changes between the check and the connection (DNS rebinding) is never
 * used. TLS still verifies the certificate against the URL's host name, which is also the SNI and
 * the Host header. A refused URL opens no connection and is reported as `{refused}`. Redirects are
 * not followed.
 */
export class WebhookSender implements WebhookTransport {
  private readonly timeoutMs: number;
  private readonly policy: OutboundUrlPolicy;
  private readonly resolve: Resolver;
  private readonly agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

  constructor(options: WebhookSenderOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.policy = options.policy ?? { allowLoopback: false };
    this.resolve = options.resolve ?? systemResolver;
  }

  async send(request: WebhookCall): Promise<AttemptResult> {
    const target = checkOutboundUrl(request.url, this.policy);
    if (!target.ok) return { refused: target.refused };
    const signal = AbortSignal.timeout(this.timeoutMs);
    let pinned: readonly ResolvedAddress[];
    if (target.ipFamily !== 0) {
      pinned = [{ address: target.hostname, family: target.ipFamily }];
    } else {
      let addresses: readonly ResolvedAddress[];
      try {
        addresses = await racing(this.resolve(target.hostname), signal);
      } catch {
        return { error: signal.aborted ? 'timeout' : 'network' };
      }
      if (addresses.length === 0 || addresses.some(({ address }) => isIP(address) === 0)) return { error: 'network' };
      // Every address, not only the one used: a name that also resolves inside the network is refused.
      for (const { address } of addresses) {
        const refused = refusedAddressClass(address);
        if (refused !== undefined && !(refused === 'loopback' && this.policy.allowLoopback)) return { refused };
      }
      pinned = addresses;
    }
    return this.post(target.url, pinned, request, signal);
  }

  /** Idle keep-alive connections are closed (tests; a Lambda container simply ends). */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private post(url: URL, pinned: readonly ResolvedAddress[], request: WebhookCall, signal: AbortSignal): Promise<AttemptResult> {
    const body = Buffer.from(request.body, 'utf8');
    const [first] = pinned as [ResolvedAddress];
    // The socket connects to the checked addresses (in turn, with Node's happy eyeballs), whatever a new lookup would answer now.
    const lookup: LookupFunction = (_hostname, options, callback) => {
      if (options.all)
        callback(
          null,
          pinned.map(({ address, family }) => ({ address, family })),
        );
      else callback(null, first.address, first.family);
    };
    const https = url.protocol === 'https:';
    return new Promise((resolve) => {
      const outgoing = (https ? httpsRequest : httpRequest)(
        url,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'serverless-cdp-webhooks/1',
            ...request.headers,
            'content-length': String(body.length),
          },
          agent: https ? this.agents.https : this.agents.http,
          lookup,
          signal,
        },
        (response: IncomingMessage) => {
          // The body is not needed, but it must be consumed for the connection to be reused.
          response.on('error', () => undefined);
          response.resume();
          resolve({ status: response.statusCode ?? 0 });
        },
      );
      outgoing.on('error', () => resolve({ error: signal.aborted ? 'timeout' : 'network' }));
      outgoing.end(body);
    });
  }
}
