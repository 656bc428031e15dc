/**
 * `spawnguard explain <file|->` (DESIGN.md §3): what the playbook would decide about an alert, and
 * why, without Temporal and without touching the host. Normalizes the alert, enriches it from its
 * own facts and the configured reputation providers, runs the decision engine and prints JSON.
 */
import { Option, type Command } from 'commander';
import { z } from 'zod';
import { createReputationService, type ReputationService } from '../../activities/enrichment';
import type { CanonicalAlert } from '../../common/alert';
import { ConfigError, loadConfig } from '../../common/config';
import { DecisionPolicySchema, type Decision, type DecisionPolicy } from '../../common/decision';
import {
  FileEnrichmentResultSchema,
  ProcessTreeResultSchema,
  type FileFacts,
  type ProcessInfo,
} from '../../common/host-contract';
import {
  RelatedIncidentSchema,
  type FileEnrichment,
  type ProcessTree,
  type RelatedIncident,
  type ReputationReport,
} from '../../common/incident-status';
import { AlertFormatError, normalizeAlert } from '../../common/normalize';
import { decide, enrichmentFromFacts, reputationHashes, resolveCreator } from '../../workflows/decision';
import { CliError, EXIT } from '../cli-errors';
import { formatTable, readJsonDocument } from '../ingest/cli-support';
import { displayValues } from '../../common/display-text';
import { processTreeLines } from '../../common/process-tree';

/** Alerts are small; anything this large is not one. */

const HELP_AFTER = `
Reads one alert (canonical JSON, Elastic Security alert / ECS process event, Winlogbeat Sysmon
event 1 or Security event 4688) and prints the verdict, score, confidence, reasons and the
remediation plan as JSON. For a suspicious verdict the plan is what an analyst's approval would
run. No Temporal server is contacted and no host is touched.

Reputation sources are the configured ones; a source without its key or list is off, and the
output says which were consulted: VT_API_KEY (VT_API_URL), MALWAREBAZAAR_API_KEY
(MALWAREBAZAAR_API_URL), SPAWNGUARD_ALLOWLIST, SPAWNGUARD_DENYLIST. Signers named in
SPAWNGUARD_TRUSTED_PUBLISHERS are treated like Microsoft (never quarantined).
Missing reputation alone never makes an alert benign; a pair whose both files the host verified
(--facts) as validly signed OS binaries where they belong, in an expected relationship, is benign
without it.

With --facts FILE the host's own facts about the two files are used, exactly as the playbook uses
them: FILE is what the host's enrichment script printed (GetFileEnrichment.ps1: {"results": [...]}
with path, exists, sha256, signature, versionInfo, expectedLocation per file), for example the
result of that activity in the incident's Temporal history. The decision is then the one the
workflow made, given the same reputation answers.

With --process-tree FILE the host's process list is used as the playbook uses it: FILE is
GetProcessTree.ps1's result for the parent and child PIDs (the pair's ancestry and descendants:
a shell started by a shell is judged by its real launcher, Word or a web server) and, for an event
that names the creator only by its PID (Security 4688 from Windows Server 2008 R2 – 2012 R2), for
that PID. The parent is taken when that process started before the child; otherwise (PID reused,
process gone) it stays unknown and is never acted on.

With --related FILE the decision weighs other incidents on the same host or for the same user as
the playbook gathered them (a malicious one in the window raises the score: repeat-offender): FILE
is an incident status's "related" (spawnguard status <id> --json | jq .related).

Examples:
  $ spawnguard explain alert.json
  $ spawnguard explain alert.json --facts host-facts.json
  $ spawnguard explain 4688-v1.json --process-tree creator.json --facts host-facts.json
  $ spawnguard explain - < winlogbeat-sysmon-event.json
  $ VT_API_KEY=... spawnguard explain alert.json | jq '{verdict, score, plan}'

Exit codes: 0 decided (whatever the verdict), 2 unreadable file, invalid JSON, an invalid alert or
configuration (the message names the field), 1 anything else.`;

interface ExplainOptions {
  format: 'json' | 'text';
  related?: string;
  maliciousThreshold?: string;
  suspiciousThreshold?: string;
  facts?: string;
  processTree?: string;
}

