/**
 * What is a remote path, on both sides of the language boundary: one table run through
 * isRemoteWindowsPath (activities/host/safety.ts) and, under real pwsh, Test-SpawnGuardRemotePath
 * (powershell/SpawnGuard.Safety/Paths.ps1), so the two cannot drift apart (issue 13, item 1).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { isRemoteWindowsPath } from '../../activities/host/safety';
import { requirePwsh } from '../support/fake-windows';

const TABLE: readonly (readonly [string, boolean])[] = [
  ['C:\\Users\\Public\\evil.exe', false],
  ['c:/users/public/evil.exe', false],
  ['  D:\\Tools\\a.exe ', false],
  ['\\\\?\\C:\\Windows\\System32\\cmd.exe', false],
  ['\\??\\C:\\Windows\\System32\\cmd.exe', false],
  ['\\\\.\\C:\\Windows\\System32\\cmd.exe', false],
  ['', false],
  ['\\\\fileserver\\share\\evil.exe', true],
  ['//fileserver/share/evil.exe', true],
  ['\\\\fileserver@SSL\\DavWWWRoot\\evil.exe', true],
  ['\\\\fileserver@SSL@443\\DavWWWRoot\\evil.exe', true],
  ['\\\\?\\UNC\\fileserver\\share\\evil.exe', true],
  ['\\??\\UNC\\fileserver\\share\\evil.exe', true],
  ['\\Device\\Mup\\fileserver\\share\\evil.exe', true],
  ['\\Device\\HarddiskVolume3\\Windows\\evil.exe', true],
  ['\\\\.\\GLOBALROOT\\Device\\Mup\\fileserver\\share\\evil.exe', true],
  ['\\\\?\\GLOBALROOT\\Device\\HarddiskVolume3\\evil.exe', true],
  ['\\\\.\\pipe\\evil', true],
  ['\\\\?\\Volume{00000000-0000-0000-0000-000000000000}\\evil.exe', true],
  ['\\Windows\\System32\\cmd.exe', true],
  ['file://fileserver/share/evil.exe', true],
  ['https://attacker.example/evil.exe', true],
];

function powershellAnswers(paths: readonly string[]): boolean[] {
  const module = join(__dirname, '..', '..', 'powershell', 'SpawnGuard.Safety');
  const script = [
    "$ErrorActionPreference = 'Stop'",
    `Import-Module -Name '${module.replace(/'/g, "''")}'`,
    '$paths = [System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String([Console]::In.ReadToEnd().Trim())) | ConvertFrom-Json',
    '$out = @(foreach ($p in $paths) { [bool](Test-SpawnGuardRemotePath -Path ([string]$p)) })',
    '[Console]::Out.Write((ConvertTo-Json -InputObject $out -Compress))',
  ].join('\n');
  const input = Buffer.from(JSON.stringify(paths), 'utf8').toString('base64');
  const output = execFileSync(requirePwsh(), ['-NoProfile', '-NonInteractive', '-Command', script], {
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return JSON.parse(output.trim()) as boolean[];
}

describe('remote paths on both sides of the language boundary', () => {
  it('isRemoteWindowsPath gives the expected answer for every row', () => {
    for (const [path, expected] of TABLE)
      expect({ path, remote: isRemoteWindowsPath(path) }).toEqual({ path, remote: expected });
  });

  it('Test-SpawnGuardRemotePath gives the same answer for every row', () => {
    const answers = powershellAnswers(TABLE.map(([path]) => path));
    expect(TABLE.map(([path], i) => ({ path, remote: answers[i] }))).toEqual(
      TABLE.map(([path, expected]) => ({ path, remote: expected })),
    );
  });
});
