/**
 * The decision engine (DESIGN.md §1 step 2, §6): pure, deterministic and explainable, so the
 * playbook can call it inside workflow code and `spawnguard explain` can run it with no Temporal.
 *
 *   reasons  = what the pair does (relationship, command line, user) + what each file is
 *              (identity, signature, location, reputation) + exculpatory evidence
 *   score    = the sum of the reasons' weights, 0–100 (weights in ./reasons)
 *   verdict  = by SCORE_BANDS; but benign needs both files vouched for — by a known-good
 *              reputation (clean VirusTotal report or the allow list), or, without reputation, by
 *              the host: both verified there as validly signed OS binaries where they belong, in an
 *              expected parent-child relationship — and no indicator at all; short of that it is
 *              suspicious with low confidence, so an analyst looks
 *   plan     = what remediation would run, or an approval would (empty for benign)
 */
import type { CanonicalAlert } from '../../common/alert';
import type { Decision, DecisionPolicy, PlanStep, Reason } from '../../common/decision';
import { d3fendFor } from '../../common/frameworks';
import type { EnrichmentResult, FileEnrichment, RelatedIncident } from '../../common/incident-status';
import { SYSTEM_PROCESS_ID } from '../../common/process-identity';
import { ancestryFindings } from './ancestry';
import { behaviourFindings } from './behaviours';
import { resolveCreator } from './creator';
import { buildFileEnrichment, fileFindings, processLabel, signatureOrigin, trustedSigner } from './file-facts';
import { remediationPlan } from './plan';
import {
  REASON_WEIGHTS,
  BAD_REPUTATION,
  CONCLUSIVE_REPUTATION,
  FILE_IDENTITY,
  finding,
  NOT_CONCLUSIVELY_BENIGN,
  LEGACY_WEIGHTS,
  type Finding,
  type ReasonCode,
  type Role,
  withAttack,
} from './reasons';
import { relationshipFindings } from './relationship';
import { EXPECTED_PARENTS, windowsRootedPath } from '../../common/windows';
import { isExpectedLocation, isSystemLocation, LIVING_OFF_THE_LAND, SCORE_BANDS, userWritableSegment } from './rules';
import { matchName, nameStem } from '../../common/windows';

export { BEHAVIOURS } from './reasons';
export { processTreeFor } from './ancestry';
export { creatorUnknown, resolveCreator } from './creator';
export { buildFileEnrichment, hashForReputation, hostFactsFor } from './file-facts';
export { enrichmentFromFacts, reputationHashes } from './facts';
export type { EnrichmentFacts } from './facts';
export type { FileEnrichmentInput } from './file-facts';
export { REASON_WEIGHTS } from './reasons';

export interface DecideInput {
  alert: CanonicalAlert;
  /** null when enrichment did not run: the alert's own facts are used, with no reputation. */
  enrichment: EnrichmentResult | null;
  policy: DecisionPolicy;
  /** See PlanInput.blockRemoteImages: true unless replaying a history recorded before the rule. */
  blockRemoteImages?: boolean;
  /** See PlanInput.actOnUnverifiedUserFolderParent: true unless replaying a history recorded before the rule. */
  actOnUnverifiedUserFolderParent?: boolean;
  /**
   * Behavioural indicators, benign verified on the host without reputation, and creators the event
   * does not name: true unless replaying a history whose decision was made in workflow code before
   * them (newer histories record the decision itself, see workflows/playbook.ts).
   */
  behaviours?: boolean;
  /** Other incidents on the same host or for the same user (the playbook gathers them): a repeat offender. */
  related?: readonly RelatedIncident[];
}

