import { createServer } from 'node:net';

export const LOOPBACK = '127.0.0.1';

/**
 * A TCP port on the loopback interface that was free a moment ago. Only for processes that
 * cannot listen on port 0 themselves (the DynamoDB Local JVM); callers retry on a bind clash.
 */
export async function findFreePort(): Promise<number> {
  const { port, release } = await reservePort();
  await release();
  return port;
}

/**
 * A loopback port held until `release()`: a process that must announce its port before it can
 * listen on it (the platform sets DMP_PUBLIC_URL before loading the handlers) keeps it from
 * other processes meanwhile, and releases it right before its own server listens.
 */
export function reservePort(): Promise<{ readonly port: number; release(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const holder = createServer();
    holder.unref();
    holder.once('error', reject);
    holder.listen(0, LOOPBACK, () => {
      const address = holder.address();
      if (address === null || typeof address === 'string') {
        holder.close();
        reject(new Error('could not read the address of a reserved socket'));
        return;
      }
      let released: Promise<void> | undefined;
      resolve({ port: address.port, release: () => (released ??= new Promise<void>((done) => holder.close(() => done()))) });
    });
  });
}
