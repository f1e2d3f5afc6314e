import { startTestPlatform, type TestPlatform } from '../helpers/platform';

/** `npm start`'s real entry (local/main.ts) with the real handlers, as a child process. */

let platform: TestPlatform | undefined;

afterAll(async () => {
  await platform?.stop();
});

it('starts, reports healthy, prints its URLs and exits 0 on SIGTERM', async () => {
  platform = await startTestPlatform();
  const response = await fetch(`${platform.baseUrl}/health`);
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({ status: 'ok', components: { dynamodb: 'up', sqs: 'up', ses: 'up' } });
  expect(platform.output()).toContain(`${platform.baseUrl}/health`);
  expect(platform.output()).toContain(`${platform.baseUrl}/dev/outbox`);

  const exitCode = await platform.stop();
  platform = undefined;
  expect(exitCode).toBe(0);
});
