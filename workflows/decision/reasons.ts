/**
 * Every reason the decision engine can give, with its weight: one table, so the score of any alert
 * can be recomputed by hand from its reasons. Positive weights are indicators, negative ones
 * exculpatory evidence, 0 is context that changes confidence but not the score. Workflow-safe.
 */
import type { Reason } from '../../common/decision';

export const REASON_WEIGHTS = {
  // The pair's relationship (DESIGN.md §6).
  'office-spawned-shell': 50,
  'office-spawned-user-binary': 35,
  'server-app-spawned-shell': 45,
  'unexpected-parent': 45,
  'suspicious-command-line': 25,
  // Each further command-line indicator adds this much, up to `suspicious-command-line` max.
  'suspicious-command-line-extra': 10,
  'suspicious-command-line-max': 45,
  // The file itself.
  'look-alike-name': 55,
  'system-name-wrong-location': 50,
  'renamed-binary': 40,
  'invalid-signature': 30,
  'unsigned-in-user-folder': 35,
  // Reputation.
  denylisted: 90,
  'vt-malicious': 75,
  'malwarebazaar-known': 75,
  'vt-suspicious': 35,
  // User context.
  'service-account-shell': 15,
  'service-account-user-folder': 15,
  // Exculpatory evidence.
  allowlisted: -40,
  'reputation-clean': -15,
  'trusted-signature': -10,
  'expected-parent': -10,
  // Context only.
  'no-reputation': 0,
  unsigned: 0,
} as const;

export type ReasonCode = Exclude<
  keyof typeof REASON_WEIGHTS,
  'suspicious-command-line-extra' | 'suspicious-command-line-max'
>;

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
