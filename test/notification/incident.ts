/** Incident statuses for the email tests: a remediated malicious incident with hostile alert text. */
import { IncidentStatusSchema, type IncidentStatus } from '../../common/incident-status';

/** Markup an attacker can put into a command line, a process name or an analyst comment. */
export const HOSTILE = '<script>alert("pwned")</script><img src=x onerror=alert(1)>';

const CHILD_HASH = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
const PARENT_HASH = '3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b';

export function remediatedIncident(overrides: Partial<IncidentStatus> = {}): IncidentStatus {
  return IncidentStatusSchema.parse({
    workflowId: 'incident-web01-4312-6120',
    alert: {
      alertId: 'alert-0001',
      source: 'sysmon',
      ruleName: `Suspicious Office child ${HOSTILE}`,
      severity: 'high',
      detectedAt: '2026-03-01T10:15:00Z',
      host: { hostname: 'WEB01.contoso.local', ip: ['10.0.0.5'], os: 'Windows Server 2019' },
      user: { name: 'bob', domain: 'CONTOSO' },
      session: { id: 2, remoteIp: '203.0.113.9' },
      parent: {
        pid: 4312,
        name: 'WINWORD.EXE',
        executable: 'C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE',
        hashes: { sha256: PARENT_HASH },
        signature: { status: 'valid', signer: 'Microsoft Corporation' },
      },
      child: {
        pid: 6120,
        name: 'invoice.exe',
        executable: 'C:\\Users\\bob\\AppData\\Local\\Temp\\invoice.exe',
        commandLine: `invoice.exe -c "${HOSTILE}"`,
        hashes: { sha256: CHILD_HASH },
        signature: { status: 'unsigned' },
      },
    },
    phase: 'closed',
    outcome: 'remediated',
    decision: {
      verdict: 'malicious',
      score: 92,
      confidence: 'high',
      reasons: [
        {
          code: 'office-spawned-unsigned-binary',
          weight: 40,
          evidence: 'WINWORD.EXE (PID 4312) started invoice.exe (PID 6120) from a user-writable folder',
        },
        { code: 'vt-malicious', weight: 45, evidence: '48 of 75 VirusTotal engines flag invoice.exe' },
        { code: 'parent-microsoft-signed', weight: -5, evidence: `WINWORD.EXE is signed by Microsoft ${HOSTILE}` },
      ],
      plan: [
        { action: 'terminate-parent', target: { description: 'PID 4312 WINWORD.EXE', pid: 4312 } },
        { action: 'quarantine-child', target: { description: 'PID 6120 invoice.exe', pid: 6120 } },
        { action: 'logoff-user', target: { description: 'CONTOSO\\bob' } },
        { action: 'fetch-persistence', target: { description: 'WEB01' } },
      ],
    },
    enrichment: {
      hostReachable: true,
      parent: {
        role: 'parent',
        path: 'C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE',
        sha256: PARENT_HASH,
        factsFrom: ['alert', 'host'],
        signature: { status: 'valid', signer: 'Microsoft Corporation' },
        isMicrosoftSigned: true,
        isOsBinary: false,
        expectedLocation: true,
        originalFileName: 'WinWord.exe',
        reputation: {
          sha256: PARENT_HASH,
          results: [{ source: 'virustotal', status: 'known', malicious: 0, suspicious: 0, total: 72 }],
          consulted: ['virustotal'],
          notConsulted: [{ source: 'malwarebazaar', reason: 'MALWAREBAZAAR_API_KEY is not set' }],
        },
        hostFactsError: null,
        risk: 'low',
        evidence: [],
      },
      child: {
        role: 'child',
        path: 'C:\\Users\\bob\\AppData\\Local\\Temp\\invoice.exe',
        sha256: CHILD_HASH,
        factsFrom: ['alert', 'host', 'reputation'],
        signature: { status: 'unsigned' },
        isMicrosoftSigned: false,
        isOsBinary: false,
        expectedLocation: null,
        originalFileName: null,
        reputation: {
          sha256: CHILD_HASH,
          results: [
            {
              source: 'virustotal',
              status: 'known',
              malicious: 48,
              suspicious: 2,
              total: 75,
              label: 'trojan.cobaltstrike/beacon',
              link: `https://www.virustotal.com/gui/file/${CHILD_HASH}`,
            },
          ],
          consulted: ['virustotal'],
          notConsulted: [{ source: 'malwarebazaar', reason: 'MALWAREBAZAAR_API_KEY is not set' }],
        },
        hostFactsError: null,
        risk: 'high',
        evidence: ['unsigned, in a user-writable folder'],
      },
    },
    review: {
      status: 'approved',
      requestedAt: '2026-03-01T10:16:00Z',
      deadline: '2026-03-02T10:16:00Z',
      analyst: 'alice',
      comment: `confirmed beacon ${HOSTILE}`,
      decidedAt: '2026-03-01T10:20:00Z',
      via: 'update',
    },
    actions: [
      {
        action: 'terminate-parent',
        target: 'PID 4312 WINWORD.EXE',
        status: 'done',
        message: 'terminated 4312',
        validated: true,
        at: '2026-03-01T10:20:05Z',
      },
      {
        action: 'quarantine-child',
        target: 'PID 6120 C:\\Users\\bob\\AppData\\Local\\Temp\\invoice.exe',
        status: 'done',
        validated: true,
        quarantine: {
          originalPath: 'C:\\Users\\bob\\AppData\\Local\\Temp\\invoice.exe',
          quarantinePath: `C:\\ProgramData\\spawnguard\\quarantine\\${CHILD_HASH}.bin`,
          manifestPath: `C:\\ProgramData\\spawnguard\\quarantine\\${CHILD_HASH}.json`,
          sha256Before: CHILD_HASH,
          sha256After: CHILD_HASH,
          signer: null,
        },
        at: '2026-03-01T10:20:06Z',
      },
      {
        action: 'logoff-user',
        target: 'CONTOSO\\bob',
        status: 'skipped',
        reason: 'no-session',
        at: '2026-03-01T10:20:07Z',
      },
      {
        action: 'fetch-persistence',
        target: 'WEB01',
        status: 'failed',
        reason: 'access-denied',
        message: 'Get-ScheduledTask: Access is denied',
        validated: false,
        at: '2026-03-01T10:20:08Z',
      },
    ],
    persistence: [
      {
        kind: 'service',
        location: 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\Spooler',
        name: 'Spooler',
        imagePath: 'C:\\Windows\\System32\\spoolsv.exe',
        referencesTarget: false,
      },
      {
        kind: 'run-key',
        location: 'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run',
        name: `Updater ${HOSTILE}`,
        command: 'C:\\Users\\bob\\AppData\\Local\\Temp\\invoice.exe /autostart',
        user: 'CONTOSO\\bob',
        referencesTarget: true,
        matchedPath: 'C:\\Users\\bob\\AppData\\Local\\Temp\\invoice.exe',
      },
    ],
    duplicates: [],
    lab: false,
    reportSent: false,
    timestamps: { started: '2026-03-01T10:15:02Z', decided: '2026-03-01T10:16:00Z', closed: null },
    ...overrides,
  });
}

/** A suspicious incident waiting for an analyst. */
export function pendingReviewIncident(overrides: Partial<IncidentStatus> = {}): IncidentStatus {
  const base = remediatedIncident();
  return IncidentStatusSchema.parse({
    ...base,
    phase: 'awaiting-review',
    outcome: null,
    decision: { ...base.decision!, verdict: 'suspicious', score: 55, confidence: 'low' },
    review: {
      status: 'pending',
      requestedAt: '2026-03-01T10:16:00Z',
      deadline: '2026-03-02T10:16:00Z',
      analyst: null,
      comment: null,
      decidedAt: null,
      via: null,
    },
    actions: [],
    persistence: [],
    ...overrides,
  });
}
