/**
 * Section 6: the production topology (scripts/lib/cluster.ts: Temporal 1.29.1 on PostgreSQL with
 * advanced visibility and mutual TLS, from deploy/temporal-server.yaml) beside the dev server, in
 * the same run. The start path — distinct alerts through the real ingest service to a queue no
 * worker polls — in interleaved rounds, each led by the other server; then alert → validated
 * remediation with the central and lab host worker processes of section 3 pointed at the cluster,
 * beside section 3's dev-server median.
 */
import { Client, Connection } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CENTRAL_TASK_QUEUE } from '../common/names';
import { startCluster } from '../scripts/lib/cluster';
import { distinctAlerts, labIncidents } from './alerts';
import { JsonPoster } from './load';
import type { BenchOptions } from './options';
import { timeIncident, type RemediationContext } from './remediation';
import { postAll, type StartPathContext } from './start-path';
import { summarize, type RunSummary } from './stats';
import { benchWorkerEnvironment, startWorkerProcess, timedMailCatcher } from './workers';

export type ClusterResult =
  | {
      measured: true;
      /** The same rounds' posts on each server. */
      start: { dev: RunSummary; cluster: RunSummary };
      /** Alert → remediated, validated, reported on the cluster (ms); section 3 holds the dev server's. */
      remediationMs: number[];
      /** From nothing to serving (PostgreSQL initdb, schema, server, namespace). */
      startupMs: number;
      historyShards: number;
    }
  | { measured: false; reason: string };

export interface ClusterSectionContext {
  options: BenchOptions;
  /** Section 1's dev-server side: the ingest service in front of the dev server, on an idle queue. */
  dev: StartPathContext;
  /** Builds the ingest service as section 1 does, on a client of the caller's choosing. */
  startIngest(client: Client, taskQueue: string): Promise<{ url: string; token: string; close(): Promise<void> }>;
  progress(line: string): void;
  stops: (() => Promise<void>)[];
}

/** History shards of the measured cluster: the production default (docs/operations.md "Sizing"). */
const HISTORY_SHARDS = 128;

export async function measureCluster(ctx: ClusterSectionContext): Promise<ClusterResult> {
  const { options, progress, stops } = ctx;
  if (options.clusterRounds === 0) return { measured: false, reason: 'skipped (--cluster-rounds 0)' };
  progress('section 6: the production topology — starting PostgreSQL and the Temporal server (mutual TLS)…');
  const scratch = mkdtempSync(join(tmpdir(), 'spawnguard-bench-cluster-'));
  // PostgreSQL runs as the postgres user when the bench runs as root: it must reach the folder.
  chmodSync(scratch, 0o755);
  stops.push(async () => rmSync(scratch, { recursive: true, force: true }));
  const { scenario, alerts } = labIncidents(1 + options.incidents);
  const started = performance.now();
  let cluster;
  try {
    cluster = await startCluster({
      directory: join(scratch, 'cluster'),
      historyShards: HISTORY_SHARDS,
      hosts: [scenario.hostname],
      log: (line) => progress(`  ${line}`),
    });
  } catch (err) {
    return { measured: false, reason: `the cluster did not start: ${(err as Error).message.split('\n')[0]}` };
  }
  const startupMs = performance.now() - started;
  stops.push(() => cluster.stop());

  const rawConnection = await Connection.connect(cluster.connectionOptions('temporal-admin'));
  stops.push(() => rawConnection.close());
  const raw = new Client({ connection: rawConnection, namespace: cluster.namespace });
  const ingestConnection = await Connection.connect(cluster.connectionOptions('spawnguard-ingest'));
  stops.push(() => ingestConnection.close());
  const ingestClient = new Client({ connection: ingestConnection, namespace: cluster.namespace });

  // Start path, interleaved with the dev server's ingest service, each round led by the other side.
  const idle = await ctx.startIngest(ingestClient, `bench-no-worker-${randomUUID()}`);
  stops.push(idle.close);
  const idlePoster = new JsonPoster(idle.url, idle.token, options.concurrency);
  stops.push(async () => idlePoster.close());
  const clusterStart: StartPathContext = { ...ctx.dev, client: raw, poster: idlePoster };
  progress(`  warm-up: ${options.warmup} posts to the cluster`);
  if (options.warmup > 0) await postAll(clusterStart, distinctAlerts(2999, options.warmup));
  const runs: { dev: Parameters<typeof summarize>[0]; cluster: Parameters<typeof summarize>[0] } = {
    dev: [],
    cluster: [],
  };
  for (let round = 0; round < options.clusterRounds; round++) {
    const set = 3000 + 2 * round;
    const sides = [
      async () => runs.dev.push(await postAll(ctx.dev, distinctAlerts(set, options.alerts))),
      async () => runs.cluster.push(await postAll(clusterStart, distinctAlerts(set + 1, options.alerts))),
    ];
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) await side();
    const rate = (run: { latenciesMs: number[]; seconds: number }) => (run.latenciesMs.length / run.seconds).toFixed(0);
    progress(
      `  round ${round + 1}: dev server ${rate(runs.dev.at(-1)!)}, cluster ${rate(runs.cluster.at(-1)!)} alerts/s`,
    );
  }

  // Alert → validated remediation: section 3's worker processes, pointed at the cluster.
  progress('  remediation: central and lab host worker processes on the cluster (bundling the workflows)…');
  const { mail, arrivedAt } = await timedMailCatcher();
  stops.push(() => mail.close());
  const scenarioPath = join(scratch, 'lab-host.json');
  writeFileSync(scenarioPath, JSON.stringify(scenario));
  const env = (part: Parameters<typeof cluster.env>[0]) => benchWorkerEnvironment(cluster.env(part), mail.smtpPort);
  const [central, host] = await Promise.all([
    startWorkerProcess({ role: 'central', taskQueue: CENTRAL_TASK_QUEUE }, env('spawnguard-central')),
    startWorkerProcess({ role: 'host', scenarioPath }, env(`spawnguard-host-${scenario.hostname}`)),
  ]);
  stops.push(
    () => central.stop(),
    () => host.stop(),
  );
  const ingest = await ctx.startIngest(ingestClient, CENTRAL_TASK_QUEUE);
  stops.push(ingest.close);
  const poster = new JsonPoster(ingest.url, ingest.token, 1);
  stops.push(async () => poster.close());
  const remediation: RemediationContext = {
    client: raw,
    poster,
    centralTaskQueue: CENTRAL_TASK_QUEUE,
    mailArrival: arrivedAt,
  };
  const [warmup, ...timed] = alerts;
  const first = await timeIncident(remediation, warmup!);
  progress(`  warm-up incident ${first.ms.toFixed(0)} ms`);
  const remediationMs: number[] = [];
  for (const [i, alert] of timed.entries()) {
    remediationMs.push((await timeIncident(remediation, alert)).ms);
    progress(`  incident ${i + 1}: ${remediationMs.at(-1)!.toFixed(0)} ms`);
  }
  return {
    measured: true,
    start: { dev: summarize(runs.dev), cluster: summarize(runs.cluster) },
    remediationMs,
    startupMs,
    historyShards: HISTORY_SHARDS,
  };
}
