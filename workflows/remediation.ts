/**
 * Remediation and validation on the alert's host (DESIGN.md §1 steps 3–4): runs the plan's steps on
 * the host task queue, records every result (a failed step does not stop the others), then
 * re-checks every action on the host.
 */
import type { Duration } from '@temporalio/common';
import { patched, proxyActivities } from '@temporalio/workflow';
import type { CanonicalAlert } from '../common/alert';
import type { PlanStep } from '../common/decision';
import type {
  HostActivities,
  PersistenceEntry,
  PersistenceSummary,
  ProcessActionResult,
  TerminateTarget,
} from '../common/host-contract';
import { d3fendFor } from '../common/frameworks';
import { HOST_FAILURE_TYPES } from '../common/host-failures';
import type { ActionRecord } from '../common/incident-status';
import { HOST_TASK_PRIORITY, hostTaskQueue, type HostTaskPriority } from '../common/names';
import type { PlaybookPolicy } from '../common/playbook';
import { normalizeUser } from '../common/user-name';
import { describeFailure } from './enrichment';
import { isScheduleToStartTimeout, onLiveHostActivities } from './host-liveness';

export interface RemediationResult {
  actions: ActionRecord[];
  persistence: PersistenceEntry[];
  /** Exact counts of the host's persistence entries, of which `persistence` lists a capped part. */
  persistenceSummary: PersistenceSummary | null;
  hostUnreachable: boolean;
}

/** The persistence step's findings: the capped entries and the host's exact counts. */
interface Collected {
  entries: PersistenceEntry[];
  summary: PersistenceSummary | null;
}

interface Context {
  alert: CanonicalAlert;
  incidentId: string;
  policy: PlaybookPolicy;
  /** Called after every record so the status query shows progress as it happens. */
  onRecord: (record: ActionRecord) => void;
}

function hostActivities(
  ctx: Context,
  summary: string,
  priority: HostTaskPriority,
  startToCloseTimeout: Duration = '5m',
): HostActivities {
  // An action that waited its whole schedule-to-start time is queued again while the host's worker
  // answers its ping: busy is not unreachable.
  return onLiveHostActivities(
    proxyHostActivities(ctx, summary, priority, startToCloseTimeout),
    ctx.alert.host.hostname,
    ctx.policy,
  );
}

/** The host's activities for a follow-up of the incident (persistence removal, restore): same policy as remediation's. */
export function hostActionActivities(
  alert: CanonicalAlert,
  policy: PlaybookPolicy,
  summary: string,
  priority: HostTaskPriority,
  startToCloseTimeout: Duration = '5m',
): HostActivities {
  return hostActivities({ alert, policy, incidentId: '', onRecord: () => {} }, summary, priority, startToCloseTimeout);
}

function proxyHostActivities(
  ctx: Context,
  summary: string,
  priority: HostTaskPriority,
  startToCloseTimeout: Duration,
): HostActivities {
  return proxyActivities<HostActivities>({
    taskQueue: hostTaskQueue(ctx.alert.host.hostname, ctx.policy.hostQueues),
    // Containment first: on a host that several incidents keep busy, a later incident's stop or
    // quarantine is dispatched before an earlier incident's minutes-long persistence listing.
    priority: { priorityKey: HOST_TASK_PRIORITY[priority] },
    // A host with no worker polling must not hang the incident: it times out to schedule.
    scheduleToStartTimeout: ctx.policy.hostUnreachableTimeout,
    startToCloseTimeout,
    heartbeatTimeout: ctx.policy.hostHeartbeatTimeout,
    retry: {
      initialInterval: '2s',
      maximumAttempts: 5,
      nonRetryableErrorTypes: Object.values(HOST_FAILURE_TYPES),
    },
    summary,
  });
}

const now = () => new Date().toISOString();

/**
 * The order the steps run in. Persistence is collected before the user is logged off (the logoff
 * unloads their hive, and with it their Run keys and COM registrations); histories recorded before
 * that change logged off first and replay in that order.
 */
function runOrder(plan: PlanStep[]): PlanStep[] {
  if (patched('fetch-persistence-before-logoff')) return plan;
  return [
    ...plan.filter((s) => s.action !== 'fetch-persistence'),
    ...plan.filter((s) => s.action === 'fetch-persistence'),
  ];
}

