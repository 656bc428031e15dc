/**
 * `npm run demo`: sends the three bundled sample alerts (demo/alerts: malicious, suspicious, benign)
 * to the running local stack (`npm start`), or starts one when none is running, and follows each
 * incident until it settles: malicious → remediated, suspicious → waiting for review, benign → closed.
 */
import { userInfo } from 'node:os';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { IncidentStatus } from '../common/incident-status';
import { DEMO_DIRECTORY, startDevStack, type DevStack } from '../client/dev-stack';

const StackFileSchema = z.object({
  urls: z.object({ ingest: z.string(), reviewPage: z.string(), temporalUi: z.string().nullable(), mail: z.string() }),
  ingestToken: z.string(),
});
type StackInfo = z.infer<typeof StackFileSchema>;

const SAMPLES = ['malicious', 'suspicious', 'benign'] as const;
const SETTLED: Record<(typeof SAMPLES)[number], (s: IncidentStatus) => boolean> = {
  // Remediated and reported; its Run key then waits for an analyst's approval to be removed.
  malicious: (s) => s.phase === 'closed' || s.phase === 'awaiting-persistence-review',
  suspicious: (s) => s.phase === 'awaiting-review' || s.phase === 'closed',
  benign: (s) => s.phase === 'closed',
};

async function runningStack(dataDirectory: string): Promise<StackInfo | null> {
  let info: StackInfo;
  try {
    info = StackFileSchema.parse(JSON.parse(readFileSync(join(dataDirectory, 'dev-stack.json'), 'utf8')));
  } catch {
    return null;
  }
  const health = await fetch(new URL('/healthz', info.urls.ingest)).catch(() => null);
  return health?.ok ? info : null;
}

async function main(): Promise<void> {
  const dataDirectory = resolve(process.env.SPAWNGUARD_DATA_DIR ?? '.spawnguard');
  let stack: DevStack | null = null;
  let info = await runningStack(dataDirectory);
  if (info) {
    console.log(`Using the running stack at ${new URL(info.urls.ingest).origin}`);
  } else {
    console.log('No running stack found (npm start); starting one for the demo…');
    stack = await startDevStack({
      dataDirectory,
      log: (line) => /^\[|Starting|Temporal CLI|build/.test(line) && console.log(`  ${line}`),
    });
    info = { urls: stack.urls, ingestToken: stack.ingestToken };
  }
  const headers = { authorization: `Bearer ${info.ingestToken}`, 'content-type': 'application/json' };
  const origin = new URL(info.urls.ingest).origin;

  const incidents: { sample: (typeof SAMPLES)[number]; workflowId: string }[] = [];
  for (const sample of SAMPLES) {
    const alert = readFileSync(join(DEMO_DIRECTORY, 'alerts', `${sample}.json`), 'utf8');
    const response = await fetch(info.urls.ingest, { method: 'POST', headers, body: alert });
    const body = (await response.json()) as { workflowId?: string; deduplicated?: boolean; message?: string };
    if (response.status !== 202 || !body.workflowId)
      throw new Error(`${sample}: ${response.status} ${JSON.stringify(body)}`);
    console.log(
      `→ ${sample.padEnd(10)} alert accepted: ${body.workflowId}${body.deduplicated ? ' (already known: attached to the running incident)' : ''}`,
    );
    incidents.push({ sample, workflowId: body.workflowId });
  }

  console.log('\nFollowing the incidents (Ctrl+C to stop watching; they carry on in Temporal)…');
  const last = new Map<string, string>();
  const deadline = Date.now() + 120_000;
  const final = new Map<string, IncidentStatus>();
  while (final.size < incidents.length && Date.now() < deadline) {
    for (const { sample, workflowId } of incidents) {
      if (final.has(workflowId)) continue;
      const response = await fetch(`${origin}/v1/incidents/${encodeURIComponent(workflowId)}`, { headers });
      if (!response.ok) continue;
      const status = (await response.json()) as IncidentStatus;
      const line = `${status.phase}${status.decision ? ` · ${status.decision.verdict} (score ${status.decision.score})` : ''}${status.outcome ? ` · ${status.outcome}` : ''}`;
      if (last.get(workflowId) !== line) {
        console.log(`  ${sample.padEnd(10)} ${line}`);
        last.set(workflowId, line);
      }
      if (SETTLED[sample](status)) final.set(workflowId, status);
    }
    await new Promise((r) => setTimeout(r, 500));
  }

  console.log('\nResults:');
  for (const { sample, workflowId } of incidents) {
    const status = final.get(workflowId);
    if (!status) {
      console.log(`  ${sample}: still running after 2 minutes — check the Temporal UI`);
      continue;
    }
    console.log(`  ${sample}: ${status.outcome ?? status.phase}`);
    for (const reason of status.decision?.reasons ?? [])
      console.log(`      ${reason.weight >= 0 ? '+' : ''}${reason.weight} ${reason.code}: ${reason.evidence}`);
    for (const action of status.actions)
      console.log(
        `      ${action.action}: ${action.status}${action.reason ? ` (${action.reason})` : ''} — ${action.target}`,
      );
  }
  const pending = incidents.find(
    (i) => i.sample === 'suspicious' && final.get(i.workflowId)?.phase === 'awaiting-review',
  );
  if (pending) {
    console.log(`\nThe suspicious incident waits for an analyst. Approve or reject it:`);
    console.log(`  on the review page:  ${info.urls.reviewPage}`);
    console.log(
      `  from the CLI:        npx spawnguard review approve ${pending.workflowId} --analyst ${demoAnalyst()} --comment "confirmed"`,
    );
    console.log(
      `  over HTTP:           curl -X POST -H "Authorization: Bearer <token>" -H 'content-type: application/json' \\`,
    );
    console.log(
      `                         -d '{"decision":"approve","analyst":"you"}' ${origin}/v1/incidents/${pending.workflowId}/review`,
    );
  }
  const removable = incidents.find(
    (i) => i.sample === 'malicious' && final.get(i.workflowId)?.phase === 'awaiting-persistence-review',
  );
  if (removable) {
    console.log(`\nThe malicious incident proposes removing the dropper's Run key (backed up first). Approve it:`);
    console.log(`  on the review page:  ${info.urls.reviewPage}/${removable.workflowId}`);
    console.log(
      `  from the CLI:        npx spawnguard persistence remove ${removable.workflowId} --analyst ${demoAnalyst()}`,
    );
    console.log(`Undo everything it quarantined or removed (a false positive):`);
    console.log(`  npx spawnguard restore ${removable.workflowId} --all --analyst ${demoAnalyst()}`);
  }
  if (info.urls.temporalUi) console.log(`\nThe audit trail: ${info.urls.temporalUi}/namespaces/default/workflows`);
  console.log(`The report emails: ${info.urls.mail}`);

  if (stack) {
    console.log('\nThe demo started its own stack; it keeps running so you can review. Ctrl+C stops it.');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

/**
 * Who the printed approve command names: this user's login, or `analyst` where there is none ($USER
 * is empty in containers). Only a name a shell takes as one word without quoting is printed.
 */
function demoAnalyst(): string {
  let name = process.env.USER || process.env.LOGNAME || '';
  if (!name) {
    try {
      name = userInfo().username;
    } catch {
      name = '';
    }
  }
  return /^[A-Za-z0-9._-]{1,64}$/.test(name) ? name : 'analyst';
}
