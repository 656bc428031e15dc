/**
 * `npm run bench`: spawnguard's performance, measured in one run against one Temporal dev server
 * that the bench starts itself (in memory, headless, on free ports), each figure beside a baseline
 * measured in the same run, printed as a table and written to docs/benchmarks.md.
 *
 *  1. Start path. N distinct alerts (the demo's malicious alert with the child PID and start time
 *     varied, so each is its own incident) posted to `POST /v1/alerts` of the real ingest service
 *     over HTTP, against `client.workflow.start` of the same workflows (same input and search
 *     attributes), both C at a time; raw `signalWithStart` of N more as a third, context side. The
 *     incidents go to a task queue no worker polls, so only the start path is measured.
 *     Throughput and p50/p99 latency; each round starts with a different side.
 *  2. Duplicate storm. P posts spread over K incidents (re-sends of the same alerts, interleaved),
 *     against P raw signal-with-starts with conflict policy USE_EXISTING (what reaches Temporal
 *     without the ingest service's recent-alert cache).
 *  3. Alert → validated remediation and sent email: a malicious alert posted to the ingest service,
 *     run by the real playbook on the real central worker (reputation sources off, email to a real
 *     SMTP server: the mail catcher) and the real host worker in lab mode, until the incident closes
 *     remediated, validated and reported; against bench/workflows/baseline.ts, a minimal workflow
 *     running the same number of no-op activities on the same two kinds of queue. Median of M each,
 *     with the histories' split of time into activities and workflow tasks.
 *  4. Peak RSS of the central and the host worker, each in a child process of its own, after
 *     section 3 and a burst of B incidents at once; the baseline's workers likewise. Then, as a
 *     diagnostic, the central worker again with a workflow bundle built beforehand.
 *
 *  5. Host actions with real PowerShell (bench/powershell.ts): each action run cold (a PowerShell
 *     process per run) and warm (powershell/WarmHost.ps1), interleaved, through the production
 *     runner on the tests' fake Windows seam; an empty script cold and warm as baselines. And
 *     section 3's incident with a host worker running the real activities and scripts under pwsh
 *     (same seam), cold and warm, against section 3's lab-host figure.
 *  6. The production topology (bench/cluster.ts): Temporal on PostgreSQL with mutual TLS, started
 *     as `npm run cluster` starts it, beside the dev server: section 1's start path in interleaved
 *     rounds on each, and section 3's alert → validated remediation on the cluster beside section 3's
 *     dev-server median.
 *
 * Sizes (flag, else environment variable, else default):
 *   --alerts N           BENCH_ALERTS            300  distinct alerts per side and round of section 1
 *   --concurrency C      BENCH_CONCURRENCY        32  requests/starts in flight (sections 1–2)
 *   --rounds R           BENCH_ROUNDS             10  rounds of section 1, each led by the next side
 *   --warmup W           BENCH_WARMUP           1000  unmeasured posts, starts and signal-with-starts before section 1
 *   --storm-posts P      BENCH_STORM_POSTS      2000  posts in the storm
 *   --storm-incidents K  BENCH_STORM_INCIDENTS    50  distinct incidents in the storm
 *   --incidents M        BENCH_INCIDENTS           7  incidents (and baseline runs) timed in section 3
 *   --burst B            BENCH_BURST              25  incidents posted at once (twice: see 4)
 *   --ps-runs R          BENCH_PS_RUNS            15  runs of each host action cold and warm in section 5 (0: skip)
 *   --ps-incidents I     BENCH_PS_INCIDENTS        3  incidents with real PowerShell on the host, cold and warm (0: skip)
 *   --cluster-rounds R   BENCH_CLUSTER_ROUNDS      4  start-path rounds per server in section 6 (0: skip the section)
 *   --output FILE        BENCH_OUTPUT   docs/benchmarks.md  (`none`: print only)
 * The defaults take about three to four minutes on a 2-core machine. Timing lives here only: no
 * test asserts on speed.
 */
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { devNull, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import pino from 'pino';
import { buildIngestApp, createLogger, policyFromEnvironment } from '../client/ingest';
import { loadConfig } from '../common/config';
import { CENTRAL_TASK_QUEUE } from '../common/names';
import { startDevServer } from '../client/dev-server';
import { distinctAlerts, labIncidents, stormAlerts } from './alerts';
import { measureCluster } from './cluster';
import { JsonPoster } from './load';
import { parseBenchOptions, type BenchOptions } from './options';
import {
  activitySteps,
  burst,
  historyProfile,
  timeBaseline,
  timeIncident,
  type HistoryProfile,
  type RemediationContext,
} from './remediation';
import { consoleTable, describeMachine, loadAverage, machineLines } from './report';
import { measureHostActions, timePowerShellIncidents } from './powershell';
import {
  clusterDetails,
  clusterRows,
  details,
  fixed,
  hostActionDetails,
  hostActionRows,
  markdown,
  mib,
  readings,
  rows,
  type RemediationResult,
  type StartPathResult,
  type StormResult,
} from './results';
import { postAll, signalWithStartAll, startAll, type StartPathContext } from './start-path';
import { summarize } from './stats';
import { benchWorkerEnvironment, startWorkerProcess, timedMailCatcher } from './workers';

const progress = (line: string) => console.error(`[bench] ${line}`);

async function measureStartPath(ctx: StartPathContext, options: BenchOptions): Promise<StartPathResult> {
  progress(`section 1: warm-up, ${options.warmup} posts, starts and signal-with-starts`);
  if (options.warmup > 0) {
    await postAll(ctx, distinctAlerts(0, options.warmup));
    await startAll(ctx, distinctAlerts(1, options.warmup));
    await signalWithStartAll(ctx, distinctAlerts(2, options.warmup));
  }
  type Sample = { latenciesMs: number[]; seconds: number; cpuMs: number };
  const runs: Record<'ingest' | 'raw' | 'rawSignalWithStart', Sample[]> = {
    ingest: [],
    raw: [],
    rawSignalWithStart: [],
  };
  for (let round = 0; round < options.rounds; round++) {
    const set = 3 + 3 * round;
    const sides = [
      async () => {
        const run = await postAll(ctx, distinctAlerts(set, options.alerts));
        if (run.results.some((r) => r.deduplicated)) throw new Error('a distinct alert was answered as a duplicate');
        runs.ingest.push(run);
        progress(`  round ${round + 1}: ingest ${fixed(run.results.length / run.seconds)} alerts/s`);
      },
      async () => {
        const run = await startAll(ctx, distinctAlerts(set + 1, options.alerts));
        runs.raw.push(run);
        progress(`  round ${round + 1}: raw start ${fixed(run.results.length / run.seconds)} starts/s`);
      },
      async () => {
        const run = await signalWithStartAll(ctx, distinctAlerts(set + 2, options.alerts));
        runs.rawSignalWithStart.push(run);
        progress(`  round ${round + 1}: raw signal-with-start ${fixed(run.results.length / run.seconds)} calls/s`);
      },
    ];
    // Each round starts with a different side, so none always runs on the fullest server.
    for (let i = 0; i < sides.length; i++) await sides[(i + round) % sides.length]!();
  }
  const throughput = (run: Sample) => run.latenciesMs.length / run.seconds;
  return {
    ingest: summarize(runs.ingest),
    raw: summarize(runs.raw),
    rawSignalWithStart: summarize(runs.rawSignalWithStart),
    roundRatios: runs.ingest.map((run, i) => throughput(run) / throughput(runs.raw[i]!)),
  };
}

async function measureStorm(ctx: StartPathContext, options: BenchOptions): Promise<StormResult> {
  progress(`section 2: storm of ${options.stormPosts} posts over ${options.stormIncidents} incidents`);
  const rawRun = await signalWithStartAll(ctx, stormAlerts(1001, options.stormIncidents, options.stormPosts));
  const ingestRun = await postAll(ctx, stormAlerts(1000, options.stormIncidents, options.stormPosts));
  const result = {
    ingest: summarize([ingestRun]),
    raw: summarize([rawRun]),
    ingestIncidents: new Set(ingestRun.results.map((r) => r.workflowId)).size,
    rawIncidents: new Set(rawRun.results).size,
    deduplicated: ingestRun.results.filter((r) => r.deduplicated).length,
    longestHistory: 0,
  };
  for (const workflowId of new Set(ingestRun.results.map((r) => r.workflowId))) {
    const { historyLength } = await ctx.client.workflow.getHandle(workflowId).describe();
    result.longestHistory = Math.max(result.longestHistory, historyLength);
  }
  if (result.ingestIncidents !== options.stormIncidents || result.rawIncidents !== options.stormIncidents) {
    throw new Error(
      `the storm made ${result.ingestIncidents} (ingest) and ${result.rawIncidents} (raw) incidents, expected ${options.stormIncidents}`,
    );
  }
  progress(
    `  ingest ${fixed(result.ingest.throughput)} posts/s (${result.deduplicated} answered as duplicates), raw ${fixed(result.raw.throughput)} calls/s; longest incident history ${result.longestHistory} events`,
  );
  return result;
}

async function measureRemediation(
  temporalAddress: string,
  clients: { raw: Client; ingest: Client },
  options: BenchOptions,
  stops: (() => Promise<void>)[],
): Promise<RemediationResult> {
  progress('section 3: starting the mail catcher and the worker processes (bundling the workflows)…');
  const { mail, arrivedAt } = await timedMailCatcher();
  stops.push(() => mail.close());

  const { scenario, alerts } = labIncidents(1 + options.incidents + 2 * options.burst);
  const scratch = mkdtempSync(join(tmpdir(), 'spawnguard-bench-'));
  stops.push(async () => rmSync(scratch, { recursive: true, force: true }));
  const scenarioPath = join(scratch, 'lab-host.json');
  writeFileSync(scenarioPath, JSON.stringify(scenario));

  const env = benchWorkerEnvironment(
    { TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_NAMESPACE: 'default' },
    mail.smtpPort,
  );
  const config = loadConfig(env);
  const baselineQueues = { central: `bench-baseline-${randomUUID()}`, host: `bench-baseline-host-${randomUUID()}` };
  const workers = {
    central: startWorkerProcess({ role: 'central', taskQueue: CENTRAL_TASK_QUEUE }, env),
    host: startWorkerProcess({ role: 'host', scenarioPath }, env),
    baselineCentral: startWorkerProcess({ role: 'baseline-central', taskQueue: baselineQueues.central }, env),
    baselineHost: startWorkerProcess({ role: 'baseline-host', taskQueue: baselineQueues.host }, env),
  };
  for (const worker of Object.values(workers)) {
    stops.push(async () => (await worker.catch(() => undefined))?.stop());
  }
  // Awaited together: one failing to start is reported while the others are still being awaited.
  const [central, host, baselineCentral, baselineHost] = await Promise.all([
    workers.central,
    workers.host,
    workers.baselineCentral,
    workers.baselineHost,
  ]);
  const processes = { central, host, baselineCentral, baselineHost };
  progress(`  workers polling (central started in ${fixed(processes.central.startupMs / 1000)} s, bundling included)`);

  const ingest = await startIngest(clients.ingest, CENTRAL_TASK_QUEUE, policyFromEnvironment(config.env));
  stops.push(ingest.close);
  const poster = new JsonPoster(ingest.url, ingest.token, Math.max(options.burst, 1));
  stops.push(async () => poster.close());
  const client = clients.raw;
  const ctx: RemediationContext = {
    client,
    poster,
    centralTaskQueue: CENTRAL_TASK_QUEUE,
    mailArrival: arrivedAt,
  };

  // The first incident warms both sides up and tells the baseline how many activities to run where.
  const [warmup, ...rest] = alerts;
  const timedAlerts = rest.slice(0, options.incidents);
  const burstAlerts = rest.slice(options.incidents, options.incidents + options.burst);
  const prebuiltBurstAlerts = rest.slice(options.incidents + options.burst);
  const first = await timeIncident(ctx, warmup!);
  const steps = await activitySteps(ctx, first.workflowId);
  const baseline = {
    client,
    input: { steps, centralTaskQueue: baselineQueues.central, hostTaskQueue: baselineQueues.host },
  };
  await timeBaseline(baseline);
  progress(
    `  the playbook ran ${steps.length} activities (${steps.filter((s) => s === 'host').length} on the host); warm-up incident ${fixed(first.ms, 0)} ms`,
  );

  const playbook: { ms: number; mailMs: number; profile: HistoryProfile }[] = [];
  const minimal: { ms: number; profile: HistoryProfile }[] = [];
  for (const [i, alert] of timedAlerts.entries()) {
    const incident = async () => {
      const { ms, mailMs, workflowId } = await timeIncident(ctx, alert);
      playbook.push({ ms, mailMs, profile: await historyProfile(client, [`${workflowId}-enrichment`, workflowId]) });
    };
    const minimalRun = async () => {
      const { ms, workflowId } = await timeBaseline(baseline);
      minimal.push({ ms, profile: await historyProfile(client, [workflowId]) });
    };
    for (const side of i % 2 === 0 ? [incident, minimalRun] : [minimalRun, incident]) await side();
    progress(
      `  incident ${i + 1}: playbook ${fixed(playbook.at(-1)!.ms, 0)} ms, baseline ${fixed(minimal.at(-1)!.ms, 0)} ms`,
    );
  }

  // Section 5's end-to-end half: the same incidents with real PowerShell on the host (cold, then
  // warm), measured here while section 3's central worker, ingest service and mail catcher run.
  progress(`section 5: ${options.psIncidents} incidents with real PowerShell on the host, cold then warm`);
  const powershell = await timePowerShellIncidents(ctx, temporalAddress, options.psIncidents, progress);

  progress(`section 4: ${options.burst} incidents at once (and ${options.burst} baseline runs), then worker memory`);
  const centralBeforeBurst = await processes.central.memory();
  const burstMs = await burst(ctx, burstAlerts);
  await Promise.all(Array.from({ length: options.burst }, () => timeBaseline(baseline)));
  const memory = {
    central: await processes.central.memory(),
    host: await processes.host.memory(),
    baselineCentral: await processes.baselineCentral.memory(),
    baselineHost: await processes.baselineHost.memory(),
  };
  progress(
    `  burst closed in ${fixed(burstMs / 1000, 2)} s; peak RSS central ${fixed(mib(memory.central.maxRssBytes))} MiB, host ${fixed(mib(memory.host.maxRssBytes))} MiB`,
  );

  // Diagnostic: the same central worker given a workflow bundle built beforehand (bundled here, in
  // the bench process) instead of bundling at start, serving the same burst. Not how
  // `spawnguard worker central` runs today; it shows how much of the peak bundling accounts for.
  progress('  diagnostic: the central worker again, with a pre-built workflow bundle');
  await processes.central.stop();
  const bundlePath = join(scratch, 'workflow-bundle.js');
  const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quietLogger });
  writeFileSync(bundlePath, bundle.code);
  const prebuilt = await startWorkerProcess({ role: 'central', taskQueue: CENTRAL_TASK_QUEUE, bundlePath }, env);
  stops.push(() => prebuilt.stop());
  const prebuiltBeforeBurst = await prebuilt.memory();
  await burst(ctx, prebuiltBurstAlerts);
  const prebuiltMemory = await prebuilt.memory();

  return {
    playbookMs: playbook.map((r) => r.ms),
    ...(powershell ? { powershell } : {}),
    mailMs: playbook.map((r) => r.mailMs),
    baselineMs: minimal.map((r) => r.ms),
    profiles: { playbook: playbook.map((r) => r.profile), baseline: minimal.map((r) => r.profile) },
    steps,
    burstMs,
    memory,
    prebuiltCentralMemory: prebuiltMemory,
    peaksBeforeBurst: { central: centralBeforeBurst.maxRssBytes, prebuilt: prebuiltBeforeBurst.maxRssBytes },
    startupMs: {
      central: processes.central.startupMs,
      host: processes.host.startupMs,
      baselineCentral: processes.baselineCentral.startupMs,
      baselineHost: processes.baselineHost.startupMs,
    },
  };
}

