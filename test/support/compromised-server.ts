/**
 * A compromised server as the fake Windows seam (fake-windows.ts) serves it: the malware under
 * explorer with a shell and a console below it, a second copy in a user's Temp folder. Shared by
 * the runner's end-to-end tests and section 5 of `npm run bench`. PIDs are above this machine's
 * pid_max (32768), so none can be a real process.
 */
import type { FakeProcess } from './fake-windows';

export const EVIL = 'C:\\Users\\Public\\evil.exe';
export const EVIL_COPY = 'C:\\Users\\bob\\AppData\\Local\\Temp\\invoice.exe';

/** A process table like a compromised server's: the malware under explorer, with a shell and a console below it. */
export const PROCESSES: FakeProcess[] = [
  {
    pid: 40_000,
    ppid: 39_990,
    name: 'wininit.exe',
    path: 'C:\\Windows\\System32\\wininit.exe',
    created: '2024-05-01T07:59:00Z',
  },
  {
    pid: 40_004,
    ppid: 40_000,
    name: 'services.exe',
    path: 'C:\\Windows\\System32\\services.exe',
    created: '2024-05-01T07:59:01Z',
  },
  {
    pid: 40_008,
    ppid: 40_000,
    name: 'lsass.exe',
    path: 'C:\\Windows\\System32\\lsass.exe',
    created: '2024-05-01T07:59:01Z',
  },
  {
    pid: 40_012,
    ppid: 40_004,
    name: 'svchost.exe',
    path: 'C:\\Windows\\System32\\svchost.exe',
    created: '2024-05-01T07:59:02Z',
  },
  {
    pid: 40_100,
    ppid: 39_999,
    name: 'explorer.exe',
    path: 'C:\\Windows\\explorer.exe',
    created: '2024-05-01T08:00:00Z',
    sessionId: 2,
    owner: { user: 'bob', domain: 'CONTOSO' },
  },
  {
    pid: 41_000,
    ppid: 40_100,
    name: 'evil.exe',
    path: EVIL,
    commandLine: `"${EVIL}" --beacon 203.0.113.50`,
    created: '2024-05-01T09:00:00Z',
    sessionId: 2,
    owner: { user: 'bob', domain: 'CONTOSO' },
  },
  {
    pid: 41_004,
    ppid: 41_000,
    name: 'cmd.exe',
    path: 'C:\\Windows\\System32\\cmd.exe',
    commandLine: 'cmd.exe /c whoami',
    created: '2024-05-01T09:00:01Z',
    sessionId: 2,
  },
  {
    pid: 41_008,
    ppid: 41_004,
    name: 'conhost.exe',
    path: 'C:\\Windows\\System32\\conhost.exe',
    created: '2024-05-01T09:00:01Z',
    sessionId: 2,
  },
  // PID 43000 was alerted as old.exe, which exited; the PID now belongs to notepad.
  {
    pid: 43_000,
    ppid: 40_100,
    name: 'notepad.exe',
    path: 'C:\\Windows\\System32\\notepad.exe',
    created: '2024-05-01T10:30:00Z',
    sessionId: 2,
  },
  // The same malware, copied elsewhere and started again.
  { pid: 44_000, ppid: 40_100, name: 'invoice.exe', path: EVIL_COPY, created: '2024-05-01T09:05:00Z', sessionId: 2 },
];