export function register(program: Command): void {
  program
    .command('explain')
    .description('decide on an alert offline: verdict, score, reasons and remediation plan as JSON')
    .argument('<file|->', 'alert JSON file, or - to read standard input')
    .option('--malicious-threshold <engines>', 'VirusTotal engines at or above which a file is malicious (default 5)')
    .option(
      '--suspicious-threshold <engines>',
      'engines (malicious + suspicious) at or above which a file is suspicious (default 3)',
    )
    .option(
      '--facts <file>',
      "the host's facts about the files (GetFileEnrichment.ps1's JSON), as the playbook would have them",
    )
    .option(
      '--process-tree <file>',
      "the host's process list for the pair (GetProcessTree.ps1's JSON): ancestry, descendants, and the creator of events that do not name the parent",
    )
    .option(
      '--related <file>',
      "other incidents on the same host or user (an incident status's `related`), as the playbook gathered them",
    )
    .addOption(
      new Option('--format <format>', 'json (for tools, the default) or text (for people)')
        .choices(['json', 'text'])
        .default('json'),
    )
    .addHelpText('after', HELP_AFTER)
    .action(async (source: string, options: ExplainOptions) => {
      const explanation = await explain(source, options);
      if (options.format === 'text') process.stdout.write(`${formatExplanation(explanation)}\n`);
      else process.stdout.write(`${JSON.stringify(explanation, null, 2)}\n`);
    });
}

export interface Explanation {
  alert: CanonicalAlert;
  verdict: Decision['verdict'];
  score: number;
  confidence: Decision['confidence'];
  reasons: Decision['reasons'];
  plan: Decision['plan'];
  files: Record<'parent' | 'child', Pick<FileEnrichment, 'path' | 'sha256' | 'risk' | 'evidence'>>;
  /** The pair's process tree, when --process-tree gave the host's records of it. */
  processTree?: ProcessTree;
  reputation: {
    consulted: string[];
    notConsulted: { source: string; reason: string }[];
    /** What each source said about each hash. */
    lookups: Pick<ReputationReport, 'sha256' | 'results'>[];
  };
}

/** The explanation for a person: the pair, the verdict, each reason and each planned step. */
export function formatExplanation(explained: Explanation): string {
  const { alert, verdict, score, confidence, reasons, plan, files, reputation, processTree } = displayValues(explained);
  const lines = [
    `Pair        ${alert.parent.name} (PID ${alert.parent.pid}) → ${alert.child.name} (PID ${alert.child.pid}) on ${alert.host.hostname}`,
    `Verdict     ${verdict}, score ${score}/100, confidence ${confidence}`,
    `Files       parent ${files.parent.path ?? '?'} (${files.parent.risk}); child ${files.child.path ?? '?'} (${files.child.risk})`,
    `Reputation  consulted ${reputation.consulted.join(', ') || 'none'}${reputation.notConsulted.length ? `; not consulted: ${reputation.notConsulted.map((n) => `${n.source} (${n.reason})`).join(', ')}` : ''}`,
    ...(explained.processTree
      ? ['', 'Process tree', ...processTreeLines(alert, processTree).map((l) => `  ${l}`)]
      : []),
    '',
    'Reasons',
    reasons.length
      ? formatTable(
          ['WEIGHT', 'CODE', 'ATT&CK', 'EVIDENCE'],
          reasons.map((r) => [`${r.weight > 0 ? '+' : ''}${r.weight}`, r.code, r.attack?.join(' ') ?? '', r.evidence]),
        )
      : '  none',
    '',
    verdict === 'suspicious' ? 'Plan (what an analyst’s approval would run)' : 'Plan',
    plan.length
      ? formatTable(
          ['ACTION', 'D3FEND', 'TARGET', 'NOTE'],
          plan.map((p) => [
            p.action,
            p.d3fend ? `${p.d3fend.id} ${p.d3fend.name}` : '',
            p.target.description,
            p.skipped ? `skipped: ${p.skipped}` : '',
          ]),
        )
      : '  no host action',
  ];
  return lines.join('\n');
}

