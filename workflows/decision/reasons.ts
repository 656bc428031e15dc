/**
 * Every reason the decision engine can give, with its weight: one table, so the score of any alert
 * can be recomputed by hand from its reasons. Positive weights are indicators, negative ones
 * exculpatory evidence, 0 is context that changes confidence but not the score. Workflow-safe.
 */
import type { Reason } from '../../common/decision';
import { attackIds } from '../../common/frameworks';

/**
 * Behavioural indicators (./behaviours): each with its weight, ATT&CK technique and the public
 * detection rule it follows (Elastic prebuilt rules, Sigma process-creation rules).
 */
export interface Behaviour {
  /** Contribution to the 0–100 score. */
  weight: number;
  /** MITRE ATT&CK technique(s), id and name. */
  technique: string;
  /** The public detection rule(s) the indicator follows. */
  source: string;
}

export const BEHAVIOURS = {
  'critical-process-spawned-shell': {
    weight: 75,
    technique: 'T1055 Process Injection; T1546.008 Accessibility Features',
    source:
      'Elastic "Unusual Parent-Child Relationship" (from the parent side); Sigma process-creation rules on shells under system processes',
  },
  'named-pipe-impersonation': {
    weight: 80,
    technique: 'T1134.001 Token Impersonation/Theft',
    source: 'Sigma "Potential Meterpreter/CobaltStrike Activity" (getsystem, technique 1)',
  },
  'service-manager-spawned-shell': {
    weight: 40,
    technique: 'T1569.002 Service Execution; T1021.002 SMB/Windows Admin Shares',
    source: 'Sigma "Potential Meterpreter/CobaltStrike Activity" (parent services.exe); PsExec-style service execution',
  },
  'system-spawned-unexpected-child': {
    weight: 70,
    technique: 'T1055 Process Injection',
    source: 'Elastic "Unusual Child Process from a System Virtual Process"',
  },
  'unexpected-child-of-system-process': {
    weight: 40,
    technique: 'T1055 Process Injection; T1036 Masquerading',
    source: 'Elastic "Unusual Parent-Child Relationship" (the children a system process is known to start)',
  },
  'lolbin-without-arguments': {
    weight: 55,
    technique: 'T1218.011 Rundll32; T1218.010 Regsvr32; T1055 Process Injection',
    source:
      'Sigma "Rundll32 Execution Without CommandLine Parameters" (Cobalt Strike spawn-to) and "Rundll32 Execution Without Parameters"',
  },
  'scriptlet-from-url': {
    weight: 75,
    technique: 'T1218.010 Regsvr32 (Squiblydoo)',
    source: 'Sigma regsvr32 process-creation rules (/i: with a URL, scrobj.dll)',
  },
  'script-host-from-mail-or-browser': {
    weight: 40,
    technique: 'T1566.001 Spearphishing Attachment; T1204.002 Malicious File',
    source: 'Elastic "Suspicious MS Outlook Child Process"; Sigma script hosts started by mail clients and browsers',
  },
  'script-in-mail-or-browser-cache': {
    weight: 70,
    technique: 'T1566.001 Spearphishing Attachment; T1204.002 Malicious File',
    source:
      'Elastic "Suspicious MS Outlook Child Process"; Sigma "Suspicious Double Extension"-style rules on files run from Content.Outlook and INetCache',
  },
  'remote-management-shell': {
    weight: 25,
    technique: 'T1047 Windows Management Instrumentation; T1021.006 Windows Remote Management',
    source:
      'Sigma "Suspicious Processes Spawned by WinRM" and "Potential WMI Lateral Movement WmiPrvSE Spawned PowerShell"',
  },
  'remote-management-shell-with-payload': {
    weight: 50,
    technique: 'T1047 Windows Management Instrumentation; T1021.006 Windows Remote Management; T1059.001 PowerShell',
    source: 'Sigma "Suspicious WmiPrvSE Child Process" and "Suspicious Processes Spawned by WinRM"',
  },
  'office-lolbin-payload': {
    weight: 30,
    technique:
      'T1105 Ingress Tool Transfer; T1140 Deobfuscate/Decode Files or Information; T1218 System Binary Proxy Execution',
    source:
      'Sigma "Suspicious Microsoft Office Child Process" with download, decode or dropped-file arguments (IcedID/QakBot loaders)',
  },
  'download-and-execute': {
    weight: 50,
    technique: 'T1059.001 PowerShell; T1105 Ingress Tool Transfer',
    source: 'Sigma "Suspicious PowerShell Download and Execute Pattern" (read in the decoded command too)',
  },
  'lolbin-download': {
    weight: 45,
    technique: 'T1105 Ingress Tool Transfer; T1197 BITS Jobs',
    source: 'Sigma "Suspicious Download Via Certutil.EXE" and "File Download Via Bitsadmin"',
  },
  'web-shell-discovery': {
    weight: 35,
    technique: 'T1505.003 Web Shell; T1033 System Owner/User Discovery; T1087 Account Discovery',
    source: 'Sigma "Suspicious Shells Spawn by Web Servers" and "Webshell Recon Commands"',
  },
  'credential-dumping': {
    weight: 75,
    technique: 'T1003.001 LSASS Memory',
    source: 'Sigma "Potential LSASS Process Dump Via Procdump" and "Process Memory Dump Via Comsvcs.DLL"',
  },
  'remote-exec-output-to-admin-share': {
    weight: 75,
    technique: 'T1047 Windows Management Instrumentation; T1021.002 SMB/Windows Admin Shares',
    source: 'Sigma "Potential Impacket Lateral Movement Activity" (wmiexec/smbexec output to \\\\127.0.0.1\\ADMIN$)',
  },
  'service-binary-in-windows-root': {
    weight: 45,
    technique: 'T1569.002 Service Execution; T1021.002 SMB/Windows Admin Shares',
    source: 'Sigma PsExec and Impacket psexec service rules (a service binary copied to ADMIN$, i.e. C:\\Windows)',
  },
  'unsigned-service-binary-in-windows-root': {
    weight: 70,
    technique: 'T1569.002 Service Execution; T1021.002 SMB/Windows Admin Shares',
    source:
      'Sigma PsExec and Impacket psexec service rules (Metasploit psexec: an unsigned, randomly named service binary)',
  },
  'lolbin-proxy-user-file': {
    weight: 45,
    technique: 'T1218 System Binary Proxy Execution',
    source:
      'Sigma process-creation rules on InstallUtil, RegAsm/RegSvcs, MSBuild, Odbcconf and CMSTP loading files from user folders',
  },
} as const satisfies Record<string, Behaviour>;

