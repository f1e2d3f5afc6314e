import { scheduleForm, scheduleOf } from '../../../console/src/forms/schedule';

describe("a segment's scheduled rebuild and a lookalike's scheduled refresh in the console", () => {
  it('round-trips every rate the API takes, singular and plural', () => {
    for (const schedule of ['rate(1 hour)', 'rate(6 hours)', 'rate(1 day)', 'rate(30 minutes)', 'rate(2 days)', null]) {
      expect(scheduleOf(scheduleForm(schedule), 'rebuild')).toEqual({ ok: true, schedule });
      expect(scheduleOf(scheduleForm(schedule), 'refresh')).toEqual({ ok: true, schedule });
    }
  });

  it('reads none as an empty field and writes an empty field as none', () => {
    expect(scheduleForm(undefined)).toEqual({ every: '', unit: 'hours' });
    expect(scheduleOf({ every: ' ', unit: 'days' }, 'rebuild')).toEqual({ ok: true, schedule: null });
  });

  it('says what to type for anything but a whole number from 1 to 365, in the words of its kind', () => {
    for (const every of ['0', '1.5', '-2', 'daily', '366']) {
      expect(scheduleOf({ every, unit: 'hours' }, 'rebuild')).toEqual({
        ok: false,
        reason: 'Rebuild every: a whole number from 1 to 365, or empty for no scheduled rebuild',
      });
      expect(scheduleOf({ every, unit: 'days' }, 'refresh')).toEqual({
        ok: false,
        reason: 'Refresh every: a whole number from 1 to 365, or empty for no scheduled refresh',
      });
    }
  });
});
