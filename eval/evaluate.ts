/**
 * `npm run eval`: the decision engine against the labelled corpus (eval/corpus), decided the way
 * the playbook decides — the alert normalized, an unnamed creator resolved from the host's process
 * list, the host's file facts and the reputation answers put together by `enrichmentFromFacts`, then
 * `decide` — and scored against the analysts' labels: precision and recall per verdict, the
 * confusion matrix, and every unsafe plan step (which must be none).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { isUnknownProcess, type CanonicalAlert } from '../common/alert';
import { DecisionPolicySchema, VERDICTS, type Decision, type PlanStep, type Verdict } from '../common/decision';
import { FileFactsSchema, ProcessInfoSchema, type FileFacts } from '../common/host-contract';
import { ReputationReportSchema } from '../common/incident-status';
import { normalizeAlert } from '../common/normalize';
import { isCriticalProcess, isRemoteWindowsPath } from '../common/windows';
import { decide, enrichmentFromFacts, reputationHashes, resolveCreator } from '../workflows/decision';

export const CORPUS_DIR = join(__dirname, 'corpus', 'cases');
export const FLOORS_FILE = join(__dirname, 'floors.json');

export const CASE_FORMATS = [
  'elastic-alert',
  'ecs-event',
  'sysmon-1',
  'security-4688-v0',
  'security-4688-v1',
  'security-4688-v2',
] as const;

export const CaseSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be kebab-case'),
  label: z.enum(VERDICTS),
  rationale: z.string().min(20),
  sources: z.array(z.string().min(1)).min(1),
  format: z.enum(CASE_FORMATS),
  alert: z.record(z.string(), z.unknown()),
  /** Absent: the host was unreachable, so the decision has only the alert's own facts. */
  hostFacts: z.array(FileFactsSchema).optional(),
  reputation: z.record(z.string(), ReputationReportSchema).optional(),
  creator: ProcessInfoSchema.optional(),
});
export type EvalCase = z.infer<typeof CaseSchema>;

