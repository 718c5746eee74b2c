import { describe, expect, test } from 'vitest';
import { isolationProblems, percentile, phaseStats } from './phase-stats.js';
import type { Sample } from './phase-stats.js';

/** `n` samples with latencies spread evenly from `lo` to `hi` ms, the first `failures` of them failed. */
function samples(n: number, lo: number, hi: number, failures = 0): Sample[] {
  return Array.from({ length: n }, (_, i) => ({
    at: i,
    ms: lo + ((hi - lo) * i) / (n - 1),
    ok: i >= failures,
  }));
}

describe('isolation verdict', () => {
  test('nearest-rank percentiles', () => {
    expect(percentile([5, 1, 4, 2, 3], 0.5)).toBe(3);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        0.99,
      ),
    ).toBe(99);
    expect(percentile([], 0.99)).toBeNaN();
  });

  test('passes a fault phase inside its noisy brackets', () => {
    const before = phaseStats('healthy 1', samples(400, 10, 50), 10);
    const after = phaseStats('healthy 2', samples(400, 10, 60), 10);
    expect(
      isolationProblems(phaseStats('review killed', samples(800, 10, 64, 8), 20), before, after),
    ).toEqual([]);
  });

  test('fails a p99 whose whole interval is more than 10 % above both brackets', () => {
    const before = phaseStats('healthy 1', samples(400, 10, 50), 10);
    const after = phaseStats('healthy 2', samples(400, 10, 50), 10);
    // 5 % of the orders waited for a 2 s timeout
    const slowed = samples(800, 10, 50).map((s, i) => (i % 20 === 0 ? { ...s, ms: 2000 } : s));
    expect(isolationProblems(phaseStats('review 500', slowed, 20), before, after)).toEqual([
      'review 500: p99 2000.0 ms (at least 2000.0) is above 54.9 ms (healthy p99 at most 49.9 / 49.9 ms + 10 %)',
    ]);
    // 0.5 % of them did: inside the noise of a p99 of 800, so it passes
    const few = samples(800, 10, 50).map((s, i) => (i % 200 === 0 ? { ...s, ms: 2000 } : s));
    expect(isolationProblems(phaseStats('review 500', few, 20), before, after)).toEqual([]);
  });

  test('fails a success rate 10 % below the healthy one, and a phase too short for a p99', () => {
    const before = phaseStats('healthy 1', samples(400, 10, 50), 10);
    const after = phaseStats('healthy 2', samples(50, 10, 50), 10);
    const problems = isolationProblems(phaseStats('blackhole', samples(800, 10, 50, 100), 20), before, after);
    expect(problems).toEqual([
      'healthy 2: 50 requests, fewer than 60 for a p99',
      'blackhole: success 87.5 % is below 90.0 % (healthy 100.0 % - 10 %)',
    ]);
  });
});