export async function remediate(ctx: Context, plan: PlanStep[]): Promise<RemediationResult> {
  const actions: ActionRecord[] = [];
  const persistence: PersistenceEntry[] = [];
  const collected: Collected = { entries: persistence, summary: null };
  const terminated = new Map<ActionRecord, number[]>();
  /** Each logoff record and the session it logged off: validation re-checks that session only. */
  const loggedOff = new Map<ActionRecord, number>();
  let hostUnreachable = false;
  const record = (r: ActionRecord, pids: number[] = []) => {
    const technique = d3fendFor(r.action);
    if (technique) r.d3fend = technique;
    actions.push(r);
    if (pids.length > 0) terminated.set(r, pids);
    ctx.onRecord(r);
  };
  const processRecord = (step: PlanStep, r: ProcessActionResult) =>
    record(
      {
        action: step.action,
        target: step.target.description,
        status: r.status,
        reason: r.reason ?? null,
        message: r.message ?? null,
        quarantine: r.quarantine ?? null,
        validated: null,
        ...(r.terminatedPids.some((pid) => pid !== r.pid)
          ? { descendantPids: r.terminatedPids.filter((pid) => pid !== r.pid) }
          : {}),
        at: now(),
      },
      r.terminatedPids,
    );

  // The offending binaries are what gets quarantined; a terminated-only parent (Word whose document
  // launched the attack) is not one. Without a quarantine, the child's image is what to look for.
  const quarantined = plan.filter((s) => s.action.startsWith('quarantine-') && !s.skipped && s.target.imagePath);
  const referencePaths = [
    ...new Set(
      (quarantined.length > 0 ? quarantined.map((s) => s.target.imagePath) : [ctx.alert.child.executable]).filter(
        (p): p is string => Boolean(p),
      ),
    ),
  ];

  // The attacker's session is the one hosting the offending process: found now, before the process
  // is terminated, so the logoff can target it (not every session of a user of that name).
  let attackerSessions: number[] = [];
  try {
    attackerSessions = await offendingSessionIds(ctx, plan);
  } catch (err) {
    hostUnreachable = isScheduleToStartTimeout(err);
  }

  for (const step of runOrder(plan)) {
    const base = { action: step.action, target: step.target.description, quarantine: null, validated: null };
    if (step.skipped) {
      record({ ...base, status: 'skipped', reason: step.skipped, message: null, at: now() });
      continue;
    }
    if (hostUnreachable) {
      record({
        ...base,
        status: 'failed',
        reason: 'host-unreachable',
        message: 'not attempted: host unreachable',
        at: now(),
      });
      continue;
    }
    try {
      await runStep(ctx, step, referencePaths, processRecord, record, collected, {
        sessionIds: attackerSessions,
        loggedOff: (r, sessionId) => loggedOff.set(r, sessionId),
      });
    } catch (err) {
      hostUnreachable = isScheduleToStartTimeout(err);
      record({
        ...base,
        status: 'failed',
        reason: hostUnreachable ? 'host-unreachable' : 'error',
        message: hostUnreachable
          ? `no host worker picked up the action within ${ctx.policy.hostUnreachableTimeout}`
          : describeFailure(err),
        at: now(),
      });
    }
  }

  if (!hostUnreachable) {
    try {
      await validate(ctx, actions, terminated, loggedOff);
    } catch (err) {
      // The actions ran; only their re-check failed. Report them as not validated rather than
      // failing the incident, so the report still goes out and says what could not be confirmed.
      const why = isScheduleToStartTimeout(err) ? 'host unreachable during validation' : describeFailure(err);
      for (const action of actions) {
        if (action.validated === null && (action.status === 'done' || action.status === 'already-done')) {
          action.validated = false;
          action.message = [action.message, `not validated: ${why}`].filter(Boolean).join('; ');
        }
      }
    }
  }
  return { actions, persistence, persistenceSummary: collected.summary, hostUnreachable };
}

/**
 * The sessions hosting the offending process: the alert's terminal session id when the sensor gave
 * one, else the child's SessionId read on the host (when its image is the alert's, not a reused PID).
 * Only when a logoff will run; histories recorded before this look-up existed replay without it.
 */
async function offendingSessionIds(ctx: Context, plan: PlanStep[]): Promise<number[]> {
  if (!plan.some((s) => s.action === 'logoff-user' && !s.skipped)) return [];
  if (!patched('logoff-targets-offending-session')) return [];
  if (ctx.alert.session?.id !== undefined) return [ctx.alert.session.id];
  const child = ctx.alert.child;
  if (!child.executable) return [];
  const tree = await hostActivities(ctx, `Session of ${child.name} (PID ${child.pid})`, 'containment').getProcessTree({
    processIds: [child.pid],
  });
  const found = tree.results.find((p) => p.found && p.pid === child.pid);
  const sameImage = found?.path?.toLowerCase() === child.executable.toLowerCase();
  return found && sameImage && typeof found.sessionId === 'number' ? [found.sessionId] : [];
}