/** Reads and validates every case; a malformed case is an error naming the file, never skipped. */
export function loadCorpus(dir: string = CORPUS_DIR): EvalCase[] {
  const files = readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort();
  return files.map((file) => {
    const parsed = CaseSchema.safeParse(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`${file}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
    }
    if (`${parsed.data.id}.json` !== file)
      throw new Error(`${file}: id ${parsed.data.id} does not match the file name`);
    return parsed.data;
  });
}

export interface CaseResult {
  id: string;
  format: EvalCase['format'];
  label: Verdict;
  verdict: Verdict;
  decision: Decision;
  alert: CanonicalAlert;
  unsafe: string[];
}

/** One case, decided as the playbook would with the facts the case gives. */
export function evaluateCase(c: EvalCase): CaseResult {
  const alert = normalizeAlert(c.alert);
  const policy = DecisionPolicySchema.parse({});
  const resolved = resolveCreator(alert, c.creator ?? null).alert;
  const hostFacts = c.hostFacts ?? [];
  const reputations = new Map(
    reputationHashes(resolved, hostFacts).map((sha256) => [sha256, c.reputation?.[sha256] ?? null] as const),
  );
  const enrichment = enrichmentFromFacts({
    alert: resolved,
    hostFacts,
    hostFactsError: c.hostFacts ? null : `host ${alert.host.hostname} unreachable (no worker picked up the task)`,
    hostReachable: c.hostFacts !== undefined,
    ...(isUnknownProcess(alert.parent) ? { creator: c.creator ?? null } : {}),
    reputations,
    policy,
  });
  const decision = decide({ alert, enrichment, policy });
  return {
    id: c.id,
    format: c.format,
    label: c.label,
    verdict: decision.verdict,
    decision,
    alert: resolved,
    unsafe: unsafeSteps(c, decision, hostFacts),
  };
}

const ACTS = ['terminate-parent', 'terminate-child', 'quarantine-parent', 'quarantine-child'] as const;

/**
 * Plan steps that would harm the host if they ran (the three things SOC teams judge us on): a
 * critical process terminated, a process acted on by PID alone, an OS or Microsoft-signed binary
 * quarantined, a file on a share moved, an unnamed creator acted on, or a pair the analysts call
 * benign remediated without asking anyone (a malicious verdict acts at once).
 */
export function unsafeSteps(c: Pick<EvalCase, 'label'>, decision: Decision, hostFacts: readonly FileFacts[]): string[] {
  const problems: string[] = [];
  const running = decision.plan.filter((step): step is PlanStep => !step.skipped);
  for (const step of running) {
    if (!(ACTS as readonly string[]).includes(step.action)) continue;
    const { target } = step;
    const what = `${step.action} ${target.description}`;
    if (target.pid === undefined || !target.imagePath) problems.push(`${what}: acts on a process it cannot identify`);
    const name = target.imagePath?.split('\\').pop();
    if (isCriticalProcess({ pid: target.pid, name, path: target.imagePath ?? null }))
      problems.push(`${what}: a critical Windows process`);
    if (step.action.startsWith('quarantine')) {
      if (isRemoteWindowsPath(target.imagePath)) problems.push(`${what}: a file on a remote path`);
      const facts = hostFacts.find((f) => f.path.toLowerCase() === target.imagePath?.toLowerCase());
      if (facts?.signature?.status === 'valid' && (facts.signature.isOsBinary || facts.signature.isMicrosoft))
        problems.push(`${what}: an OS or Microsoft-signed binary`);
    }
    if (target.description.includes('<unknown>')) problems.push(`${what}: a creator the event does not name`);
  }
  if (c.label === 'benign' && decision.verdict === 'malicious' && running.length > 0)
    problems.push(`a benign pair judged malicious: its plan would run without an analyst`);
  return problems;
}

export interface VerdictScore {
  precision: number | null;
  recall: number | null;
  support: number;
}

export interface Report {
  cases: CaseResult[];
  /** matrix[label][verdict] = count. */
  matrix: Record<Verdict, Record<Verdict, number>>;
  scores: Record<Verdict, VerdictScore>;
  accuracy: number;
  unsafe: { id: string; problem: string }[];
}

export function evaluate(cases: EvalCase[]): Report {
  const results = cases.map(evaluateCase);
  const matrix = Object.fromEntries(
    VERDICTS.map((label) => [label, Object.fromEntries(VERDICTS.map((verdict) => [verdict, 0]))]),
  ) as Report['matrix'];
  for (const r of results) matrix[r.label][r.verdict] += 1;
  const scores = Object.fromEntries(
    VERDICTS.map((v) => {
      const truePositive = matrix[v][v];
      const predicted = VERDICTS.reduce((sum, label) => sum + matrix[label][v], 0);
      const support = VERDICTS.reduce((sum, verdict) => sum + matrix[v][verdict], 0);
      return [
        v,
        {
          precision: predicted === 0 ? null : truePositive / predicted,
          recall: support === 0 ? null : truePositive / support,
          support,
        },
      ];
    }),
  ) as Report['scores'];
  const correct = results.filter((r) => r.label === r.verdict).length;
  return {
    cases: results,
    matrix,
    scores,
    accuracy: results.length === 0 ? 0 : correct / results.length,
    unsafe: results.flatMap((r) => r.unsafe.map((problem) => ({ id: r.id, problem }))),
  };
}

export const FloorsSchema = z.strictObject({
  minimumCases: z.number().int().min(1),
  benignPrecision: z.number().min(0).max(1),
  maliciousRecall: z.number().min(0).max(1),
  maliciousPrecision: z.number().min(0).max(1),
  benignRecall: z.number().min(0).max(1),
  accuracy: z.number().min(0).max(1),
  unsafeSteps: z.literal(0),
});
export type Floors = z.infer<typeof FloorsSchema>;

export function loadFloors(file: string = FLOORS_FILE): Floors {
  return FloorsSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/** Each floor the report falls below, as a sentence; empty when all are met. */
export function belowFloors(report: Report, floors: Floors): string[] {
  const failures: string[] = [];
  const check = (what: string, value: number | null, floor: number) => {
    if (value === null || value < floor)
      failures.push(`${what} ${value === null ? 'undefined' : value.toFixed(3)} is below the floor ${floor}`);
  };
  if (report.cases.length < floors.minimumCases)
    failures.push(`${report.cases.length} cases, fewer than the floor of ${floors.minimumCases}`);
  check('benign precision', report.scores.benign.precision, floors.benignPrecision);
  check('malicious recall', report.scores.malicious.recall, floors.maliciousRecall);
  check('malicious precision', report.scores.malicious.precision, floors.maliciousPrecision);
  check('benign recall', report.scores.benign.recall, floors.benignRecall);
  check('accuracy', report.accuracy, floors.accuracy);
  if (report.unsafe.length > floors.unsafeSteps)
    failures.push(`${report.unsafe.length} unsafe plan step(s); none is allowed`);
  return failures;
}

const pct = (value: number | null) => (value === null ? '  n/a' : value.toFixed(3));

/** The report as text: scores, the confusion matrix, every disagreement and every unsafe step. */
export function formatReport(report: Report, floors?: Floors): string {
  const lines: string[] = [];
  const byFormat = new Map<string, number>();
  for (const r of report.cases) byFormat.set(r.format, (byFormat.get(r.format) ?? 0) + 1);
  lines.push(
    `spawnguard eval: ${report.cases.length} labelled alerts (${[...byFormat].map(([f, n]) => `${f} ${n}`).join(', ')})`,
    '',
    'verdict      precision  recall  support',
  );
  for (const v of VERDICTS) {
    const s = report.scores[v];
    lines.push(
      `${v.padEnd(12)} ${pct(s.precision).padStart(9)}  ${pct(s.recall).padStart(6)}  ${String(s.support).padStart(7)}`,
    );
  }
  lines.push(
    `accuracy     ${report.accuracy.toFixed(3)}`,
    '',
    'confusion matrix (rows: analyst label, columns: engine verdict)',
  );
  lines.push(`${''.padEnd(12)}${VERDICTS.map((v) => v.padStart(12)).join('')}`);
  for (const label of VERDICTS)
    lines.push(`${label.padEnd(12)}${VERDICTS.map((v) => String(report.matrix[label][v]).padStart(12)).join('')}`);

  const disagreements = report.cases.filter((r) => r.label !== r.verdict);
  lines.push('', `disagreements (${disagreements.length})`);
  for (const r of disagreements) {
    const reasons = r.decision.reasons
      .filter((reason) => reason.weight !== 0)
      .map((reason) => `${reason.code} ${reason.weight > 0 ? '+' : ''}${reason.weight}`)
      .join(', ');
    lines.push(
      `  ${r.id}: analyst ${r.label}, engine ${r.verdict} (score ${r.decision.score}: ${reasons || 'no weighted reason'})`,
    );
  }
  lines.push('', `unsafe plan steps (${report.unsafe.length})`);
  for (const u of report.unsafe) lines.push(`  ${u.id}: ${u.problem}`);
  if (floors) {
    const failures = belowFloors(report, floors);
    lines.push(
      '',
      failures.length === 0 ? 'floors: all met' : `floors: NOT MET\n${failures.map((f) => `  ${f}`).join('\n')}`,
    );
  }
  return lines.join('\n');
}
