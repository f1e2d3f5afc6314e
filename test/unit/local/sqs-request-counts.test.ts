import { EMPTY_RECEIVE, SqsRequestCounter } from '../../../local/sqs/request-counts';

/** local/sqs/request-counts.ts: the local SQS's requests, counted as SQS bills them. */

describe('SqsRequestCounter', () => {
  it('bills each 64 KB chunk of a batch as a request, and counts its messages', () => {
    const counter = new SqsRequestCounter();
    const body = 'x'.repeat(40 * 1024);
    counter.record(
      'Events',
      'SendMessageBatch',
      {
        Entries: [
          { Id: '1', MessageBody: body },
          { Id: '2', MessageBody: body, MessageAttributes: { kind: { DataType: 'String', StringValue: 'identify' } } },
        ],
      },
      { Successful: [{ Id: '1' }, { Id: '2' }], Failed: [] },
    );
    counter.record('Events', 'SendMessageBatch', { Entries: [{ Id: '1', MessageBody: 'small' }] }, { Successful: [{ Id: '1' }], Failed: [] });

    expect(counter.snapshot()).toEqual({ Events: { SendMessageBatch: { requests: 2, billedRequests: 3, messages: 3 } } });
  });

  it('counts receives that returned nothing apart from those that returned messages', () => {
    const counter = new SqsRequestCounter();
    counter.record('Events', 'ReceiveMessage', { MaxNumberOfMessages: 10 }, {});
    counter.record('Events', 'ReceiveMessage', { MaxNumberOfMessages: 10 }, { Messages: [{ Body: 'a' }, { Body: 'b' }] });
    counter.record('Events', 'DeleteMessageBatch', { Entries: [] }, { Successful: [{ Id: '1' }, { Id: '2' }], Failed: [] });

    expect(counter.snapshot()).toEqual({
      Events: {
        [EMPTY_RECEIVE]: { requests: 1, billedRequests: 1, messages: 0 },
        ReceiveMessage: { requests: 1, billedRequests: 1, messages: 2 },
        DeleteMessageBatch: { requests: 1, billedRequests: 1, messages: 2 },
      },
    });
  });
});