export type BehaviourCode = keyof typeof BEHAVIOURS;

/** The indicators' weights, part of REASON_WEIGHTS. */
export const BEHAVIOUR_WEIGHTS = Object.fromEntries(
  Object.entries(BEHAVIOURS).map(([code, behaviour]) => [code, behaviour.weight]),
) as { [Code in BehaviourCode]: (typeof BEHAVIOURS)[Code]['weight'] };

export const REASON_WEIGHTS = {
  // The pair's relationship (DESIGN.md §6).
  'office-spawned-shell': 50,
  'office-spawned-user-binary': 35,
  'server-app-spawned-shell': 45,
  // The pair's ancestry (the host's process tree): the real launcher of a shell a shell started.
  'launched-by-office-ancestor': 40,
  'launched-by-server-app-ancestor': 35,
  'unexpected-parent': 45,
  'suspicious-command-line': 25,
  // Each further command-line indicator adds this much, up to `suspicious-command-line` max.
  'suspicious-command-line-extra': 10,
  'suspicious-command-line-max': 45,
  // The file itself.
  // Look-alike characters in a system binary's name are a deliberate masquerade: malicious alone.
  'look-alike-name': 70,
  'system-name-wrong-location': 50,
  'renamed-binary': 40,
  'invalid-signature': 30,
  'unsigned-in-user-folder': 35,
  // Reputation.
  denylisted: 90,
  'vt-malicious': 75,
  'malwarebazaar-known': 75,
  'vt-suspicious': 35,
  // What the pair does (./behaviours).
  ...BEHAVIOUR_WEIGHTS,
  // History: the same host or user in earlier malicious (or repeated suspicious) incidents.
  'repeat-offender': 15,
  // User context.
  'service-account-shell': 15,
  'service-account-user-folder': 15,
  // Exculpatory evidence.
  allowlisted: -40,
  'reputation-clean': -15,
  'trusted-signature': -10,
  // Both files verified on the host as OS binaries where they belong, in an expected relationship.
  'host-verified-os-pair': -15,
  'expected-parent': -10,
  // Context only.
  'no-reputation': 0,
  unsigned: 0,
  'parent-unknown': 0,
  'parent-resolved-on-host': 0,
} as const;

