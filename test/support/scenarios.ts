/** Alerts and matching test-host contents for the three kinds of incident. */
import { randomUUID } from 'node:crypto';
import type { CanonicalAlert } from '../../common/alert';
import type { Harness } from './playbook-harness';
import { vtReport } from './playbook-harness';

export const HASH = {
  word: 'a'.repeat(64),
  dropper: 'b'.repeat(64),
  services: 'c'.repeat(64),
  svchost: 'd'.repeat(64),
  tool: 'e'.repeat(64),
  cmd: 'f'.repeat(64),
};
const WORD = 'C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE';
const DROPPER = 'C:\\Users\\bob\\AppData\\Local\\Temp\\invoice.exe';
const MS = 'CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US';

function base(hostname: string): Pick<CanonicalAlert, 'alertId' | 'source' | 'detectedAt' | 'host' | 'user'> {
  return {
    alertId: `alert-${randomUUID()}`,
    source: 'canonical',
    detectedAt: new Date().toISOString(),
    host: { hostname },
    user: { name: 'bob', domain: 'CONTOSO' },
  };
}

/** WINWORD.EXE drops and runs an unsigned executable that 45 engines flag. */
export function maliciousScenario(h: Harness): CanonicalAlert {
  const started = '2026-11-23T10:00:00.000Z';
  h.host.add({
    processes: [
      {
        pid: 4312,
        parentPid: 900,
        name: 'WINWORD.EXE',
        path: WORD,
        startTime: started,
        owner: 'CONTOSO\\bob',
        sessionId: 3,
      },
      {
        pid: 6120,
        parentPid: 4312,
        name: 'invoice.exe',
        path: DROPPER,
        startTime: started,
        owner: 'CONTOSO\\bob',
        sessionId: 3,
      },
      {
        pid: 6200,
        parentPid: 6120,
        name: 'conhost.exe',
        path: 'C:\\Windows\\System32\\conhost.exe',
        startTime: started,
      },
    ],
    files: [
      { path: WORD, sha256: HASH.word, signatureStatus: 'valid', signer: MS },
      { path: DROPPER, sha256: HASH.dropper, signatureStatus: 'unsigned' },
    ],
    sessions: [{ id: 3, user: 'CONTOSO\\bob', type: 'rdp', clientAddress: '203.0.113.7' }],
    persistence: [
      {
        kind: 'run-key',
        location: 'HKU\\S-1-5-21-1\\Software\\Microsoft\\Windows\\CurrentVersion\\Run',
        name: 'Updater',
        command: `"${DROPPER}" /silent`,
      },
      {
        kind: 'scheduled-task',
        location: '\\Microsoft\\Windows\\Defrag',
        name: 'ScheduledDefrag',
        command: 'C:\\Windows\\System32\\defrag.exe -c',
      },
    ],
  });
  h.central.reputations.set(HASH.dropper, vtReport(HASH.dropper, 45));
  h.central.reputations.set(HASH.word, vtReport(HASH.word, 0));
  return {
    ...base(h.hostname),
    ruleName: 'Suspicious Microsoft Office Child Process',
    parent: { pid: 4312, name: 'WINWORD.EXE', executable: WORD, startTime: started },
    child: {
      pid: 6120,
      name: 'invoice.exe',
      executable: DROPPER,
      commandLine: `"${DROPPER}"`,
      startTime: started,
      hashes: { sha256: HASH.dropper },
    },
  };
}

/** An unsigned in-house tool nobody has seen starts cmd.exe: not conclusive either way. */
export function suspiciousScenario(h: Harness): CanonicalAlert {
  const started = '2026-11-23T11:00:00.000Z';
  const tool = 'C:\\Users\\bob\\Downloads\\helper.exe';
  h.host.add({
    processes: [
      { pid: 7000, parentPid: 900, name: 'helper.exe', path: tool, startTime: started },
      { pid: 7100, parentPid: 7000, name: 'cmd.exe', path: 'C:\\Windows\\System32\\cmd.exe', startTime: started },
    ],
    files: [
      { path: tool, sha256: HASH.tool, signatureStatus: 'unsigned' },
      { path: 'C:\\Windows\\System32\\cmd.exe', sha256: HASH.cmd, signatureStatus: 'valid', signer: MS },
    ],
    sessions: [{ id: 2, user: 'CONTOSO\\bob' }],
  });
  return {
    ...base(h.hostname),
    ruleName: 'Unusual child of unsigned binary',
    parent: { pid: 7000, name: 'helper.exe', executable: tool, startTime: started },
    child: {
      pid: 7100,
      name: 'cmd.exe',
      executable: 'C:\\Windows\\System32\\cmd.exe',
      commandLine: 'cmd.exe /c whoami',
      startTime: started,
    },
  };
}

/** services.exe starts svchost.exe, both Microsoft-signed in System32, known clean. */
export function benignScenario(h: Harness): CanonicalAlert {
  const started = '2026-11-23T09:00:00.000Z';
  const services = 'C:\\Windows\\System32\\services.exe';
  const svchost = 'C:\\Windows\\System32\\svchost.exe';
  h.host.add({
    files: [
      { path: services, sha256: HASH.services, signatureStatus: 'valid', signer: MS },
      { path: svchost, sha256: HASH.svchost, signatureStatus: 'valid', signer: MS },
    ],
  });
  h.central.reputations.set(HASH.services, vtReport(HASH.services, 0));
  h.central.reputations.set(HASH.svchost, vtReport(HASH.svchost, 0));
  return {
    ...base(h.hostname),
    user: { name: 'SYSTEM', domain: 'NT AUTHORITY' },
    parent: { pid: 700, name: 'services.exe', executable: services, startTime: started },
    child: {
      pid: 1200,
      name: 'svchost.exe',
      executable: svchost,
      commandLine: 'svchost.exe -k netsvcs',
      startTime: started,
    },
  };
}
