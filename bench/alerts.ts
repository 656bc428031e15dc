/**
 * The alerts the bench sends, made from the bundled demo (demo/alerts/malicious.json, demo/host.json)
 * so they are the documents a SIEM would post: canonical JSON alerts, each a distinct incident unless
 * a storm repeats it on purpose.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CanonicalAlert } from '../common/alert';
import { normalizeAlert } from '../common/normalize';
import { LabScenarioSchema, type LabScenario } from '../activities/lab/scenario';

const DEMO_DIRECTORY = resolve(__dirname, '..', 'demo');

/** An alert as posted: a canonical JSON document, and the canonical alert ingest will make of it. */
export interface BenchAlert {
  body: string;
  alert: CanonicalAlert;
}

export type AlertDocument = Record<string, unknown> & {
  alertId: string;
  host: { hostname: string };
  user: { name: string; domain: string };
  session: { id: number; remoteIp: string };
  parent: { pid: number; startTime: string };
  child: {
    pid: number;
    name: string;
    executable: string;
    commandLine: string;
    startTime: string;
    hashes: { sha256: string };
  };
};

function demoAlert(): AlertDocument {
  return JSON.parse(readFileSync(join(DEMO_DIRECTORY, 'alerts', 'malicious.json'), 'utf8')) as AlertDocument;
}

export function benchAlert(document: AlertDocument): BenchAlert {
  // Normalized here exactly as the ingest service normalizes a post: the raw-start baseline starts
  // the same canonical alert, and a document the service would refuse stops the bench at once.
  return { body: JSON.stringify(document), alert: normalizeAlert(document) };
}

const plusSeconds = (iso: string, seconds: number) => new Date(Date.parse(iso) + seconds * 1000).toISOString();

/**
 * Distinct incidents for the start-path sections: the demo's malicious alert on a host no worker
 * serves, with the parent PID telling sets apart and the child PID and start time telling alerts
 * apart (the workflow id is built from exactly these: common/incident.ts).
 */
export function distinctAlerts(set: number, count: number): BenchAlert[] {
  const base = demoAlert();
  return Array.from({ length: count }, (_, seq) => {
    const document: AlertDocument = structuredClone(base);
    document.alertId = `bench-${set}-${seq}`;
    document.host.hostname = 'LOAD01';
    document.parent.pid = 2000 + set * 4;
    document.child.pid = 10_000 + seq * 4;
    document.child.startTime = plusSeconds(base.child.startTime, seq);
    return benchAlert(document);
  });
}

/**
 * A duplicate storm: `posts` posts over `incidents` incidents, the copies of every incident
 * interleaved as a SIEM re-sending a burst would send them. Each copy is the same alert (same
 * alertId): the re-sends the ingest service's recent-alert cache is for.
 */
export function stormAlerts(set: number, incidents: number, posts: number): BenchAlert[] {
  const distinct = distinctAlerts(set, incidents);
  return Array.from({ length: posts }, (_, i) => distinct[i % incidents] as BenchAlert);
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The content of bench dropper i's file: its SHA-256 is the one the alert carries. */
export const dropperContent = (i: number) => `spawnguard bench dropper ${i}`;

/**
 * Malicious incidents the lab host can remediate, each on its own processes, file and user session
 * so that every incident does the same work (no "already stopped" shortcuts from an earlier one):
 * the demo's Word-drops-an-unsigned-binary attack, numbered.
 */
export function labIncidents(count: number): { scenario: LabScenario; alerts: BenchAlert[] } {
  const scenario = LabScenarioSchema.parse(JSON.parse(readFileSync(join(DEMO_DIRECTORY, 'host.json'), 'utf8')));
  const base = demoAlert();
  const word = scenario.processes.find((p) => p.pid === base.parent.pid);
  const dropper = scenario.files.find((f) => f.path === base.child.executable);
  if (!word || !dropper) throw new Error('demo/host.json no longer holds the processes of demo/alerts/malicious.json');

  const alerts: BenchAlert[] = [];
  for (let i = 0; i < count; i++) {
    const parentPid = 20_000 + i * 16;
    const childPid = parentPid + 4;
    const user = `bench${i}`;
    const executable = `C:\\Users\\${user}\\AppData\\Local\\Temp\\invoice-${i}.exe`;
    const childStart = plusSeconds(base.child.startTime, i);
    const hash = sha256(dropperContent(i));
    const session = 100 + i;
    scenario.processes.push(
      { ...word, pid: parentPid, owner: `CONTOSO\\${user}`, sessionId: session, running: true },
      {
        pid: childPid,
        parentPid,
        name: `invoice-${i}.exe`,
        path: executable,
        commandLine: `"${executable}" -silent`,
        startTime: childStart,
        owner: `CONTOSO\\${user}`,
        sessionId: session,
        running: true,
      },
      {
        pid: childPid + 4,
        parentPid: childPid,
        name: 'conhost.exe',
        path: 'C:\\Windows\\System32\\conhost.exe',
        commandLine: null,
        startTime: plusSeconds(childStart, 1),
        owner: `CONTOSO\\${user}`,
        sessionId: session,
        running: true,
      },
    );
    scenario.files.push({ ...dropper, path: executable, sha256: hash, originalFilename: `stage2-${i}.exe` });
    scenario.sessions.push({
      id: session,
      user: `CONTOSO\\${user}`,
      type: 'rdp',
      state: 'Active',
      clientAddress: base.session.remoteIp,
    });

    const document: AlertDocument = structuredClone(base);
    document.alertId = `bench-remediation-${i}`;
    document.user.name = user;
    document.session.id = session;
    document.parent.pid = parentPid;
    document.child = {
      ...document.child,
      pid: childPid,
      name: `invoice-${i}.exe`,
      executable,
      commandLine: `"${executable}" -silent`,
      startTime: childStart,
      hashes: { sha256: hash },
    };
    alerts.push(benchAlert(document));
  }
  return { scenario, alerts };
}