export function decide({
  alert: received,
  enrichment,
  policy,
  blockRemoteImages = true,
  actOnUnverifiedUserFolderParent = true,
  behaviours = true,
  related = [],
}: DecideInput): Decision {
  // A creator the event names only by PID is what the host's process list says it was, or unknown.
  const creator = behaviours ? resolveCreator(received, enrichment?.creator) : null;
  const alert = creator?.alert ?? received;
  const files: Record<Role, FileEnrichment> = {
    parent: enrichment?.parent ?? alertOnly('parent', alert, policy),
    child: enrichment?.child ?? alertOnly('child', alert, policy),
  };

  // Histories decided in workflow code before these rules replay the rules of their time.
  const legacy = !behaviours;
  const gathered = answeredByAllowlist(
    [
      ...relationshipFindings(alert, { decodeCommands: !legacy }),
      ...(behaviours ? behaviourFindings(alert, files) : []),
      ...(behaviours ? ancestryFindings(alert, enrichment?.processTree) : []),
      ...(creator?.finding ? [creator.finding] : []),
      ...fileFindings('child', alert.child, files.child, policy, { legacy }),
      ...fileFindings('parent', alert.parent, files.parent, policy, { legacy }),
      ...signatureCredits(alert, files, policy, legacy),
    ].map((f) =>
      legacy && LEGACY_WEIGHTS[f.code as ReasonCode] !== undefined
        ? { ...f, weight: LEGACY_WEIGHTS[f.code as ReasonCode] as number }
        : f,
    ),
  );
  if (behaviours) gathered.push(...hostVerifiedPair(alert, files, gathered));
  gathered.push(...repeatOffender(alert, related, gathered));
  const implicated = gathered.filter((f) => f.weight > 0);
  // Benign is earned, never assumed: both files vouched for (by reputation, or verified on the
  // host), and nothing pointing at either.
  const unvouched = (['child', 'parent'] as const).filter((role) => !vouched(gathered, role));
  const benignEstablished = implicated.length === 0 && unvouched.length === 0;
  const findings = benignEstablished ? gathered : withoutCredit(gathered, implicated.length > 0);

  const raw = findings.reduce((sum, f) => sum + f.weight, 0);
  let score = clampScore(raw);
  let verdict: Decision['verdict'] =
    score >= SCORE_BANDS.malicious ? 'malicious' : score >= SCORE_BANDS.suspicious ? 'suspicious' : 'benign';

  const forced = verdict === 'benign' && !benignEstablished;
  if (forced) {
    verdict = 'suspicious';
    const why =
      implicated.length > 0
        ? `${unique(implicated.map((f) => f.code)).join(', ')} ${implicated.length > 1 ? 'are' : 'is'} too weak for a verdict and not cleared by other evidence`
        : `no known-good reputation for ${unvouched.map((role) => processLabel(alert[role])).join(' and ')}: missing reputation never clears an alert`;
    findings.push({
      code: NOT_CONCLUSIVELY_BENIGN,
      weight: Math.max(-100, Math.min(100, SCORE_BANDS.suspicious - raw)),
      evidence: `${why}; an analyst decides`,
      roles: [],
    });
    score = SCORE_BANDS.suspicious;
  }

  return {
    verdict,
    score,
    confidence: confidenceOf(verdict, score, findings, unvouched.length > 0, forced),
    reasons: publish(findings),
    plan:
      verdict === 'benign'
        ? []
        : withD3fend(
            remediationPlan({
              alert,
              files,
              findings: implicated,
              policy,
              blockRemoteImages,
              actOnUnverifiedUserFolderParent,
            }),
          ),
  };
}

/** Each step with the D3FEND technique it is. */
function withD3fend(plan: PlanStep[]): PlanStep[] {
  return plan.map((step) => {
    const technique = d3fendFor(step.action);
    return technique ? { ...step, d3fend: technique } : step;
  });
}

/**
 * The same host or user was in a malicious incident (or in two suspicious ones) within the window,
 * not rejected as a false positive nor undone by a restore:
 * a pair that something already points at weighs more. It never implicates a pair on its own — a
 * compromised host's ordinary OS activity stays with the other rules.
 */
