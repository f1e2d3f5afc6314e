import { MAX_WINDOW_IDS, prunedWindow, recordInWindow, unionWindows, windowHolds, windowSize } from '../../../functions/domain/profile/dedupe-window';

const at = (iso: string): Date => new Date(iso);

describe('dedupe window', () => {
  it('remembers a message id for the window, not after', () => {
    const window = recordInWindow(undefined, 'm-1', at('2026-12-01T10:15:00Z'));
    expect(windowHolds(window, 'm-1')).toBe(true);
    expect(windowHolds(window, 'm-2')).toBe(false);
    expect(windowHolds(prunedWindow(window, at('2026-12-02T10:59:00Z')), 'm-1')).toBe(true);
    expect(windowHolds(prunedWindow(window, at('2026-12-02T11:00:00Z')), 'm-1')).toBe(false);
  });

  it('costs about 11 bytes per id', () => {
    let window: Record<string, string> | undefined;
    for (let index = 0; index < 100; index += 1) window = recordInWindow(window, `message-${index}-${'x'.repeat(30)}`, at('2026-12-01T10:15:00Z'));
    expect(windowSize(window)).toBe(100);
    expect(JSON.stringify(window).length).toBeLessThan(100 * 11 + 40);
  });

  it('refuses to record past its capacity (the caller marks the message with its own item)', () => {
    const full = { '2026-12-01T10': 'a'.repeat(11 * MAX_WINDOW_IDS) };
    expect(recordInWindow(full, 'm-1', at('2026-12-01T10:30:00Z'))).toBeUndefined();
    // Once the hour leaves the window, there is room again.
    expect(recordInWindow(full, 'm-1', at('2026-12-02T12:00:00Z'))).toBeDefined();
  });

  it('unites the windows of merged profiles without repeating ids', () => {
    const now = at('2026-12-01T10:30:00Z');
    const a = recordInWindow(recordInWindow(undefined, 'm-1', now), 'm-2', now);
    const b = recordInWindow(recordInWindow(undefined, 'm-2', now), 'm-3', now);
    const union = unionWindows(a, b, now);
    expect(['m-1', 'm-2', 'm-3'].every((id) => windowHolds(union, id))).toBe(true);
    expect(windowSize(union)).toBe(3);
  });
});
