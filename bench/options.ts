/**
 * The bench's sizes: each from a command-line flag, else an environment variable, else the default
 * (chosen to keep a whole run within about five minutes on a 2-core machine). Validated with zod, so
 * a typo stops the bench with a message naming the flag.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';

const count = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback);

export const BenchOptionsSchema = z.object({
  /** Distinct alerts per side and round of section 1. */
  alerts: count(300),
  /** Requests (or raw starts) in flight at once, in sections 1 and 2. */
  concurrency: count(32),
  /**
   * Section 1 runs each of its three sides this many times, each round led by the next side: short
   * interleaved rounds, so that load from elsewhere on a shared machine falls on every side alike.
   */
  rounds: count(10),
  /**
   * Unmeasured posts, starts and signal-with-starts before section 1: connections, JIT, server
   * caches. The first thousand or so posts cost the bench process up to twice the CPU of later ones
   * while V8 compiles the HTTP, fastify, zod and gRPC paths, so a short warm-up charges the first
   * measured round for compilation rather than for serving.
   */
  warmup: count(1000, 0),
  /** Section 2: posts in the duplicate storm (and raw signal-with-starts of the same). */
  stormPosts: count(2000),
  /** Section 2: distinct incidents the storm's posts are spread over. */
  stormIncidents: count(50),
  /** Section 3: measured incidents of each kind (playbook and minimal workflow); the median is reported. */
  incidents: count(7),
  /** Section 4: malicious incidents posted at once after section 3, to load the workers for the RSS peak. */
  burst: count(25, 0),
  /** Section 5: runs of each host action cold and warm with real PowerShell (0: skip the section). */
  psRuns: count(15, 0),
  /** Section 5: incidents with real PowerShell on the host, measured cold and warm (0: skip). */
  psIncidents: count(3, 0),
  /** Section 6: interleaved start-path rounds on the production topology and the dev server (0: skip). */
  clusterRounds: count(4, 0),
  /** Where to write the results (Markdown); `none` prints only. */
  output: z.string().min(1).default('docs/benchmarks.md'),
});
export type BenchOptions = z.infer<typeof BenchOptionsSchema>;

const FLAGS = {
  alerts: 'BENCH_ALERTS',
  concurrency: 'BENCH_CONCURRENCY',
  rounds: 'BENCH_ROUNDS',
  warmup: 'BENCH_WARMUP',
  'storm-posts': 'BENCH_STORM_POSTS',
  'storm-incidents': 'BENCH_STORM_INCIDENTS',
  incidents: 'BENCH_INCIDENTS',
  burst: 'BENCH_BURST',
  'ps-runs': 'BENCH_PS_RUNS',
  'ps-incidents': 'BENCH_PS_INCIDENTS',
  'cluster-rounds': 'BENCH_CLUSTER_ROUNDS',
  output: 'BENCH_OUTPUT',
} as const;

const camel = (flag: string) => flag.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

export function parseBenchOptions(
  argv: string[] = process.argv.slice(2),
  env: Record<string, string | undefined> = process.env,
): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, { type: 'string' as const }])),
    strict: true,
  });
  const raw: Record<string, string | undefined> = {};
  for (const [flag, variable] of Object.entries(FLAGS)) {
    const value = (values as Record<string, string | undefined>)[flag] ?? env[variable];
    if (value !== undefined && value !== '') raw[camel(flag)] = value;
  }
  const parsed = BenchOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0]);
      const flag = Object.keys(FLAGS).find((f) => camel(f) === key) ?? key;
      return `--${flag} (${FLAGS[flag as keyof typeof FLAGS] ?? ''}): ${issue.message}`;
    });
    throw new Error(`Invalid bench options:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}
