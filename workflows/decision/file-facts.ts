/**
 * Per-file facts and findings: what the alert, the host and the reputation sources say about the
 * parent's or the child's image file. `buildFileEnrichment` merges the facts (the alert's own
 * hashes and signature are used, not fetched again) and rates the file; `fileFindings` turns one
 * file's facts into reasons, for the enrichment's risk and for `decide`. Workflow-safe.
 */
import type { AlertProcess } from '../../common/alert';
import type { DecisionPolicy } from '../../common/decision';
import type { FileFacts } from '../../common/host-contract';
import type { FileEnrichment, ReputationReport, ReputationResult } from '../../common/incident-status';
import { isMicrosoftSigner, isTrustedPublisher } from '../../common/windows';
import { DUAL_USE_TOOLS, IMITATED_NAMES, isExpectedLocation, isSystemLocation, userWritableSegment } from './rules';
import { lookAlikeSkeleton, matchName, nameStem, unusualCharacters } from '../../common/windows';
import { finding, type Finding, type Role } from './reasons';

export interface FileEnrichmentInput {
  role: Role;
  process: AlertProcess;
  hostFacts: FileFacts | null;
  hostFactsError: string | null;
  reputation: ReputationReport | null;
  policy: DecisionPolicy;
}

/** `powershell.exe (PID 6120)`: how evidence names a process. */
export function processLabel(process: AlertProcess): string {
  return `${process.name} (PID ${process.pid})`;
}

/**
 * The host's facts about a process's image, matched by path (case-insensitive, as Windows compares
 * them): what the enrichment workflow does with GetFileEnrichment's results, and `spawnguard explain
 * --facts` with the same results read from a file.
 */
export function hostFactsFor(hostFacts: readonly FileFacts[], process: AlertProcess): FileFacts | null {
  const path = process.executable?.toLowerCase();
  return (path && hostFacts.find((f) => f.path.toLowerCase() === path)) || null;
}

/** The SHA-256 reputation is looked up for: the alert's, else the one the host computed. */
export function hashForReputation(hostFacts: readonly FileFacts[], process: AlertProcess): string | null {
  return process.hashes?.sha256 ?? hostFactsFor(hostFacts, process)?.sha256 ?? null;
}

export function buildFileEnrichment(input: FileEnrichmentInput): FileEnrichment {
  const { role, process, hostFacts, hostFactsError, reputation, policy } = input;
  const facts = hostFacts && hostFacts.exists ? hostFacts : null;
  const path = process.executable ?? hostFacts?.path ?? null;
  const sha256 = process.hashes?.sha256 ?? facts?.sha256?.toLowerCase() ?? null;

  // The host verifies the signature of the file as it is now; the alert says what the sensor saw.
  // The host's answer wins unless it could not tell.
  const hostSignature = facts?.signature && facts.signature.status !== 'unknown' ? facts.signature : null;
  const alertSignature = process.signature;
  const signature = hostSignature
    ? { status: hostSignature.status, signer: hostSignature.signer ?? null }
    : alertSignature
      ? { status: alertSignature.status, signer: alertSignature.signer ?? null }
      : null;
  const known = signature !== null && signature.status !== 'unknown';
  const isMicrosoftSigned = known
    ? signature.status === 'valid' && (hostSignature?.isMicrosoft === true || isMicrosoftSigner(signature.signer))
    : null;
  const stem = nameStem(process.name);
  const isOsBinary =
    hostSignature?.isOsBinary ??
    (isMicrosoftSigned === null || !path ? null : isMicrosoftSigned && isSystemLocation(path));
  // Our own table decides where a system binary belongs (one definition); the host's word is the fallback.
  const expectedLocation = path ? isExpectedLocation(stem, path) : (facts?.expectedLocation ?? null);

  const factsFrom: FileEnrichment['factsFrom'] = [];
  if (process.executable || process.hashes || process.signature || process.originalFileName) factsFrom.push('alert');
  if (hostFacts) factsFrom.push('host');
  if (reputation && reputation.consulted.length > 0) factsFrom.push('reputation');

  const enrichment: FileEnrichment = {
    role,
    path,
    sha256,
    factsFrom,
    signature,
    signatureFrom: hostSignature ? 'host' : alertSignature ? 'alert' : null,
    isMicrosoftSigned,
    isOsBinary,
    expectedLocation,
    originalFileName: process.originalFileName ?? facts?.versionInfo?.originalFilename ?? null,
    reputation,
    hostFactsError,
    risk: 'low',
    evidence: [],
  };

  const findings = fileFindings(role, process, enrichment, policy);
  const worst = Math.max(0, ...findings.map((f) => f.weight));
  const unrated = findings.some((f) => f.code === 'no-reputation');
  enrichment.risk = worst >= 50 ? 'high' : worst > 0 || unrated ? 'medium' : 'low';
  enrichment.evidence = [
    ...findings.map((f) => f.evidence),
    ...signatureFacts(enrichment),
    ...(hostFacts && !hostFacts.exists ? [`${path ?? process.name} no longer exists on the host`] : []),
    ...(hostFactsError ? [`host facts unavailable: ${hostFactsError}`] : []),
  ];
  return enrichment;
}