interface LogoffTargets {
  sessionIds: number[];
  loggedOff: (r: ActionRecord, sessionId: number) => void;
}

async function runStep(
  ctx: Context,
  step: PlanStep,
  referencePaths: string[],
  processRecord: (step: PlanStep, r: ProcessActionResult) => void,
  record: (r: ActionRecord) => void,
  collected: Collected,
  logoff: LogoffTargets,
): Promise<void> {
  const target = step.target;
  if (step.action !== 'logoff-user' && step.action !== 'fetch-persistence' && target.pid === undefined) {
    throw new Error(`${step.action} step without a PID`);
  }
  const isProcessStep = step.action !== 'logoff-user' && step.action !== 'fetch-persistence';
  if (isProcessStep && !target.imagePath) {
    // The PID-reuse guard is not optional: a PID alone may belong to an unrelated process by now.
    throw new Error(`${step.action} step without an image path: a PID alone is never acted on`);
  }
  const processTarget: TerminateTarget = {
    pid: target.pid ?? 0,
    imagePath: target.imagePath ?? '',
    ...(target.startTime ? { startTime: target.startTime } : {}),
    ...(target.startedBefore ? { startedBefore: target.startedBefore } : {}),
  };
  const summary = `${step.action}: ${target.description}`;
  switch (step.action) {
    case 'quarantine-parent':
    case 'quarantine-child': {
      // The image's SHA-256 as the alert saw it: the script quarantines the file at the path only
      // while it still has this hash (and a file whose process has exited only with it).
      const seen = step.action === 'quarantine-parent' ? ctx.alert.parent : ctx.alert.child;
      const sha256 =
        seen?.executable && seen.executable.toLowerCase() === processTarget.imagePath.toLowerCase()
          ? seen.hashes?.sha256
          : undefined;
      const result = await hostActivities(ctx, summary, 'containment').stopAndQuarantineProcess({
        incidentId: ctx.incidentId,
        targets: [sha256 ? { ...processTarget, sha256 } : processTarget],
        includeDescendants: step.action === 'quarantine-child',
        trustedPublishers: ctx.policy.decision.trustedPublishers,
        ...(ctx.policy.quarantineDirectory ? { quarantineDirectory: ctx.policy.quarantineDirectory } : {}),
      });
      result.results.forEach((r) => processRecord(step, r));
      return;
    }
    case 'terminate-parent':
    case 'terminate-child': {
      const result = await hostActivities(ctx, summary, 'containment').stopProcess({
        incidentId: ctx.incidentId,
        targets: [processTarget],
        includeDescendants: step.action === 'terminate-child',
      });
      result.results.forEach((r) => processRecord(step, r));
      return;
    }
    case 'logoff-user': {
      if (!target.user) throw new Error('logoff-user step without a user');
      const user = normalizeUser(target.user);
      const child = ctx.alert.child;
      const result = await hostActivities(ctx, summary, 'containment').terminateSession({
        incidentId: ctx.incidentId,
        users: [user],
        // The sessions hosting the offending process; the script also looks the child up itself
        // (identity-checked) in case it still runs. The user only confirms them.
        ...(logoff.sessionIds.length > 0 ? { sessionIds: logoff.sessionIds } : {}),
        ...(child.executable
          ? {
              processes: [
                {
                  pid: child.pid,
                  imagePath: child.executable,
                  ...(child.startTime ? { startTime: child.startTime } : {}),
                },
              ],
            }
          : {}),
        ...(ctx.alert.session?.remoteIp ? { remoteIp: ctx.alert.session.remoteIp } : {}),
      });
      const outcome = result.results;
      if (outcome.length === 0) {
        record({
          action: step.action,
          target: target.description,
          status: 'already-done',
          reason: 'no-session',
          message: 'no session found for the user',
          quarantine: null,
          validated: null,
          at: now(),
        });
      }
      for (const r of outcome) {
        const where = r.clientAddress ? ` from ${r.clientAddress} (client-reported, can be spoofed)` : '';
        const entry: ActionRecord = {
          action: step.action,
          target: `${r.user} session ${r.sessionId ?? '?'}${where}`,
          status: r.status,
          reason: r.reason ?? null,
          message: r.message ?? null,
          quarantine: null,
          validated: null,
          at: now(),
        };
        record(entry);
        if (typeof r.sessionId === 'number') logoff.loggedOff(entry, r.sessionId);
      }
      return;
    }
    case 'fetch-persistence': {
      // Enumerating every persistence kind on a big host takes minutes (the script's own limit is 10).
      const result = await hostActivities(ctx, summary, 'enumeration', '12m').fetchPersistenceEntries({
        incidentId: ctx.incidentId,
        referencePaths,
      });
      // Entries that reference the offending binaries first: they are what the analyst must remove.
      const entries = [...result.results].sort((a, b) => Number(b.referencesTarget) - Number(a.referencesTarget));
      collected.entries.push(...entries);
      // The listing is capped on the host (payload limits); the summary counts every entry.
      if (result.summary) collected.summary = result.summary;
      const flagged = result.summary?.referencing ?? entries.filter((e) => e.referencesTarget).length;
      const total = result.summary?.total ?? entries.length;
      record({
        action: step.action,
        target: target.description,
        status: 'done',
        reason: null,
        message: `${total} persistence entries, ${flagged} referencing the offending binaries${result.summary?.omitted ? ` (${result.summary.omitted} not listed here: run FetchPersistenceEntries.ps1 on the host for all)` : ''}`,
        quarantine: null,
        validated: true,
        at: now(),
      });
      return;
    }
  }
}

