import { retentionFromEnvironment } from '../../../functions/composition/settings';

describe('retention settings (DMP_RETENTION_DAYS)', () => {
  it('changes only the periods given, and keeps the stores defaults otherwise', () => {
    expect(retentionFromEnvironment({})).toEqual({});
    expect(retentionFromEnvironment({ DMP_RETENTION_DAYS: JSON.stringify({ quarantine: 30, deliveryLog: 7 }) })).toEqual({ quarantine: 30, deliveryLog: 7 });
  });

  it('refuses a period too short for what the data is for, an unknown kind or a non-integer, naming it', () => {
    expect(() => retentionFromEnvironment({ DMP_RETENTION_DAYS: JSON.stringify({ journeySteps: 7 }) })).toThrow(/DMP_RETENTION_DAYS: journeySteps/);
    expect(() => retentionFromEnvironment({ DMP_RETENTION_DAYS: JSON.stringify({ erasureJobs: 30 }) })).toThrow(/erasureJobs/);
    expect(() => retentionFromEnvironment({ DMP_RETENTION_DAYS: JSON.stringify({ events: 30 }) })).toThrow(/DMP_RETENTION_DAYS/);
    expect(() => retentionFromEnvironment({ DMP_RETENTION_DAYS: JSON.stringify({ quarantine: 1.5 }) })).toThrow(/quarantine/);
  });
});
