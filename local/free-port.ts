import { createServer } from 'node:net';

export const LOOPBACK = '127.0.0.1';

/**
 * A TCP port on the loopback interface that was free a moment ago. Only for processes that
 * cannot listen on port 0 themselves (the DynamoDB Local JVM); callers retry on a bind clash.
 */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, LOOPBACK, () => {
      const address = probe.address();
      if (address === null || typeof address === 'string') {
        probe.close();
        reject(new Error('could not read the address of a probe socket'));
        return;
      }
      probe.close(() => resolve(address.port));
    });
  });
}