/** Re-checks every successful action on the host: process gone, file quarantined intact, session gone. */
async function validate(
  ctx: Context,
  actions: ActionRecord[],
  terminated: Map<ActionRecord, number[]>,
  loggedOff: Map<ActionRecord, number>,
): Promise<void> {
  const succeeded = (a: ActionRecord) => a.status === 'done' || a.status === 'already-done';
  // Each check names what it checks, as the Temporal UI shows it.
  const check = (summary: string) => hostActivities(ctx, `Validate: ${summary}`.slice(0, 200), 'investigation');

  const pids = [...new Set([...terminated.entries()].filter(([a]) => succeeded(a)).flatMap(([, p]) => p))];
  if (pids.length > 0) {
    const tree = await check(`PID ${pids.join(', ')} no longer running`).getProcessTree({ processIds: pids });
    const running = new Set(tree.results.filter((p) => p.found).map((p) => p.pid));
    for (const [action, actionPids] of terminated) {
      if (succeeded(action)) action.validated = actionPids.every((pid) => !running.has(pid));
    }
  }

  const quarantined = actions.filter((a) => succeeded(a) && a.quarantine);
  if (quarantined.length > 0) {
    const paths = quarantined.flatMap((a) => [a.quarantine!.originalPath, a.quarantine!.quarantinePath]);
    const facts = await check(
      `${quarantined.map((a) => a.quarantine!.originalPath).join(', ')} in quarantine, hash unchanged`,
    ).getFileEnrichment({ paths });
    const fact = (path: string) => facts.results.find((f) => f.path.toLowerCase() === path.toLowerCase());
    for (const action of quarantined) {
      const q = action.quarantine!;
      const original = fact(q.originalPath);
      const copy = fact(q.quarantinePath);
      const intact = Boolean(copy?.exists && copy.sha256?.toLowerCase() === q.sha256Before.toLowerCase());
      action.validated = (action.validated ?? true) && intact && original?.exists === false;
    }
  }

  const logoffs = actions.filter((a) => a.action === 'logoff-user' && succeeded(a));
  const alertUser = ctx.alert.user ?? ctx.alert.child.user;
  if (logoffs.length > 0 && alertUser) {
    // Only the sessions that were logged off are re-checked: another session of the same user (a
    // console session elsewhere) is not one the logoff targeted, and must not mark it unverified.
    const targeted = [...new Set(logoffs.flatMap((a) => (loggedOff.has(a) ? [loggedOff.get(a)!] : [])))];
    const sessions = await check(
      `${targeted.length > 0 ? `session ${targeted.join(', ')}` : 'sessions'} of ${userLabel(normalizeUser(alertUser))} logged off`,
    ).terminateSession({
      incidentId: ctx.incidentId,
      users: [normalizeUser(alertUser)],
      ...(targeted.length > 0 ? { sessionIds: targeted } : {}),
      listOnly: true,
    });
    const remaining = sessions.results.filter(
      (s) => s.sessionId !== null && s.sessionId !== undefined && s.status === 'skipped' && s.reason === 'list-only',
    );
    const still = new Set(remaining.map((s) => s.sessionId));
    for (const action of logoffs) {
      const sessionId = loggedOff.get(action);
      action.validated = sessionId === undefined ? remaining.length === 0 : !still.has(sessionId);
    }
  }

  for (const action of actions) {
    if (succeeded(action) && action.validated === null) action.validated = true;
  }
}

const userLabel = (user: { name: string; domain?: string }) =>
  user.domain ? `${user.domain}\\${user.name}` : user.name;