function signatureFacts(file: FileEnrichment): string[] {
  const signature = file.signature;
  if (!signature) return ['signature not known'];
  const from = signatureOrigin(file);
  if (signature.status === 'valid') return [`signed by ${signature.signer ?? 'an unnamed publisher'} (valid${from})`];
  return [`signature ${signature.status}${signature.signer ? ` (${signature.signer})` : ''}${from}`];
}

/**
 * Where a file's signature fact comes from, for evidence: verified on the host outweighs the
 * alert's claim (an EDR's `code_signature`), which outweighs nothing.
 */
export function signatureOrigin(file: Pick<FileEnrichment, 'signatureFrom'>): string {
  if (file.signatureFrom === 'host') return ', verified on the host';
  if (file.signatureFrom === 'alert') return ', as the alert claims; not verified on the host';
  return '';
}

/** How one file looks on its own: identity, signature, location and reputation. */
export function fileFindings(
  role: Role,
  process: AlertProcess,
  file: FileEnrichment,
  policy: DecisionPolicy,
  { legacy = false }: { legacy?: boolean } = {},
): Finding[] {
  const label = processLabel(process);
  const findings: Finding[] = [];
  const stem = nameStem(process.name);
  const path = file.path;

  const imitation = matchName(process.name, IMITATED_NAMES);
  if (imitation && !imitation.exact) {
    const odd = unusualCharacters(process.name);
    findings.push(
      finding(
        'look-alike-name',
        [role],
        `${label} imitates ${imitation.known}.exe: ${odd.length > 0 ? odd.join(', ') : 'look-alike characters'} (T1036.005 masquerading)`,
      ),
    );
  }

  if (path && file.expectedLocation === false) {
    findings.push(
      finding(
        'system-name-wrong-location',
        [role],
        `${label} runs from ${path}, outside C:\\Windows\\System32, SysWOW64 and WinSxS (T1036 "System File Execution Location Anomaly")`,
      ),
    );
  }

  const original = file.originalFileName ? nameStem(file.originalFileName) : null;
  if (original && original !== stem && lookAlikeSkeleton(original) !== lookAlikeSkeleton(stem)) {
    // The rules of older histories knew renamed system binaries only, not renamed dual-use tools.
    const renamedFrom = matchName(original, legacy ? IMITATED_NAMES : [...IMITATED_NAMES, ...DUAL_USE_TOOLS]);
    if (renamedFrom?.exact) {
      findings.push(
        finding(
          'renamed-binary',
          [role],
          `${label} is ${file.originalFileName} renamed (original file name in its version resource)`,
        ),
      );
    }
  }

  const signature = file.signature;
  const writable = path ? userWritableSegment(path) : null;
  if (signature?.status === 'invalid') {
    findings.push(
      finding(
        'invalid-signature',
        [role],
        `${label} has a signature that does not verify${signature.signer ? ` (claims ${signature.signer})` : ''}${signatureOrigin(file)}`,
      ),
    );
  } else if (signature?.status === 'unsigned') {
    findings.push(
      writable
        ? finding(
            'unsigned-in-user-folder',
            [role],
            `${label} is unsigned and runs from a user-writable folder (${path})${signatureOrigin(file)}`,
          )
        : finding('unsigned', [role], `${label} is unsigned${path ? ` (${path})` : ''}`),
    );
  }

  findings.push(...reputationFindings(role, label, file, policy));
  return findings;
}

