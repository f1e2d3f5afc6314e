import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { loadCredentialHashes } from '../../../functions/adapters/credential-hashes';
import { sha256Hex } from '../../../functions/domain/auth/credentials';

const ssm = mockClient(SSMClient);
const original = { ...process.env };

/** Fakes only Date: the SDK's own timers must keep running. */
function fakeClockAt(now: Date): void {
  jest.useFakeTimers({
    now,
    doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask'],
  });
}

beforeEach(() => {
  ssm.reset();
  delete process.env.TEST_KEY_HASHES;
  delete process.env.TEST_KEY_PARAMETER_NAME;
});

afterAll(() => {
  process.env = original;
  jest.useRealTimers();
});

describe('loadCredentialHashes', () => {
  it('reads <prefix>_HASHES locally, without calling SSM', async () => {
    process.env.TEST_KEY_HASHES = `${sha256Hex('a')},${sha256Hex('b')}`;
    process.env.TEST_KEY_PARAMETER_NAME = '/dmp/unused';
    await expect(loadCredentialHashes('TEST_KEY')).resolves.toEqual([sha256Hex('a'), sha256Hex('b')]);
    expect(ssm.calls()).toHaveLength(0);
  });

  it('reads the SSM parameter named by <prefix>_PARAMETER_NAME and caches it for 60 s', async () => {
    fakeClockAt(new Date('2026-01-01T00:00:00Z'));
    process.env.TEST_KEY_PARAMETER_NAME = '/dmp/write-key-hashes/cached';
    ssm
      .on(GetParameterCommand, { Name: '/dmp/write-key-hashes/cached' })
      .resolvesOnce({ Parameter: { Value: sha256Hex('old') } })
      .resolvesOnce({ Parameter: { Value: `${sha256Hex('old')},${sha256Hex('new')}` } });

    await expect(loadCredentialHashes('TEST_KEY')).resolves.toEqual([sha256Hex('old')]);
    jest.setSystemTime(new Date('2026-01-01T00:00:59Z'));
    await expect(loadCredentialHashes('TEST_KEY')).resolves.toEqual([sha256Hex('old')]);
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);

    // A rotation (second hash added) is picked up once the cache expires.
    jest.setSystemTime(new Date('2026-01-01T00:01:01Z'));
    await expect(loadCredentialHashes('TEST_KEY')).resolves.toEqual([sha256Hex('old'), sha256Hex('new')]);
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(2);
    jest.useRealTimers();
  });

  it('fails when neither variable is set', async () => {
    await expect(loadCredentialHashes('TEST_KEY')).rejects.toThrow('TEST_KEY_HASHES or TEST_KEY_PARAMETER_NAME must be set');
  });

  it('fails on a malformed configured hash', async () => {
    process.env.TEST_KEY_PARAMETER_NAME = '/dmp/write-key-hashes/malformed';
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'dev-write-key' } });
    await expect(loadCredentialHashes('TEST_KEY')).rejects.toThrow('not a hex SHA-256');
  });
});
