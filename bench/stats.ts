/** Summaries of measured runs: throughput and latency percentiles, and the median of repeated runs. */

export interface RunSummary {
  operations: number;
  seconds: number;
  /** Operations per second over the whole run (first start to last answer). */
  throughput: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU time of the bench process per operation (load generator, and the ingest service when it serves). */
  cpuMsPerOperation: number;
}

/** Nearest-rank percentile: a value that was actually measured, never an interpolation. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** Several runs of the same thing: total operations over total time, percentiles over every sample. */
export function summarize(runs: { latenciesMs: number[]; seconds: number; cpuMs: number }[]): RunSummary {
  const latencies = runs.flatMap((r) => r.latenciesMs);
  const seconds = runs.reduce((sum, r) => sum + r.seconds, 0);
  const cpuMs = runs.reduce((sum, r) => sum + r.cpuMs, 0);
  return {
    cpuMsPerOperation: cpuMs / latencies.length,
    operations: latencies.length,
    seconds,
    throughput: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}
