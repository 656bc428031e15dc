/**
 * The production topology, run for real (issue 20): Temporal 1.29.1 on PostgreSQL with advanced
 * visibility and mutual TLS, from the same server configuration docker-compose.yml mounts, with two
 * ingest replicas and two central workers as separate processes. The end-to-end path, duplicates
 * arriving at different replicas, a storm over both replicas, kill -9 of the server in the middle of
 * a remediation, and kill -9 of one ingest replica under load: no alert lost, exactly the distinct
 * incidents, every incident closes once.
 */
import { readFileSync } from 'node:fs';
import type { IncidentStatus } from '../../common/incident-status';
import { api, demoAlert, demoScenario, startTopology, type Topology } from './topology';

jest.setTimeout(600_000);

let topology: Topology;
let A: ReturnType<typeof api>;
let B: ReturnType<typeof api>;

beforeAll(async () => {
  topology = await startTopology({ replicas: 2, centralWorkers: 2 });
  await topology.startHost('web01', demoScenario());
  A = api(topology, topology.ingest[0]!);
  B = api(topology, topology.ingest[1]!);
}, 600_000);

afterAll(async () => {
  if (process.env.SPAWNGUARD_CLUSTER_LOG && topology) console.log(topology.logs());
  await topology?.stop();
});

/** Polls until `accept`; on timeout fails with the last value and every part's log. */
async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'nothing yet';
  for (;;) {
    try {
      const value = await probe();
      if (accept(value)) return value;
      last = JSON.stringify(value).slice(0, 1500);
    } catch (err) {
      last = `error: ${(err as Error).message}`;
    }
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms; last: ${last}\n${topology.logs()}`);
    await new Promise((done) => setTimeout(done, 500));
  }
}

interface Acknowledgement {
  status: number;
  workflowId?: string;
  runId?: string;
  deduplicated?: boolean;
}

async function acknowledged(response: Response): Promise<Acknowledgement> {
  const body = (await response.json().catch(() => ({}))) as Omit<Acknowledgement, 'status'>;
  return { status: response.status, ...body };
}

const closed = (s: IncidentStatus) => s.phase === 'closed';

/** How many runs (executions) the workflow id has in visibility: an incident that closed once has one. */
async function runsOf(workflowId: string): Promise<number> {
  return (await topology.admin.workflow.count(`WorkflowId = "${workflowId}"`)).count;
}

async function rejectAll(workflowIds: string[]): Promise<IncidentStatus[]> {
  const replicas = [A, B];
  for (const [index, workflowId] of workflowIds.entries()) {
    const replica = replicas[index % 2]!;
    await eventually(
      () => replica.status(workflowId),
      (s) => s.phase === 'awaiting-review',
    );
    const response = await replica.review(workflowId, 'reject');
    expect({ workflowId, status: response.status }).toEqual({ workflowId, status: 200 });
  }
  return Promise.all(workflowIds.map((id) => eventually(() => A.status(id), closed)));
}

describe('on Temporal with PostgreSQL, two ingest replicas and two central workers', () => {
  it('end to end: malicious remediated and reported, benign closed, suspicious approved at the other replica; visibility answers', async () => {
    const [malicious, suspicious, benign] = await Promise.all([
      A.post(demoAlert('malicious')).then(acknowledged),
      B.post(demoAlert('suspicious')).then(acknowledged),
      A.post(demoAlert('benign')).then(acknowledged),
    ]);
    expect([malicious.status, suspicious.status, benign.status]).toEqual([202, 202, 202]);

    const remediated = await eventually(() => B.status(malicious.workflowId!), closed);
    expect(remediated.outcome).toBe('remediated');
    const acted = remediated.actions.filter((a) => a.status !== 'skipped');
    expect(acted.map((a) => a.action)).toEqual(
      expect.arrayContaining(['terminate-child', 'quarantine-child', 'logoff-user', 'fetch-persistence']),
    );
    expect(acted.every((a) => (a.status === 'done' || a.status === 'already-done') && a.validated === true)).toBe(true);
    const report = await eventually(
      async () =>
        topology.mail.messages.filter((m) => m.parsed.headers.get('x-spawnguard-incident') === malicious.workflowId),
      (m) => m.length > 0,
    );
    expect(report[0]!.parsed.subject).toMatch(/remediated/i);

    expect((await eventually(() => A.status(benign.workflowId!), closed)).outcome).toBe('closed-benign');

    // Reviewed through the replica that did not take the alert.
    await eventually(
      () => A.status(suspicious.workflowId!),
      (s) => s.phase === 'awaiting-review',
    );
    expect((await A.review(suspicious.workflowId!, 'approve')).status).toBe(200);
    const approved = await eventually(() => B.status(suspicious.workflowId!), closed);
    expect(approved).toMatchObject({ outcome: 'remediated', review: { status: 'approved', analyst: 'alice' } });

    // Advanced visibility on PostgreSQL answers the incident list's queries (eventually consistent).
    const found = await eventually(
      async () => {
        const ids: string[] = [];
        for await (const execution of topology.admin.workflow.list({
          query: `Verdict = "malicious" AND Hostname = "web01"`,
        }))
          ids.push(execution.workflowId);
        return ids;
      },
      (ids) => ids.includes(malicious.workflowId!),
    );
    expect(found).not.toContain(benign.workflowId);
    for (const id of [malicious.workflowId!, suspicious.workflowId!, benign.workflowId!])
      expect(await runsOf(id)).toBe(1);
  });

  it('one alert sent to both replicas at once is one incident; a second alert of it is folded in, not a second incident', async () => {
    const alert = demoAlert('suspicious', { alertId: 'cross-replica-1', childPid: 30_001 });
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? A : B).post(alert).then(acknowledged)),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
    expect(new Set(answers.map((a) => `${a.workflowId}/${a.runId}`)).size).toBe(1);
    expect(answers.filter((a) => a.deduplicated === false)).toHaveLength(1);
    const workflowId = answers[0]!.workflowId!;

    const second = await acknowledged(await B.post({ ...alert, alertId: 'cross-replica-2', ruleName: 'another rule' }));
    expect(second).toMatchObject({ status: 202, workflowId, deduplicated: true });
    await eventually(
      () => A.status(workflowId),
      (s) => s.duplicateCount === 1,
    );
    const [done] = await rejectAll([workflowId]);
    expect(done!.outcome).toBe('closed-false-positive');
    expect([...(done!.alertIds ?? [])].sort()).toEqual(['cross-replica-1', 'cross-replica-2']);
    expect(await runsOf(workflowId)).toBe(1);
  });

  it('a storm over both replicas: 1,000 posts of 100 alerts for 20 incidents → exactly 20 incidents, no alert lost, each closes once', async () => {
    const INCIDENTS = 20;
    const RULES = 5;
    const POSTS = 1_000;
    const alertOf = (post: number) => {
      const incident = post % INCIDENTS;
      const rule = Math.floor(post / INCIDENTS) % RULES;
      return {
        incident,
        alert: demoAlert('suspicious', { alertId: `storm-${incident}-${rule}`, childPid: 40_000 + incident }),
      };
    };
    const answers: (Acknowledgement & { incident: number })[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 40 }, async () => {
        for (let post = next++; post < POSTS; post = next++) {
          const { incident, alert } = alertOf(post);
          answers.push({ incident, ...(await (post % 2 ? A : B).post(alert).then(acknowledged)) });
        }
      }),
    );
    expect(answers.filter((a) => a.status !== 202)).toEqual([]);
    const workflowIds = [...new Set(answers.map((a) => a.workflowId!))];
    expect(workflowIds).toHaveLength(INCIDENTS);
    for (let incident = 0; incident < INCIDENTS; incident++) {
      const mine = answers.filter((a) => a.incident === incident);
      expect(new Set(mine.map((a) => `${a.workflowId}/${a.runId}`)).size).toBe(1);
      expect(mine.filter((a) => a.deduplicated === false)).toHaveLength(1);
    }

    const results = await rejectAll(workflowIds);
    for (const result of results) {
      const incident = Number(/^storm-(\d+)-/.exec(result.alert.alertId)![1]);
      expect([...(result.alertIds ?? [])].sort()).toEqual(
        Array.from({ length: RULES }, (_, rule) => `storm-${incident}-${rule}`),
      );
      expect(result.outcome).toBe('closed-false-positive');
    }
    expect(await Promise.all(workflowIds.map(runsOf))).toEqual(workflowIds.map(() => 1));
  });

  it('kill -9 of the Temporal server mid-remediation: 503 while it is down, then the incident completes once, validated, reported once', async () => {
    const host = await topology.startHost('web02', demoScenario());
    const answer = await acknowledged(
      await B.post(demoAlert('malicious', { hostname: 'WEB02', alertId: 'failover-1' })),
    );
    expect(answer.status).toBe(202);
    const workflowId = answer.workflowId!;

    // The first host action has run: the server dies now, with the rest of the remediation to do.
    await eventually(
      async () => readFileSync(host.logFile, 'utf8'),
      (log) => log.includes('lab: stopped process'),
      180_000,
    );
    await topology.cluster.killServer();
    const whileDown = await A.post(demoAlert('benign', { alertId: 'while-down', childPid: 50_001 }));
    expect(whileDown.status).toBe(503);
    await topology.cluster.startServer();

    const done = await eventually(() => A.status(workflowId), closed, 300_000);
    expect(done.outcome).toBe('remediated');
    const acted = done.actions.filter((a) => a.status !== 'skipped');
    expect(acted.length).toBeGreaterThan(0);
    expect(acted.every((a) => (a.status === 'done' || a.status === 'already-done') && a.validated === true)).toBe(true);
    const reports = await eventually(
      async () => topology.mail.messages.filter((m) => m.parsed.headers.get('x-spawnguard-incident') === workflowId),
      (m) => m.length > 0,
    );
    // Once: give a duplicate report the time it would need to arrive, then count. Counted by the
    // mail's incident header: another incident's report may name this one among its related.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect(
      topology.mail.messages.filter((m) => m.parsed.headers.get('x-spawnguard-incident') === workflowId),
    ).toHaveLength(reports.length);
    expect(reports).toHaveLength(1);
    expect(await runsOf(workflowId)).toBe(1);
  });

  it('kill -9 of one ingest replica under load: the sender fails over, every alert is acknowledged and recorded, no incident twice', async () => {
    const INCIDENTS = 10;
    const RULES = 20;
    const alerts = Array.from({ length: INCIDENTS * RULES }, (_, post) => ({
      incident: post % INCIDENTS,
      alert: demoAlert('suspicious', {
        alertId: `failover-${post % INCIDENTS}-${Math.floor(post / INCIDENTS)}`,
        childPid: 60_000 + (post % INCIDENTS),
      }),
    }));
    const replicas = [A, B];
    let sent = 0;
    let failedOver = 0;
    let killed: Promise<void> | undefined;
    /** A load balancer's behaviour: round robin, and a request that fails at one replica goes to the other. */
    const send = async (post: number, alert: Record<string, unknown>): Promise<Acknowledgement> => {
      for (let attempt = 0; attempt < 10; attempt++) {
        const replica = replicas[(post + attempt) % 2]!;
        const answer = await replica.post(alert).then(acknowledged, () => ({ status: 0 }));
        if (answer.status === 202) return answer;
        failedOver++;
      }
      return { status: -1 };
    };
    const answers: (Acknowledgement & { incident: number })[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        for (let post = next++; post < alerts.length; post = next++) {
          const { incident, alert } = alerts[post]!;
          answers.push({ incident, ...(await send(post, alert)) });
          if (++sent === 60) killed = topology.kill(topology.ingest[0]!);
        }
      }),
    );
    await killed;
    expect(topology.ingest[0]!.process.signalCode).toBe('SIGKILL');
    // Posts that met the dead replica went to the other one.
    expect(failedOver).toBeGreaterThan(0);
    expect(answers.filter((a) => a.status !== 202)).toEqual([]);
    const workflowIds = [...new Set(answers.map((a) => a.workflowId!))];
    expect(workflowIds).toHaveLength(INCIDENTS);

    // Replica 1 is gone: reviews and reads go through replica 2.
    A = B;
    const results = await rejectAll(workflowIds);
    for (const result of results) {
      const incident = Number(/^failover-(\d+)-/.exec(result.alert.alertId)![1]);
      expect([...(result.alertIds ?? [])].sort()).toEqual(
        Array.from({ length: RULES }, (_, rule) => `failover-${incident}-${rule}`).sort(),
      );
    }
    expect(await Promise.all(workflowIds.map(runsOf))).toEqual(workflowIds.map(() => 1));
  });
});
