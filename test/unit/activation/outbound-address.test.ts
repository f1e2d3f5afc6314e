import { checkOutboundUrl, outboundUrlPolicyFromEnv, refusedAddressClass } from '../../../functions/domain/activation/outbound-address';

describe('refusedAddressClass', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.8', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['FE80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['100.64.0.1', 'carrier-grade-nat'],
    ['100.127.255.255', 'carrier-grade-nat'],
    ['255.255.255.255', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['2001::1', 'reserved'],
    // IPv6 forms that carry an IPv4 address are refused like that address.
    ['::ffff:10.0.0.8', 'private'],
    ['::ffff:a00:8', 'private'],
    ['0:0:0:0:0:ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::10.0.0.8', 'private'],
    ['::a00:8', 'private'],
    ['::7f00:1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['2002:a00:8::1', 'private'],
    ['2002:7f00:1::', 'loopback'],
    // A deprecated IPv4-compatible form of a public address is still not a public IPv6 address.
    ['::8.8.8.8', 'reserved'],
  ])('%s is %s', (address, expected) => {
    expect(refusedAddressClass(address)).toBe(expected);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '100.128.0.1',
    '192.169.0.1',
    '2606:4700:4700::1111',
    '2a00:1450:4007::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
    '[2606:4700::1]',
  ])('%s is public', (address) => {
    expect(refusedAddressClass(address)).toBeUndefined();
  });

  it('throws for what is not an IP address', () => {
    expect(() => refusedAddressClass('example.com')).toThrow(TypeError);
  });
});

describe('checkOutboundUrl', () => {
  const strict = { allowLoopback: false };
  const local = { allowLoopback: true };
  const refusal = (url: string, policy = strict): string | undefined => {
    const check = checkOutboundUrl(url, policy);
    return check.ok ? undefined : check.refused;
  };

  it('accepts https to a public host name or address', () => {
    for (const url of [
      'https://crm.example/hooks/dmp',
      'https://hooks.example.com:8443/a?b=c',
      'https://8.8.8.8/x',
      'https://[2606:4700::1111]/x',
      'https://crm.example./trailing-dot',
    ]) {
      expect(checkOutboundUrl(url, strict)).toMatchObject({ ok: true });
    }
  });

  it('refuses what is not https', () => {
    expect(refusal('http://crm.example/hook')).toBe('scheme');
    expect(refusal('ftp://crm.example/hook')).toBe('scheme');
    expect(refusal('file:///etc/passwd')).toBe('scheme');
    expect(refusal('gopher://crm.example/')).toBe('scheme');
    expect(refusal('not a url')).toBe('url');
    expect(refusal('/relative/path')).toBe('url');
  });

  it.each([
    ['https://127.0.0.1/', 'loopback'],
    ['https://2130706433/', 'loopback'], // decimal
    ['https://0177.0.0.1/', 'loopback'], // octal
    ['https://0x7f.1/', 'loopback'], // hex, short form
    ['https://0x7f000001/', 'loopback'],
    ['https://127.1/', 'loopback'],
    ['https://%31%32%37.0.0.1/', 'loopback'], // percent-encoded
    ['https://[::1]/', 'loopback'],
    ['https://[::ffff:127.0.0.1]/', 'loopback'],
    ['https://localhost/', 'loopback'],
    ['https://LOCALHOST./', 'loopback'],
    ['https://api.localhost/', 'loopback'],
    ['https://10.0.0.8/', 'private'],
    ['https://012.0.0.8/', 'private'], // octal 10.0.0.8
    ['https://167772168/', 'private'], // decimal 10.0.0.8
    ['https://[::ffff:10.0.0.8]/', 'private'],
    ['https://[::ffff:a00:8]/', 'private'],
    ['https://[::a00:8]/', 'private'],
    ['https://172.20.1.1/', 'private'],
    ['https://192.168.0.10:8443/', 'private'],
    ['https://169.254.169.254/latest/meta-data/', 'link-local'],
    ['https://0xa9.0xfe.0xa9.0xfe/', 'link-local'],
    ['https://[fe80::1]/', 'link-local'],
    ['https://[fd00::1]/', 'unique-local'],
    ['https://224.0.0.251/', 'multicast'],
    ['https://[ff02::1]/', 'multicast'],
    ['https://0.0.0.0/', 'unspecified'],
    ['https://0/', 'unspecified'],
    ['https://[::]/', 'unspecified'],
    ['https://100.64.0.1/', 'carrier-grade-nat'],
    ['https://metadata.google.internal/', 'host'],
    ['https://printer.local/', 'host'],
    ['https://router.home.arpa/', 'host'],
    ['https://metadata/', 'host'],
  ])('refuses %s (%s)', (url, expected) => {
    const check = checkOutboundUrl(url, strict);
    expect(check).toMatchObject({ ok: false, refused: expected });
    expect(check.ok || check.reason.length > 0).toBe(true);
  });

  it('allows loopback receivers, over http too, only when the policy does (the local platform)', () => {
    for (const url of ['http://127.0.0.1:3000/dev/webhooks/crm', 'http://localhost:3000/dev/webhooks/crm', 'http://[::1]:3000/x', 'https://127.0.0.1/x']) {
      expect(checkOutboundUrl(url, local)).toMatchObject({ ok: true });
      expect(refusal(url, strict)).toBe('loopback');
    }
    // Loopback only: private, link-local and http to public hosts stay refused.
    expect(refusal('http://10.0.0.8/x', local)).toBe('private');
    expect(refusal('https://169.254.169.254/', local)).toBe('link-local');
    expect(refusal('http://crm.example/x', local)).toBe('scheme');
  });

  it('reads the local flag from DMP_ALLOW_LOOPBACK_WEBHOOKS', () => {
    expect(outboundUrlPolicyFromEnv({})).toEqual({ allowLoopback: false });
    expect(outboundUrlPolicyFromEnv({ DMP_ALLOW_LOOPBACK_WEBHOOKS: '1' })).toEqual({ allowLoopback: true });
    expect(outboundUrlPolicyFromEnv({ DMP_ALLOW_LOOPBACK_WEBHOOKS: 'true' })).toEqual({ allowLoopback: true });
    expect(outboundUrlPolicyFromEnv({ DMP_ALLOW_LOOPBACK_WEBHOOKS: '0' })).toEqual({ allowLoopback: false });
  });
});
