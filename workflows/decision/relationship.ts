/**
 * What the pair does, as opposed to what its files are: who started whom (DESIGN.md §6 expected
 * parents, Office children, web-server children), with which command line, as which user.
 * Workflow-safe.
 */
import type { AlertUser, CanonicalAlert } from '../../common/alert';
import { isUnknownProcess } from '../../common/process-identity';
import { EXPECTED_PARENTS, isServiceAccount } from '../../common/windows';
import { processLabel } from './file-facts';
import { matchName, nameStem } from '../../common/windows';
import { finding, REASON_WEIGHTS, type Finding } from './reasons';
import {
  commandLineIndicators,
  OFFICE_APPLICATIONS,
  OFFICE_FORBIDDEN_CHILDREN,
  SERVER_APPLICATIONS,
  SERVER_FORBIDDEN_CHILDREN,
  SERVICE_SHELL_LAUNCHERS,
  SHELLS,
  userWritableSegment,
} from './rules';

/** The user the child runs as: the alert's user, else the child's own. */
export function alertUser(alert: CanonicalAlert): AlertUser | undefined {
  return alert.user ?? alert.child.user;
}

export function userLabel(user: AlertUser): string {
  return user.domain ? `${user.domain}\\${user.name}` : user.name;
}

/** The parent is an Office application (by its exact name: a look-alike is reported as such). */
export function isOfficeApplication(name: string): boolean {
  return matchName(name, OFFICE_APPLICATIONS)?.exact === true;
}

/** `decodeCommands`: read encoded PowerShell commands too (false only for the rules of older histories). */
export function relationshipFindings(alert: CanonicalAlert, { decodeCommands = true } = {}): Finding[] {
  const { parent, child } = alert;
  const parentLabel = processLabel(parent);
  const childLabel = processLabel(child);
  const findings: Finding[] = [];
  const childStem = nameStem(child.name);
  const parentStem = nameStem(parent.name);

  if (isOfficeApplication(parent.name)) {
    // A look-alike child name (`cmd` spelled with a Cyrillic letter) is still a shell to this rule.
    if (matchName(child.name, OFFICE_FORBIDDEN_CHILDREN)) {
      findings.push(
        finding(
          'office-spawned-shell',
          ['parent', 'child'],
          `${parentLabel} started ${childLabel}: an Office application starting a shell or LOLBin (Sigma "Suspicious Microsoft Office Child Process", T1204.002)`,
        ),
      );
    } else if (child.executable && userWritableSegment(child.executable)) {
      findings.push(
        finding(
          'office-spawned-user-binary',
          ['parent', 'child'],
          `${parentLabel} started ${childLabel} from a user-writable folder (${child.executable}): a document dropping and running a payload (T1204.002)`,
        ),
      );
    }
  }

  if (matchName(parent.name, SERVER_APPLICATIONS)?.exact && matchName(child.name, SERVER_FORBIDDEN_CHILDREN)) {
    findings.push(
      finding(
        'server-app-spawned-shell',
        ['parent', 'child'],
        `${parentLabel} started ${childLabel}: a web server or database starting a shell or recon tool, as a web shell does (T1505.003)`,
      ),
    );
  }

  // Own keys only: a process named `constructor.exe` must not reach Object.prototype. A parent the
  // event does not name is neither expected nor unexpected: nothing is claimed about it.
  const expected = Object.hasOwn(EXPECTED_PARENTS, childStem) ? EXPECTED_PARENTS[childStem] : undefined;
  const parentKnown = !isUnknownProcess(parent);
  if (expected && parentKnown) {
    const parentExpected = matchName(parent.name, expected)?.exact === true;
    findings.push(
      parentExpected
        ? finding('expected-parent', ['parent', 'child'], `${parentLabel} is an expected parent of ${childLabel}`)
        : finding(
            'unexpected-parent',
            ['parent', 'child'],
            `${childLabel} was started by ${parentLabel}; ${childStem}.exe is only started by ${expected.map((p) => `${p}.exe`).join(', ')} (Elastic "Unusual Parent-Child Relationship")`,
          ),
    );
  }

  for (const [role, process] of [
    ['child', child],
    ['parent', parent],
  ] as const) {
    const indicators = commandLineIndicators(process.commandLine, { decode: decodeCommands });
    if (indicators.length === 0) continue;
    const weight = Math.min(
      REASON_WEIGHTS['suspicious-command-line-max'],
      REASON_WEIGHTS['suspicious-command-line'] +
        (indicators.length - 1) * REASON_WEIGHTS['suspicious-command-line-extra'],
    );
    findings.push(
      finding(
        'suspicious-command-line',
        [role],
        `${processLabel(process)} command line: ${indicators.join(', ')} (T1059.001, T1027)`,
        weight,
      ),
    );
  }

  const user = alertUser(alert);
  if (user && isServiceAccount(user)) {
    const who = userLabel(user);
    if (parentKnown && matchName(child.name, SHELLS) && !matchName(parentStem, SERVICE_SHELL_LAUNCHERS)?.exact) {
      findings.push(
        finding(
          'service-account-shell',
          ['child'],
          `${childLabel} is a shell running as the service account ${who}, started by ${parentLabel} rather than the service manager or the task scheduler`,
        ),
      );
    }
    if (child.executable && userWritableSegment(child.executable)) {
      findings.push(
        finding(
          'service-account-user-folder',
          ['child'],
          `${childLabel} runs as the service account ${who} from a user-writable folder (${child.executable}): privilege escalation or service persistence (T1543.003)`,
        ),
      );
    }
  }
  return findings;
}
