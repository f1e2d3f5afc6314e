import { BlockList, isIP } from 'node:net';

/**
 * What the platform may call on a user's configuration (webhook destinations): public addresses
 * only, so a segment cannot make the platform reach into its own network (SSRF): the instance
 * metadata service, a VPC endpoint, the local machine. Used twice: on the URL when it is saved,
 * and on every address its host name resolves to when it is called (see webhook-sender.ts).
 *
 * Address ranges are Node's `net.BlockList`s; odd spellings of IPv4 addresses (decimal
 * `2130706433`, octal `0177.0.0.1`, hex `0x7f.1`, short `127.1`) are normalized by the WHATWG URL
 * parser before they get here, as they would be by the HTTP client.
 */

/** Why an address is refused; named in the 400 answer and in the delivery log. */
export type RefusedAddressClass = 'loopback' | 'private' | 'link-local' | 'unique-local' | 'multicast' | 'unspecified' | 'carrier-grade-nat' | 'reserved';

interface Ipv4Range {
  readonly network: string;
  readonly prefix: number;
  readonly class: RefusedAddressClass;
}

/** IPv4 special-purpose ranges (IANA registry, RFC 6890) that are not global unicast. */
const IPV4_RANGES: readonly Ipv4Range[] = [
  { network: '0.0.0.0', prefix: 8, class: 'unspecified' }, // "this network"; 0.0.0.0 reaches the local host
  { network: '127.0.0.0', prefix: 8, class: 'loopback' },
  { network: '10.0.0.0', prefix: 8, class: 'private' },
  { network: '172.16.0.0', prefix: 12, class: 'private' },
  { network: '192.168.0.0', prefix: 16, class: 'private' },
  { network: '169.254.0.0', prefix: 16, class: 'link-local' }, // 169.254.169.254: cloud instance metadata
  { network: '100.64.0.0', prefix: 10, class: 'carrier-grade-nat' },
  { network: '224.0.0.0', prefix: 4, class: 'multicast' },
  { network: '192.0.0.0', prefix: 24, class: 'reserved' }, // IETF protocol assignments
  { network: '192.0.2.0', prefix: 24, class: 'reserved' }, // documentation
  { network: '192.88.99.0', prefix: 24, class: 'reserved' }, // 6to4 relay anycast (deprecated)
  { network: '198.18.0.0', prefix: 15, class: 'reserved' }, // benchmarking
  { network: '198.51.100.0', prefix: 24, class: 'reserved' }, // documentation
  { network: '203.0.113.0', prefix: 24, class: 'reserved' }, // documentation
  { network: '240.0.0.0', prefix: 4, class: 'reserved' }, // future use, and 255.255.255.255 broadcast
];

/** IPv6 ranges refused as a whole. */
const IPV6_RANGES: ReadonlyArray<{ readonly network: string; readonly prefix: number; readonly class: RefusedAddressClass }> = [
  { network: '::', prefix: 128, class: 'unspecified' },
  { network: '::1', prefix: 128, class: 'loopback' },
  { network: 'fe80::', prefix: 10, class: 'link-local' },
  { network: 'fc00::', prefix: 7, class: 'unique-local' },
  { network: 'ff00::', prefix: 8, class: 'multicast' },
  { network: 'fec0::', prefix: 10, class: 'reserved' }, // site-local (deprecated)
  { network: '100::', prefix: 64, class: 'reserved' }, // discard-only
  { network: '2001::', prefix: 32, class: 'reserved' }, // Teredo: tunnels to an obfuscated IPv4 address
  { network: '2001:db8::', prefix: 32, class: 'reserved' }, // documentation
  { network: '3fff::', prefix: 20, class: 'reserved' }, // documentation
  { network: '64:ff9b:1::', prefix: 48, class: 'reserved' }, // local-use IPv4/IPv6 translation
];

/**
 * IPv6 forms that carry an IPv4 address, each refused like the IPv4 address it carries:
 * IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and
 * 6to4 (2002:AABB:CCDD::/48, the IPv4 address in bits 16-47).
 */
function embeddedForms(range: Ipv4Range): ReadonlyArray<{ readonly network: string; readonly prefix: number }> {
  const octets = range.network.split('.').map(Number);
  const hex = (high: number, low: number): string => ((high << 8) | low).toString(16);
  return [
    { network: `::ffff:${range.network}`, prefix: 96 + range.prefix },
    { network: `::${range.network}`, prefix: 96 + range.prefix },
    { network: `64:ff9b::${range.network}`, prefix: 96 + range.prefix },
    { network: `2002:${hex(octets[0] ?? 0, octets[1] ?? 0)}:${hex(octets[2] ?? 0, octets[3] ?? 0)}::`, prefix: 16 + range.prefix },
  ];
}

/**
 * One BlockList per class, in the order they are checked: loopback before unspecified (::1 is
 * also ::0.0.0.1), and the catch-all ::/96 last, after the special IPv4 addresses it embeds.
 */
