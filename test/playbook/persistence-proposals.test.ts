/**
 * Which persistence entries an incident proposes for removal (workflows/persistence.ts, a pure
 * function of the incident's status): every removable kind where it is found, never an entry of a
 * Microsoft- or trusted-signed file, never a remote place.
 */
import type { IncidentStatus } from '../../common/incident-status';
import type { PersistenceEntry } from '../../common/host-contract';
import { proposeRemovals } from '../../workflows/persistence';

const DROPPER = 'C:\\Users\\bob\\AppData\\Local\\Temp\\invoice.exe';
const TOOL = 'C:\\Program Files\\Contoso\\agent.exe';

function statusWith(entries: PersistenceEntry[], signer: string | null = null): IncidentStatus {
  const file = (role: 'parent' | 'child', path: string, signed: string | null) => ({
    role,
    path,
    sha256: null,
    factsFrom: ['host' as const],
    signature: signed ? { status: 'valid' as const, signer: signed } : { status: 'unsigned' as const },
    signatureFrom: 'host' as const,
    isMicrosoftSigned: false,
    isOsBinary: false,
    expectedLocation: null,
    originalFileName: null,
    reputation: null,
    hostFactsError: null,
    risk: 'high' as const,
    evidence: [],
  });
  return {
    persistence: entries,
    actions: [],
    enrichment: {
      parent: file('parent', TOOL, signer),
      child: file('child', DROPPER, null),
      hostReachable: true,
    },
  } as unknown as IncidentStatus;
}

const entry = (
  kind: PersistenceEntry['kind'],
  location: string,
  name: string,
  matchedPath: string,
): PersistenceEntry => ({
  kind,
  location,
  name,
  command: `"${matchedPath}"`,
  referencesTarget: true,
  matchedPath,
});

it('proposes Run keys (machine and user, Azure AD users too), a scheduled task (named by its task path), a startup file, a service and a WMI consumer', () => {
  const removal = proposeRemovals(
    statusWith([
      entry('run-key', 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run', 'Updater', DROPPER),
      entry('scheduled-task', '\\Updater', 'Updater', DROPPER),
      entry('startup-folder', 'C:\\ProgramData\\Microsoft\\Windows\\Start Menu\\Programs\\Startup', 'u.lnk', DROPPER),
      entry('service', 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\updsvc', 'updsvc', DROPPER),
      entry('wmi-subscription', 'root\\subscription:CommandLineEventConsumer', 'upd', DROPPER),
      // An Azure AD user's own Run key.
      entry(
        'run-key',
        'HKU\\S-1-12-1-1234567890-1234567890-1234567890-1234567890\\Software\\Microsoft\\Windows\\CurrentVersion\\Run',
        'Updater',
        DROPPER,
      ),
    ]),
    '2026-12-01T00:00:00.000Z',
  );
  expect(removal?.proposals.map((p) => [p.id, p.kind])).toEqual([
    ['p1', 'run-key'],
    ['p2', 'scheduled-task'],
    ['p3', 'startup-folder'],
    ['p4', 'service'],
    ['p5', 'wmi-subscription'],
    ['p6', 'run-key'],
  ]);
  expect(removal?.notProposed).toEqual([]);
});

it('never proposes an entry of a trusted-signed file, a remote startup folder, another key, or a service DLL', () => {
  const removal = proposeRemovals(
    statusWith(
      [
        entry('run-key', 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run', 'Agent', TOOL),
        entry('startup-folder', '\\\\fs01\\profiles\\bob\\Startup', 'u.lnk', DROPPER),
        entry('run-key', 'HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon', 'Shell', DROPPER),
        entry('service', 'HKLM\\SYSTEM\\CurrentControlSet\\Services\\x\\Parameters', 'x (ServiceDll)', DROPPER),
        entry(
          'ifeo-debugger',
          'HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Image File Execution Options\\sethc.exe',
          'Debugger',
          DROPPER,
        ),
      ],
      'CN=Contoso Ltd',
    ),
    '2026-12-01T00:00:00.000Z',
    ['CN=Contoso Ltd'],
  );
  expect(removal?.proposals).toEqual([]);
  expect(removal?.status).toBe('done');
  expect(removal?.notProposed.map((n) => n.why)).toEqual([
    expect.stringMatching(/signed by CN=Contoso Ltd, a trusted publisher/),
    expect.stringMatching(/remote path/),
    expect.stringMatching(/not a Run key/),
    expect.stringMatching(/service DLL/),
    expect.stringMatching(/not removed automatically/),
  ]);
});
