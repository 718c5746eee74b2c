/**
 * Figures of one phase of a closed-loop run, and the isolation verdict: a fault phase compared with
 * the healthy phases on both sides of it, measured in the same run.
 *
 * Why brackets: on a shared 2-core machine the load drifts over a two-minute run (throughput moved 2x
 * between phases in the first runs), so one baseline measured at the start says little about the last
 * fault phase. Each fault phase is compared with the healthy phase just before it and just after it.
 *
 * Why intervals: a p99 of a few hundred requests is itself noisy. Each p99 gets a bootstrap interval
 * (1000 resamples, a seeded generator, so a run's verdict is reproducible from its samples): a fault
 * phase fails when even its lowest plausible p99 (the 5th percentile of its resampled p99s) is more
 * than 10 % above the highest plausible healthy one (the 95th percentile, the larger of the two
 * brackets). Noise alone then passes, and a fault that reaches the order path fails: the callers'
 * timeouts put seconds on more than a few percent of orders, which moves the whole interval. Success
 * may fall at most 10 % below the brackets' pooled rate. A phase with fewer than {@link MIN_SAMPLES}
 * requests fails the verdict instead of passing it by default.
 */

/** One finished request of the loop. */
export interface Sample {
  /** Milliseconds since the run started, at the request's end. */
  readonly at: number;
  readonly ms: number;
  readonly ok: boolean;
}

/** What a phase measured. */
export interface PhaseStats {
  readonly name: string;
  readonly n: number;
  readonly successRate: number;
  readonly p50: number;
  readonly p99: number;
  /** The bootstrap interval of the p99: 5th and 95th percentile of the resampled p99s. */
  readonly p99Low: number;
  readonly p99High: number;
  readonly perSecond: number;
}

/** Fewest requests a phase needs for its p99 interval to mean something. */
export const MIN_SAMPLES = 60;

/** Allowed relative degradation of a fault phase against its healthy brackets. */
export const TOLERANCE = 0.1;

/** The nearest-rank percentile `q` (0–1) of `values`; NaN for none. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The figures of `samples`, a phase `seconds` long. */
export function phaseStats(name: string, samples: readonly Sample[], seconds: number): PhaseStats {
  const ms = samples.map((s) => s.ms);
  return {
    name,
    n: samples.length,
    successRate: samples.length ? samples.filter((s) => s.ok).length / samples.length : 0,
    p50: percentile(ms, 0.5),
    p99: percentile(ms, 0.99),
    ...p99Interval(ms),
    perSecond: samples.length / seconds,
  };
}

/** The verdict on one fault phase: each problem in words (empty: isolated). */
export function isolationProblems(fault: PhaseStats, before: PhaseStats, after: PhaseStats): string[] {
  const problems: string[] = [];
  for (const p of [before, fault, after])
    if (p.n < MIN_SAMPLES) problems.push(`${p.name}: ${p.n} requests, fewer than ${MIN_SAMPLES} for a p99`);
  const pooled =
    (before.successRate * before.n + after.successRate * after.n) / Math.max(1, before.n + after.n);
  if (fault.successRate < pooled * (1 - TOLERANCE))
    problems.push(
      `${fault.name}: success ${pct(fault.successRate)} is below ${pct(pooled * (1 - TOLERANCE))} (healthy ${pct(pooled)} - 10 %)`,
    );
  const p99Limit = Math.max(before.p99High, after.p99High) * (1 + TOLERANCE);
  if (!(fault.p99Low <= p99Limit))
    problems.push(
      `${fault.name}: p99 ${fault.p99.toFixed(1)} ms (at least ${fault.p99Low.toFixed(1)}) is above ${p99Limit.toFixed(1)} ms (healthy p99 at most ${before.p99High.toFixed(1)} / ${after.p99High.toFixed(1)} ms + 10 %)`,
    );
  return problems;
}

/** The 5th and 95th percentile of the p99s of 1000 resamples of `values` (seeded: reproducible). */
export function p99Interval(values: readonly number[]): { p99Low: number; p99High: number } {
  if (values.length === 0) return { p99Low: Number.NaN, p99High: Number.NaN };
  let seed = 0x9e3779b9;
  const random = () => {
    // mulberry32
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const p99s: number[] = [];
  for (let r = 0; r < 1000; r++) {
    const resample = Array.from(
      { length: values.length },
      () => values[Math.floor(random() * values.length)]!,
    );
    p99s.push(percentile(resample, 0.99));
  }
  return { p99Low: percentile(p99s, 0.05), p99High: percentile(p99s, 0.95) };
}

/** One line of figures for the log and docs/benchmarks.md. */
export function describePhase(p: PhaseStats): string {
  return `${p.name.padEnd(22)} n=${String(p.n).padStart(5)}  ${p.perSecond.toFixed(1).padStart(6)}/s  ok ${pct(p.successRate).padStart(7)}  p50 ${p.p50.toFixed(1).padStart(7)} ms  p99 ${p.p99.toFixed(1).padStart(7)} ms [${p.p99Low.toFixed(0)}-${p.p99High.toFixed(0)}]`;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)} %`;
}