/** Keeps webpack's report of the diagnostic bundle out of the bench's output. */
const quietLogger = new DefaultLogger('WARN');

/** The ingest service as `spawnguard serve` builds it, on a task queue of the bench's choosing. */
async function startIngest(client: Client, taskQueue: string, policy: ReturnType<typeof policyFromEnvironment>) {
  const token = randomBytes(18).toString('base64url');
  // The production default log level (info: a few lines per alert), written where it costs what
  // writing to stdout costs without flooding the bench's output.
  const logger = createLogger('info', pino.destination({ dest: devNull, sync: true }));
  const app = await buildIngestApp({
    client,
    ingestToken: token,
    linkSecret: randomBytes(32).toString('base64url'),
    policy,
    logger,
    taskQueue,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('the ingest service has no TCP address');
  return { url: `http://127.0.0.1:${address.port}/v1/alerts`, token, close: () => app.close() };
}

async function main(): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseBenchOptions();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const startedAt = new Date();
  const began = performance.now();
  const stops: (() => Promise<void>)[] = [];
  try {
    progress('starting a Temporal dev server (in memory, headless)…');
    const server = await startDevServer({
      headless: true,
      log: (line) => /provision|build|download/i.test(line) && progress(`  ${line}`),
    });
    stops.push(() => server.stop());
    const machine = await describeMachine(server.binaryPath);

    // Separate connections for the ingest service and the raw client, as separate processes would have.
    const rawConnection = await Connection.connect({ address: server.address });
    stops.push(() => rawConnection.close());
    const rawClient = new Client({ connection: rawConnection, namespace: server.namespace });
    const ingestConnection = await Connection.connect({ address: server.address });
    stops.push(() => ingestConnection.close());
    const ingestClient = new Client({ connection: ingestConnection, namespace: server.namespace });

    const idleQueue = `bench-no-worker-${randomUUID()}`;
    const policy = policyFromEnvironment(loadConfig({ TEMPORAL_ADDRESS: server.address }).env);
    const ingest = await startIngest(ingestClient, idleQueue, policy);
    stops.push(ingest.close);
    const poster = new JsonPoster(ingest.url, ingest.token, options.concurrency);
    stops.push(async () => poster.close());
    const startCtx: StartPathContext = {
      client: rawClient,
      poster,
      taskQueue: idleQueue,
      policy,
      concurrency: options.concurrency,
    };
    const start = await measureStartPath(startCtx, options);
    const storm = await measureStorm(startCtx, options);
    const remediation = await measureRemediation(
      server.address,
      { raw: rawClient, ingest: ingestClient },
      options,
      stops,
    );

    const hostActions = await measureHostActions(options.psRuns, progress);
    const cluster = await measureCluster({
      options,
      dev: startCtx,
      startIngest: (client, taskQueue) => startIngest(client, taskQueue, policy),
      progress,
      stops,
    });

    const table = [
      ...rows(options, start, storm, remediation),
      ...(hostActions ? hostActionRows(hostActions, remediation) : []),
      ...clusterRows(cluster, remediation),
    ];
    const notes = [
      ...details(options, start, storm, remediation),
      ...(hostActions ? [hostActionDetails(hostActions, remediation)] : []),
      clusterDetails(cluster, options),
    ];
    const missReadings = readings(table, start, remediation);
    const seconds = (performance.now() - began) / 1000;
    const loadAtEnd = loadAverage();
    console.log(`\nspawnguard bench — ${startedAt.toISOString()} — ${fixed(seconds, 0)} s\n`);
    console.log(consoleTable(table));
    console.log('');
    notes.forEach((n) => console.log(n));
    console.log('');
    if (missReadings.length > 0) {
      console.log('Targets not met, and what this run says about why:');
      missReadings.forEach((n) => console.log(`- ${n}`));
      console.log('');
    }
    machineLines(machine).forEach((l) => console.log(l));
    console.log(`Load average (1/5/15 min) at the end: ${loadAtEnd}`);
    if (options.output !== 'none') {
      const file = resolve(options.output);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, markdown(options, machine, table, notes, missReadings, startedAt, seconds, loadAtEnd));
      console.log(`\nWritten to ${file}`);
    }
  } finally {
    for (const stop of stops.reverse()) await stop().catch((err) => progress(`stop: ${(err as Error).message}`));
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