export type ReasonCode = Exclude<
  keyof typeof REASON_WEIGHTS,
  'suspicious-command-line-extra' | 'suspicious-command-line-max'
>;

/**
 * The MITRE ATT&CK techniques each reason is evidence of: the behaviours' from their technique text,
 * the others here. Reputation, context and exculpatory reasons name no technique.
 */
export const REASON_ATTACK: Record<string, readonly string[]> = {
  ...Object.fromEntries(Object.entries(BEHAVIOURS).map(([code, b]) => [code, attackIds(b.technique)])),
  'office-spawned-shell': ['T1204.002', 'T1059'],
  'office-spawned-user-binary': ['T1204.002'],
  'server-app-spawned-shell': ['T1505.003', 'T1190'],
  'unexpected-parent': ['T1036', 'T1055'],
  'suspicious-command-line': ['T1059', 'T1027'],
  'look-alike-name': ['T1036.005'],
  'system-name-wrong-location': ['T1036.005'],
  'renamed-binary': ['T1036.003'],
  'invalid-signature': ['T1036.001'],
  'unsigned-in-user-folder': ['T1204.002'],
  'service-account-shell': ['T1078', 'T1059'],
  'service-account-user-folder': ['T1078'],
  'launched-by-office-ancestor': ['T1204.002', 'T1059'],
  'launched-by-server-app-ancestor': ['T1505.003', 'T1059'],
};

/** A published reason with its ATT&CK ids, when it has any. */
export function withAttack(reason: Reason): Reason {
  const ids = REASON_ATTACK[reason.code];
  return ids && ids.length > 0 ? { ...reason, attack: [...ids] } : reason;
}

/** Weights that differed in the rules older histories replay (decided in workflow code, before 2026-11-28). */
export const LEGACY_WEIGHTS: Partial<Record<ReasonCode, number>> = { 'look-alike-name': 55 };

/**
 * Lifts a score that fell in the benign band to the suspicious band when benign is not established
 * (missing reputation, or indicators offset by exculpatory evidence); its weight is the difference.
 */
export const NOT_CONCLUSIVELY_BENIGN = 'not-conclusively-benign';

/** The reputation reasons that settle a verdict on their own. */
export const CONCLUSIVE_REPUTATION: readonly string[] = ['denylisted', 'vt-malicious', 'malwarebazaar-known'];

/** Reputation sources saying a file is bad. */
export const BAD_REPUTATION: readonly string[] = [...CONCLUSIVE_REPUTATION, 'vt-suspicious'];

/** Reasons about the file itself (identity and reputation): they make it the offending binary. */
export const OFFENDING_FILE: readonly string[] = [
  'look-alike-name',
  'system-name-wrong-location',
  'renamed-binary',
  'invalid-signature',
  'unsigned-in-user-folder',
  'denylisted',
  'vt-malicious',
  'malwarebazaar-known',
  'vt-suspicious',
];

/** Reasons about what a file is (not what it did, nor its reputation): the allow list answers them. */
export const FILE_IDENTITY: readonly string[] = [
  'look-alike-name',
  'system-name-wrong-location',
  'renamed-binary',
  'invalid-signature',
  'unsigned-in-user-folder',
];

export type Role = 'parent' | 'child';

/** A reason plus which side of the pair it is about (used for credit and the plan, not published). */
export interface Finding extends Reason {
  roles: Role[];
}

export function finding(
  code: ReasonCode,
  roles: Role[],
  evidence: string,
  weight: number = REASON_WEIGHTS[code],
): Finding {
  return { code, weight, evidence, roles };
}
