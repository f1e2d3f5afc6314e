import {
  bandInWords,
  explainContribution,
  featureInWords,
  formatDateTime,
  formatDuration,
  formatNumber,
  formatPercent,
  formatPoints,
} from '../../../console/src/format';

describe('the console writes numbers for the reader', () => {
  it("formats numbers in the browser's locale", () => {
    expect(formatNumber(1234567.891, 'en-US')).toBe('1,234,567.89');
    expect(formatNumber(1234567.891, 'de-DE')).toBe('1.234.567,89');
    expect(formatNumber(1234567.891, 'fr-FR')).toBe('1\u202f234\u202f567,89');
    expect(formatNumber(undefined, 'en-US')).toBe('—');
    expect(formatNumber(Number.NaN, 'en-US')).toBe('—');
    expect(formatPercent(0.1234, 'en-US')).toBe('12.3%');
    expect(formatPercent(0.1234, 'de-DE')).toBe('12,3\u00a0%');
    expect(formatPercent(null, 'en-US')).toBe('—');
    expect(formatPoints(0.0501, 'en-US')).toBe('+5 pts');
    expect(formatPoints(-0.0184, 'de-DE')).toBe('-1,8 pts');
    expect(formatPoints(0, 'en-US')).toBe('0 pts');
  });

  it('formats times in the given locale and time zone, and leaves what is no date as it is', () => {
    expect(formatDateTime('2026-12-04T16:31:34.520Z', 'en-GB', 'UTC')).toBe('4 Dec 2026, 16:31');
    expect(formatDateTime('soon', 'en-GB', 'UTC')).toBe('soon');
    expect(formatDateTime(undefined)).toBe('—');
  });

  it('explains a score in plain words', () => {
    expect(featureInWords('page_views_30d')).toBe('pages viewed in the last 30 days');
    expect(featureInWords('logins_14d')).toBe('logins in the last 14 days');
    expect(featureInWords('trait:loyalty_points')).toBe('loyalty points');
    expect(explainContribution('churn', { feature: 'tenure_days', contribution: -0.2388, value: 0, label: 'tenure_days low (-0.24)' })).toBe(
      'Time since first seen is low: makes leaving (churn) less likely.',
    );
    expect(explainContribution('propensity', { feature: 'cart_adds_30d', contribution: 0.0488, value: 1, label: 'cart_adds_30d high (+0.05)' })).toBe(
      'Products added to the cart in the last 30 days is high: makes buying soon slightly more likely.',
    );
    expect(explainContribution('complaint', { feature: 'orders_total', contribution: 0.9 })).toBe('Orders: makes complaining about email much more likely.');
    // A trait the model was configured to learn from, with its readable name.
    expect(
      explainContribution('churn', { feature: 'trait:price_comparison', contribution: 0.41, value: 1, label: 'browses price-comparison sites: +0.41' }),
    ).toBe('Browses price-comparison sites: makes leaving (churn) more likely.');
    expect(
      explainContribution('churn', {
        feature: 'trait:price_comparison',
        contribution: -0.05,
        value: null,
        label: 'browses price-comparison sites: unknown (-0.05)',
      }),
    ).toBe('Browses price-comparison sites is unknown: makes leaving (churn) slightly less likely.');
    expect(bandInWords('churn', 'high')).toBe('High chance of leaving (churn)');
  });
});

describe('journey waits', () => {
  it('are stated in the largest whole unit, the number in the reader’s locale', () => {
    expect(formatDuration(3_600, 'en-US')).toBe('1 hour');
    expect(formatDuration(86_400, 'en-US')).toBe('1 day');
    expect(formatDuration(5_400, 'en-US')).toBe('90 minutes');
    expect(formatDuration(45, 'en-US')).toBe('45 seconds');
    expect(formatDuration(0, 'en-US')).toBe('0 seconds');
    expect(formatDuration(1_500 * 86_400, 'de-DE')).toBe('1.500 days');
    expect(formatDuration(-1, 'en-US')).toBe('—');
  });
});