function repeatOffender(alert: CanonicalAlert, related: readonly RelatedIncident[], findings: Finding[]): Finding[] {
  if (related.length === 0 || !findings.some((f) => f.weight > 0)) return [];
  // An incident an analyst called a false positive, or undid afterwards, is no offence.
  const standing = related.filter((r) => r.outcome !== 'closed-false-positive' && r.restored !== true);
  const malicious = standing.filter((r) => r.verdict === 'malicious');
  const suspicious = standing.filter((r) => r.verdict === 'suspicious');
  if (malicious.length === 0 && suspicious.length < 2) return [];
  const counted = [...malicious, ...suspicious];
  const by = (kind: 'host' | 'user') => counted.filter((r) => r.matchedBy.includes(kind)).length;
  const user = alert.user ?? alert.child.user;
  const where = [
    by('host') > 0 ? `${by('host')} on ${alert.host.hostname}` : null,
    by('user') > 0 && user ? `${by('user')} for ${user.domain ? `${user.domain}\\` : ''}${user.name}` : null,
  ]
    .filter(Boolean)
    .join(', ');
  const listed = counted
    .slice(0, 5)
    .map((r) => `${r.workflowId} (${r.verdict}${r.outcome ? `, ${r.outcome}` : ''})`)
    .join('; ');
  return [
    finding(
      'repeat-offender',
      [],
      `${malicious.length} malicious and ${suspicious.length} suspicious incident(s) in the window (${where}): ${listed}${counted.length > 5 ? '; …' : ''}`,
    ),
  ];
}

/** The alert's own facts about a file, when enrichment is not available. */
function alertOnly(role: Role, alert: CanonicalAlert, policy: DecisionPolicy): FileEnrichment {
  return buildFileEnrichment({
    role,
    process: alert[role],
    hostFacts: null,
    hostFactsError: 'file enrichment did not run',
    reputation: null,
    policy,
  });
}

/** Credit for a valid Microsoft or trusted-publisher signature on a file that is where it belongs. */
function signatureCredits(
  alert: CanonicalAlert,
  files: Record<Role, FileEnrichment>,
  policy: DecisionPolicy,
  legacy: boolean,
): Finding[] {
  return (['child', 'parent'] as const).flatMap((role) => {
    const signer = trustedSigner(files[role], policy);
    if (!signer || files[role].expectedLocation === false) return [];
    // A signature the host verified outweighs one the alert only claims.
    const weight =
      files[role].signatureFrom === 'alert' && !legacy
        ? Math.round(REASON_WEIGHTS['trusted-signature'] / 2)
        : undefined;
    return [
      finding(
        'trusted-signature',
        [role],
        `${processLabel(alert[role])} is validly signed by ${signer}${signatureOrigin(files[role])}`,
        weight,
      ),
    ];
  });
}

/**
 * Benign without reputation (DESIGN.md §6): both files verified on the host as validly signed OS
 * binaries at their expected locations, in an expected parent-child relationship, with nothing
 * pointing at the pair. The alert's own claims about signatures never earn this. A child of the
 * System process (PID 4, the kernel's, with no file) counts its parent as verified.
 */
function hostVerifiedPair(alert: CanonicalAlert, files: Record<Role, FileEnrichment>, findings: Finding[]): Finding[] {
  if (findings.some((f) => f.weight > 0)) return [];
  if (!expectedRelationship(alert, findings)) return [];
  const verified = (role: Role) => {
    const file = files[role];
    const path = file.path ?? alert[role].executable;
    return (
      file.signatureFrom === 'host' &&
      file.signature?.status === 'valid' &&
      file.isMicrosoftSigned === true &&
      file.isOsBinary === true &&
      path !== undefined &&
      path !== null &&
      isExpectedLocation(nameStem(alert[role].name), path) !== false &&
      (isSystemLocation(path) || inWindowsFolder(path))
    );
  };
  const kernelParent = alert.parent.pid === SYSTEM_PROCESS_ID && nameStem(alert.parent.name) === 'system';
  if (!verified('child') || !(kernelParent || verified('parent'))) return [];
  const where = (role: Role) => `${processLabel(alert[role])} at ${files[role].path ?? alert[role].executable}`;
  const parentFacts = kernelParent ? `${processLabel(alert.parent)} is the kernel's own process` : where('parent');
  return [
    finding(
      'host-verified-os-pair',
      ['parent', 'child'],
      `verified on the host: ${where('child')} and ${parentFacts}; validly Microsoft-signed OS binaries where they belong, in an expected relationship, with no indicator: benign without reputation`,
    ),
  ];
}

/**
 * The allow list is the operator's word about one exact file: it answers what the file is
 * (unsigned, where it lives, its name), never what the pair did nor a bad reputation.
 */