/** A file's reputation as reasons. Missing reputation is context (weight 0), never clean. */
function reputationFindings(role: Role, label: string, file: FileEnrichment, policy: DecisionPolicy): Finding[] {
  const report = file.reputation;
  if (!file.sha256)
    return [finding('no-reputation', [role], `no reputation for ${label}: no SHA-256 known for its file`)];
  if (!report)
    return [finding('no-reputation', [role], `no reputation for ${label}: the reputation lookup did not answer`)];
  if (report.consulted.length === 0) {
    const off = report.notConsulted.map((n) => `${n.source} (${n.reason})`).join(', ');
    return [
      finding(
        'no-reputation',
        [role],
        `no reputation for ${label}: no source is configured${off ? `; off: ${off}` : ''}`,
      ),
    ];
  }
  const result = (source: ReputationResult['source']) =>
    report.results.find((r) => r.source === source && r.status === 'known');
  const findings: Finding[] = [];
  const denied = result('denylist');
  const bazaar = result('malwarebazaar');
  // A file VirusTotal holds but has not analysed yet says nothing either way.
  const virusTotal = [result('virustotal')].find((r) => r !== undefined && r.total > 0);
  const allowed = result('allowlist');

  if (denied)
    findings.push(finding('denylisted', [role], `${label} (SHA-256 ${file.sha256}) is on the local deny list`));
  if (bazaar) {
    findings.push(
      finding(
        'malwarebazaar-known',
        [role],
        `MalwareBazaar has ${label} in its malware corpus${bazaar.label ? ` (${bazaar.label})` : ''}`,
      ),
    );
  }
  if (virusTotal) {
    const flagged = virusTotal.malicious + virusTotal.suspicious;
    const counts = `${virusTotal.malicious} malicious, ${virusTotal.suspicious} suspicious of ${virusTotal.total} engines`;
    const named = virusTotal.label ? ` (${virusTotal.label})` : '';
    if (virusTotal.malicious >= policy.maliciousEngineThreshold) {
      findings.push(
        finding(
          'vt-malicious',
          [role],
          `VirusTotal: ${counts} for ${label}${named}; malicious at ${policy.maliciousEngineThreshold}`,
        ),
      );
    } else if (flagged >= policy.suspiciousEngineThreshold) {
      findings.push(
        finding(
          'vt-suspicious',
          [role],
          `VirusTotal: ${counts} for ${label}${named}; suspicious at ${policy.suspiciousEngineThreshold}`,
        ),
      );
    } else {
      findings.push(
        finding(
          'reputation-clean',
          [role],
          `VirusTotal: ${counts} for ${label}${flagged > 0 ? `, below the suspicious threshold of ${policy.suspiciousEngineThreshold}` : ''}`,
        ),
      );
    }
  }
  if (allowed) {
    findings.push(
      denied
        ? finding('allowlisted', [role], `${label} is also on the local allow list; the deny list wins`, 0)
        : finding('allowlisted', [role], `${label} (SHA-256 ${file.sha256}) is on the local allow list`),
    );
  }
  if (findings.length === 0) {
    const asked = report.results
      .filter((r) => r.source === 'virustotal' || r.source === 'malwarebazaar')
      .map((r) => (r.error ? `${r.source}: ${r.error}` : `${r.source}: not found`));
    findings.push(
      finding(
        'no-reputation',
        [role],
        `no reputation for ${label}: ${asked.length > 0 ? asked.join('; ') : 'on neither local list'}`,
      ),
    );
  }
  return findings;
}

/** Signature credit: validly signed by Microsoft or a trusted publisher, and not out of place. */
export function trustedSigner(file: FileEnrichment, policy: DecisionPolicy): string | null {
  const signature = file.signature;
  if (signature?.status !== 'valid') return null;
  if (file.isMicrosoftSigned) return signature.signer ?? 'Microsoft';
  if (!signature.signer) return null;
  return isTrustedPublisher(signature.signer, policy.trustedPublishers) ||
    isTrustedPublisher(commonName(signature.signer), policy.trustedPublishers)
    ? signature.signer
    : null;
}

/** `CN=Contoso Ltd, O=Contoso, C=US` → `Contoso Ltd`; a plain name is returned as is. */
function commonName(subject: string): string {
  const match = /(?:^|,)\s*CN=("?)([^,"]+)\1/i.exec(subject);
  return match?.[2]?.trim() ?? subject;
}
