/** Realistic alerts, host facts and reputation reports for the decision tables. */
import type { AlertProcess, AlertUser, CanonicalAlert, Signature } from '../../common/alert';
import { DecisionPolicySchema, type DecisionPolicy } from '../../common/decision';
import type { FileFacts } from '../../common/host-contract';
import type { EnrichmentResult, ReputationReport, ReputationResult } from '../../common/incident-status';
import { buildFileEnrichment } from '../../workflows/decision';

export const MS_WINDOWS = 'Microsoft Windows';
export const MS_CORPORATION = 'Microsoft Corporation';
export const SYS32 = 'C:\\Windows\\System32';
export const WORD = 'C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE';
export const EXCEL = 'C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE';
export const OUTLOOK = 'C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE';
export const POWERSHELL = `${SYS32}\\WindowsPowerShell\\v1.0\\powershell.exe`;
export const EXPLORER = 'C:\\Windows\\explorer.exe';
export const STARTED = '2024-05-01T10:11:12.351Z';

export const BOB: AlertUser = { name: 'bob', domain: 'CONTOSO' };
export const SYSTEM: AlertUser = { name: 'SYSTEM', domain: 'NT AUTHORITY' };

/** A stable, distinct SHA-256 per PID, so each file can have its own reputation. */
export function hashOf(pid: number): string {
  return pid.toString(16).padStart(64, '0');
}

type Signed = 'unsigned' | 'invalid' | string;

/** A process from its image path; `signed` is a signer name (valid), `unsigned` or `invalid`. */
export function proc(
  pid: number,
  executable: string,
  signed?: Signed,
  extra: Partial<AlertProcess> = {},
): AlertProcess {
  const name = executable.split('\\').pop() as string;
  const signature: Signature | undefined =
    signed === undefined
      ? undefined
      : signed === 'unsigned' || signed === 'invalid'
        ? { status: signed }
        : { status: 'valid', signer: signed };
  return {
    pid,
    name,
    executable,
    startTime: STARTED,
    hashes: { sha256: hashOf(pid) },
    ...(signature ? { signature } : {}),
    ...extra,
  };
}

export function alertOf(parent: AlertProcess, child: AlertProcess, user: AlertUser | null = BOB): CanonicalAlert {
  return {
    alertId: `alert-${parent.pid}-${child.pid}`,
    source: 'canonical',
    detectedAt: STARTED,
    host: { hostname: 'WEB01.contoso.local' },
    ...(user ? { user } : {}),
    parent,
    child,
  };
}

// ---- reputation ----

/** A reputation answer: results from sources that answered, `off` (nothing configured) or null (lookup failed). */
export type Reputation = ReputationResult[] | 'off' | null;

export const vt = (malicious: number, suspicious = 0, total = 72, label: string | null = null): ReputationResult => ({
  source: 'virustotal',
  status: 'known',
  malicious,
  suspicious,
  total,
  label,
});
export const vtClean = vt(0);
export const vtNotFound: ReputationResult = {
  source: 'virustotal',
  status: 'unknown',
  malicious: 0,
  suspicious: 0,
  total: 0,
};
export const denylisted: ReputationResult = {
  source: 'denylist',
  status: 'known',
  malicious: 1,
  suspicious: 0,
  total: 1,
  label: 'on the local deny list',
};
export const allowlisted: ReputationResult = {
  source: 'allowlist',
  status: 'known',
  malicious: 0,
  suspicious: 0,
  total: 1,
  label: 'on the local allow list',
};
export const inMalwareBazaar: ReputationResult = {
  source: 'malwarebazaar',
  status: 'known',
  malicious: 1,
  suspicious: 0,
  total: 1,
  label: 'AgentTesla',
};

export function reportFor(sha256: string, reputation: Reputation): ReputationReport | null {
  if (reputation === null) return null;
  if (reputation === 'off') {
    return {
      sha256,
      results: [],
      consulted: [],
      notConsulted: [{ source: 'virustotal', reason: 'VT_API_KEY is not set' }],
    };
  }
  return { sha256, results: reputation, consulted: [...new Set(reputation.map((r) => r.source))], notConsulted: [] };
}

export function policyOf(overrides: Partial<DecisionPolicy> = {}): DecisionPolicy {
  return DecisionPolicySchema.parse(overrides);
}

export interface EnrichmentSpec {
  parentReputation?: Reputation;
  childReputation?: Reputation;
  parentHostFacts?: FileFacts | null;
  childHostFacts?: FileFacts | null;
  policy?: DecisionPolicy;
}

/** The enrichment the child workflow would return, built with the real `buildFileEnrichment`. */
export function enrich(alert: CanonicalAlert, spec: EnrichmentSpec = {}): EnrichmentResult {
  const policy = spec.policy ?? policyOf();
  const file = (
    role: 'parent' | 'child',
    reputation: Reputation | undefined,
    hostFacts: FileFacts | null | undefined,
  ) => {
    const process = alert[role];
    const sha256 = process.hashes?.sha256 ?? hostFacts?.sha256 ?? null;
    return buildFileEnrichment({
      role,
      process,
      hostFacts: hostFacts ?? null,
      hostFactsError: null,
      reputation: sha256 ? reportFor(sha256, reputation === undefined ? 'off' : reputation) : null,
      policy,
    });
  };
  return {
    parent: file('parent', spec.parentReputation, spec.parentHostFacts),
    child: file('child', spec.childReputation, spec.childHostFacts),
    hostReachable: true,
  };
}