function answeredByAllowlist(findings: Finding[]): Finding[] {
  const allowlisted = (role: Role) =>
    findings.some((f) => f.code === 'allowlisted' && f.weight < 0 && f.roles.includes(role));
  return findings.map((f) =>
    f.weight > 0 && FILE_IDENTITY.includes(f.code) && f.roles.every(allowlisted)
      ? { ...f, weight: 0, evidence: `${f.evidence} (answered by the allow list)` }
      : f,
  );
}

/**
 * Exculpatory evidence explains a benign verdict; it does not bargain with indicators. A genuine
 * signature or a clean hash says a file is what it claims, not that it was used innocently
 * (PowerShell started by Word is Microsoft-signed and clean), and a genuine explorer.exe does not
 * make the malware it started less malicious. Unless benign is established, credit stays in the
 * reasons with weight 0; the allow list, the operator's own word, always counts.
 */
function withoutCredit(findings: Finding[], pointedAt: boolean): Finding[] {
  const why = pointedAt ? 'other reasons point at this pair' : 'benign is not established';
  return findings.map((f) =>
    f.weight >= 0 || f.code === 'allowlisted' ? f : { ...f, weight: 0, evidence: `${f.evidence} (no credit: ${why})` },
  );
}

/**
 * An expected parent-child relationship: one the table of system processes' parents names, or a
 * launcher (the shell, the service manager, a service host) starting an OS program that is neither a
 * system process (the table rules those) nor a shell or LOLBin (whose use is never vouched for).
 */
function expectedRelationship(alert: CanonicalAlert, findings: Finding[]): boolean {
  if (findings.some((f) => f.code === 'expected-parent')) return true;
  const childStem = nameStem(alert.child.name);
  return (
    !Object.hasOwn(EXPECTED_PARENTS, childStem) &&
    matchName(alert.parent.name, LAUNCHERS)?.exact === true &&
    matchName(alert.child.name, LIVING_OFF_THE_LAND) === null
  );
}

const LAUNCHERS = ['explorer', 'services', 'svchost'] as const;

/** Under C:\Windows (any drive) but not in one of its user-writable folders (Temp, Tasks, Tracing). */
function inWindowsFolder(path: string): boolean {
  return /^[a-z]:\\windows\\/.test(windowsRootedPath(path)) && userWritableSegment(path) === null;
}

/** Positive evidence about a file: a clean VirusTotal report, the allow list, or the host's verification. */
function vouched(findings: Finding[], role: Role): boolean {
  return findings.some(
    (f) =>
      f.roles.includes(role) &&
      (f.code === 'reputation-clean' ||
        f.code === 'host-verified-os-pair' ||
        (f.code === 'allowlisted' && f.weight < 0)),
  );
}

function confidenceOf(
  verdict: Decision['verdict'],
  score: number,
  findings: Finding[],
  reputationMissing: boolean,
  forced: boolean,
): Decision['confidence'] {
  if (forced) return 'low';
  if (verdict === 'benign') return 'high';
  const conclusive = findings.some((f) => f.weight > 0 && CONCLUSIVE_REPUTATION.includes(f.code));
  // The operator's allow list against the reputation sources' word on the same file.
  const contradicted = findings.some(
    (allowed) =>
      allowed.code === 'allowlisted' &&
      allowed.weight < 0 &&
      findings.some(
        (f) => f.weight > 0 && BAD_REPUTATION.includes(f.code) && f.roles.some((r) => allowed.roles.includes(r)),
      ),
  );
  if (verdict === 'malicious') {
    if (conclusive && !contradicted) return 'high';
    return score >= 85 && !reputationMissing ? 'high' : 'medium';
  }
  return reputationMissing || contradicted ? 'low' : 'medium';
}

function clampScore(raw: number): number {
  return Math.max(0, Math.min(100, Math.round(raw)));
}

/** Strongest evidence first; the internal side markers are dropped. */
function publish(findings: Finding[]): Reason[] {
  return findings
    .map((f, index) => ({ f, index }))
    .sort((a, b) => b.f.weight - a.f.weight || a.index - b.index)
    .map(({ f }) => withAttack({ code: f.code, weight: f.weight, evidence: f.evidence }));
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