const BLOCK_LISTS: ReadonlyArray<readonly [RefusedAddressClass, BlockList]> = (() => {
  const order: readonly RefusedAddressClass[] = [
    'loopback',
    'unspecified',
    'private',
    'link-local',
    'carrier-grade-nat',
    'unique-local',
    'multicast',
    'reserved',
  ];
  const lists = new Map(order.map((name) => [name, new BlockList()] as const));
  const listOf = (name: RefusedAddressClass): BlockList => lists.get(name) as BlockList;
  for (const range of IPV4_RANGES) {
    listOf(range.class).addSubnet(range.network, range.prefix, 'ipv4');
    for (const form of embeddedForms(range)) listOf(range.class).addSubnet(form.network, form.prefix, 'ipv6');
  }
  for (const range of IPV6_RANGES) listOf(range.class).addSubnet(range.network, range.prefix, 'ipv6');
  const ipv4Compatible = new BlockList();
  ipv4Compatible.addSubnet('::', 96, 'ipv6');
  return [...lists, ['reserved', ipv4Compatible] as const];
})();

/**
 * The class of a refused IP address, or undefined for a public (global unicast) one. Accepts
 * IPv6 with or without brackets and with a zone id (`fe80::1%eth0`). Not an IP address: throws.
 */
export function refusedAddressClass(address: string): RefusedAddressClass | undefined {
  const bare = address.replace(/^\[(.*)\]$/, '$1').split('%')[0] ?? '';
  const family = isIP(bare);
  if (family === 0) throw new TypeError('not an IP address');
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const [name, list] of BLOCK_LISTS) if (list.check(bare, type)) return name;
  return undefined;
}

const DESCRIPTIONS: Readonly<Record<RefusedAddressClass, string>> = {
  loopback: 'a loopback address',
  private: 'a private network address',
  'link-local': 'a link-local address (such as the cloud metadata service)',
  'unique-local': 'a unique-local IPv6 address',
  multicast: 'a multicast address',
  unspecified: 'an unspecified address',
  'carrier-grade-nat': 'a carrier-grade NAT (shared) address',
  reserved: 'a reserved or special-purpose address',
};

export function describeAddressClass(addressClass: RefusedAddressClass): string {
  return DESCRIPTIONS[addressClass];
}

/** Host names that never name a public host: resolved by the local machine or its network only. */
const SPECIAL_USE_SUFFIXES = ['localhost', 'local', 'internal', 'home.arpa', 'localdomain'];

export interface OutboundUrlPolicy {
  /**
   * Loopback receivers are allowed (over http too): only on the local platform, whose test
   * receiver is `http://127.0.0.1:<port>/dev/webhooks/{name}`.
   */
  readonly allowLoopback: boolean;
}

export type OutboundUrlCheck =
  | { readonly ok: true; readonly url: URL; readonly hostname: string; readonly ipFamily: 0 | 4 | 6 }
  | { readonly ok: false; readonly reason: string; readonly refused: RefusedAddressClass | 'scheme' | 'host' | 'url' };

const refusedAddress = (addressClass: RefusedAddressClass): OutboundUrlCheck => ({
  ok: false,
  reason: `must not point to ${describeAddressClass(addressClass)}`,
  refused: addressClass,
});

/**
 * The checks that need no DNS: scheme (https; http only for loopback when allowed), and the host
 * when it is an IP address or a special-use name. A host name is checked again, on each address it
 * resolves to, when it is called.
 */
export function checkOutboundUrl(raw: string, policy: OutboundUrlPolicy): OutboundUrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'must be an absolute URL', refused: 'url' };
  }
  const httpsOnly: OutboundUrlCheck = {
    ok: false,
    reason: policy.allowLoopback ? 'must be https (http only on loopback)' : 'must be https',
    refused: 'scheme',
  };
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return httpsOnly;
  // URL has already normalized IPv4 spellings to dotted quads and IPv6 to its compressed form.
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const ipFamily = isIP(hostname) as 0 | 4 | 6;
  let loopback = false;
  if (ipFamily !== 0) {
    const addressClass = refusedAddressClass(hostname);
    loopback = addressClass === 'loopback';
    if (addressClass !== undefined && !(loopback && policy.allowLoopback)) return refusedAddress(addressClass);
  } else {
    const name = hostname.toLowerCase().replace(/\.+$/, '');
    const suffix = SPECIAL_USE_SUFFIXES.find((special) => name === special || name.endsWith(`.${special}`));
    loopback = suffix === 'localhost';
    if (loopback && !policy.allowLoopback) return refusedAddress('loopback');
    if (suffix !== undefined && !loopback) return { ok: false, reason: `must name a public host (.${suffix} names a local one)`, refused: 'host' };
    if (!loopback && !name.includes('.')) return { ok: false, reason: 'must name a public host by its full domain name', refused: 'host' };
  }
  if (url.protocol === 'http:' && !loopback) return httpsOnly;
  return { ok: true, url, hostname, ipFamily };
}

/** `DMP_ALLOW_LOOPBACK_WEBHOOKS=1` (set by the local platform): loopback receivers are allowed. */
export function outboundUrlPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): OutboundUrlPolicy {
  const flag = (env.DMP_ALLOW_LOOPBACK_WEBHOOKS ?? '').trim().toLowerCase();
  return { allowLoopback: flag === '1' || flag === 'true' };
}