async function explain(source: string, options: ExplainOptions): Promise<Explanation> {
  const label = source === '-' ? 'standard input' : source;
  const alert = toAlert(await readJsonDocument(source, label), label);
  const hostFacts = options.facts === undefined ? null : await readFacts(options.facts);
  const facts = hostFacts ?? [];
  const tree = options.processTree === undefined ? undefined : await readProcessTree(options.processTree);
  const creator = tree === undefined ? undefined : (tree.find((info) => info.pid === alert.parent.pid) ?? null);

  let service: ReputationService;
  let trustedPublishers: string[];
  try {
    const config = loadConfig(process.env);
    trustedPublishers = config.env.SPAWNGUARD_TRUSTED_PUBLISHERS;
    service = createReputationService(config);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
  const policy = policyFrom(options, trustedPublishers);

  // A creator the event names only by PID is what the host's process list says, as in the workflow.
  const resolved = resolveCreator(alert, creator).alert;
  const reports = new Map<string, ReputationReport | null>();
  for (const sha256 of reputationHashes(resolved, facts)) reports.set(sha256, await lookup(service, sha256));
  const enrichment = enrichmentFromFacts({
    alert: resolved,
    hostFacts: facts,
    hostFactsError: null,
    hostReachable: hostFacts !== null,
    ...(creator !== undefined ? { creator } : {}),
    // The pair's ancestry and descendants, when the file has the host's records of them.
    ...(tree ? { processTree: tree } : {}),
    reputations: reports,
    policy,
  });
  const { parent, child } = enrichment;
  const related = options.related === undefined ? [] : await readRelated(options.related);
  const decision = decide({ alert, enrichment, policy, related });

  const fileSummary = ({ path, sha256, risk, evidence }: FileEnrichment) => ({ path, sha256, risk, evidence });
  return {
    alert,
    verdict: decision.verdict,
    score: decision.score,
    confidence: decision.confidence,
    reasons: decision.reasons,
    plan: decision.plan,
    files: { parent: fileSummary(parent), child: fileSummary(child) },
    ...(enrichment.processTree ? { processTree: enrichment.processTree } : {}),
    reputation: {
      consulted: service.enabled.map((provider) => provider.name),
      notConsulted: service.disabled.map(({ name, reason }) => ({ source: name, reason })),
      lookups: [...reports.values()].flatMap((report) =>
        report ? [{ sha256: report.sha256, results: report.results }] : [],
      ),
    },
  };
}

/** The host's file facts: GetFileEnrichment.ps1's result document (its `results`), validated. */
async function readFacts(file: string): Promise<FileFacts[]> {
  return (await readScriptResult(FileEnrichmentResultSchema, `--facts ${file}`, file, 'GetFileEnrichment.ps1')).results;
}

/** Related incidents: a list, or an incident status's `related` (or the whole status), validated. */
async function readRelated(file: string): Promise<RelatedIncident[]> {
  const label = `--related ${file}`;
  const document = await readJsonDocument(file, label);
  const list = z
    .union([
      z.array(RelatedIncidentSchema),
      z.object({ incidents: z.array(RelatedIncidentSchema) }).transform((r) => r.incidents),
      z
        .object({ related: z.object({ incidents: z.array(RelatedIncidentSchema) }) })
        .transform((s) => s.related.incidents),
    ])
    .safeParse(document);
  if (!list.success) {
    throw new CliError(`${label} is not a list of related incidents (an incident status's "related")`, EXIT.usage);
  }
  return list.data;
}

/** GetProcessTree.ps1's records (the creator PID's, or the pair's), validated. */
async function readProcessTree(file: string): Promise<ProcessInfo[]> {
  return (await readScriptResult(ProcessTreeResultSchema, `--process-tree ${file}`, file, 'GetProcessTree.ps1'))
    .results;
}

/** A host script's result document read from a file, validated; the message names the field at fault. */
async function readScriptResult<S extends z.ZodType>(
  schema: S,
  label: string,
  file: string,
  script: string,
): Promise<z.output<S>> {
  const parsed = schema.safeParse(await readJsonDocument(file, label));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError(
      `${label} is not ${script}'s result: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
      EXIT.usage,
    );
  }
  return parsed.data;
}

function toAlert(document: unknown, label: string): CanonicalAlert {
  try {
    return normalizeAlert(document);
  } catch (err) {
    if (err instanceof AlertFormatError)
      throw new CliError(`${label} is not a valid alert: ${err.message}`, EXIT.usage);
    throw err;
  }
}

function policyFrom(options: ExplainOptions, trustedPublishers: string[]): DecisionPolicy {
  const threshold = (flag: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value.trim()))
      throw new CliError(`${flag}: must be a whole number, got ${JSON.stringify(value)}`, EXIT.usage);
    return Number(value);
  };
  const parsed = DecisionPolicySchema.safeParse({
    trustedPublishers,
    maliciousEngineThreshold: threshold('--malicious-threshold', options.maliciousThreshold),
    suspiciousEngineThreshold: threshold('--suspicious-threshold', options.suspiciousThreshold),
  });
  if (!parsed.success) {
    const flags: Record<string, string> = {
      maliciousEngineThreshold: '--malicious-threshold',
      suspiciousEngineThreshold: '--suspicious-threshold',
      trustedPublishers: 'SPAWNGUARD_TRUSTED_PUBLISHERS',
    };
    const issue = parsed.error.issues[0];
    const field = flags[String(issue?.path[0])] ?? String(issue?.path.join('.'));
    throw new CliError(`${field}: ${issue?.message ?? 'invalid'}`, EXIT.usage);
  }
  return parsed.data;
}

/** A failed lookup (bad key, provider outage) is reported and treated as no reputation: never as clean. */
async function lookup(service: ReputationService, sha256: string): Promise<ReputationReport | null> {
  try {
    return await service.lookupReputation({ sha256 });
  } catch (err) {
    process.stderr.write(`spawnguard: reputation lookup for ${sha256} failed: ${(err as Error).message}\n`);
    return null;
  }
}
