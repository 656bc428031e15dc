/**
 * `splitUserName` (common/user-name.ts) and `Split-SpawnGuardUserName` (powershell/SpawnGuard.Safety/
 * Requests.ps1) read every user name the same way: both run over one table, under real pwsh.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { normalizeUser, splitUserName } from '../../common/user-name';
import { requirePwsh } from '../support/fake-windows';

const TABLE: [string, { name: string; domain: string | null }][] = [
  ['CONTOSO\\bob', { name: 'bob', domain: 'CONTOSO' }],
  [' CONTOSO\\bob ', { name: 'bob', domain: 'CONTOSO' }],
  ['CONTOSO \\ bob', { name: 'bob', domain: 'CONTOSO' }],
  ['contoso.local\\Bob', { name: 'Bob', domain: 'contoso.local' }],
  ['.\\bob', { name: 'bob', domain: '.' }],
  ['bob@contoso.com', { name: 'bob', domain: 'contoso.com' }],
  ['bob.smith@corp.contoso.com', { name: 'bob.smith', domain: 'corp.contoso.com' }],
  ['bob', { name: 'bob', domain: null }],
  ['  bob\t', { name: 'bob', domain: null }],
  ['\\bob', { name: 'bob', domain: null }],
  ['bob@', { name: 'bob', domain: null }],
  ['bob@ ', { name: 'bob', domain: null }],
  ['@contoso.com', { name: '', domain: 'contoso.com' }],
  ['CONTOSO\\', { name: '', domain: 'CONTOSO' }],
  ['', { name: '', domain: null }],
  // Left for the caller to refuse, but split the same way on both sides.
  ['CONTOSO\\bob\\x', { name: 'bob\\x', domain: 'CONTOSO' }],
  ['bob@x@contoso.com', { name: 'bob@x', domain: 'contoso.com' }],
  ['CONTOSO\\bob@contoso.com', { name: 'bob@contoso.com', domain: 'CONTOSO' }],
  ['NT AUTHORITY\\NETWORK SERVICE', { name: 'NETWORK SERVICE', domain: 'NT AUTHORITY' }],
  ['WEB01$', { name: 'WEB01$', domain: null }],
  // .NET trims U+00A0 and U+3000, not U+FEFF: JavaScript's trim() would differ here.
  ['\u00a0bob\u3000', { name: 'bob', domain: null }],
  ['\ufeffbob', { name: '\ufeffbob', domain: null }],
  ['J\u00fcrgen@m\u00fcller.de', { name: 'J\u00fcrgen', domain: 'm\u00fcller.de' }],
];

function splitInPowerShell(names: string[]): { name: string; domain: string | null }[] {
  const module = join(__dirname, '..', '..', 'powershell', 'SpawnGuard.Safety');
  const script = [
    "$ErrorActionPreference = 'Stop'",
    `Import-Module -Name '${module.replace(/'/g, "''")}'`,
    '$names = [System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String([Console]::In.ReadToEnd().Trim())) | ConvertFrom-Json',
    '$out = @(foreach ($n in $names) { $s = Split-SpawnGuardUserName -UserName $n; [ordered]@{ name = $s.name; domain = $s.domain } })',
    '[Console]::Out.Write([System.Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes((ConvertTo-Json -InputObject $out -Depth 4 -Compress))))',
  ].join('\n');
  const input = Buffer.from(JSON.stringify(names), 'utf8').toString('base64');
  const output = execFileSync(requirePwsh(), ['-NoProfile', '-NonInteractive', '-Command', script], {
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return JSON.parse(Buffer.from(output.trim(), 'base64').toString('utf8')) as { name: string; domain: string | null }[];
}

describe('user names on both sides of the language boundary', () => {
  it('splitUserName gives the expected answer for every row', () => {
    for (const [input, expected] of TABLE) expect({ input, ...splitUserName(input) }).toEqual({ input, ...expected });
  });

  it('Split-SpawnGuardUserName under pwsh agrees with splitUserName on every row', () => {
    const inputs = TABLE.map(([input]) => input);
    const fromPowerShell = splitInPowerShell(inputs);
    expect(fromPowerShell).toHaveLength(inputs.length);
    inputs.forEach((input, i) => {
      expect({ input, ...fromPowerShell[i] }).toEqual({ input, ...splitUserName(input) });
    });
  }, 90_000);

  it('normalizeUser splits a DOMAIN\\user or UPN written into the name and never invents a domain', () => {
    expect(normalizeUser({ name: 'CONTOSO\\bob' })).toEqual({ name: 'bob', domain: 'CONTOSO' });
    expect(normalizeUser({ name: 'bob@contoso.com', sid: 'S-1' })).toEqual({
      name: 'bob',
      domain: 'contoso.com',
      sid: 'S-1',
    });
    expect(normalizeUser({ name: 'bob', domain: 'CONTOSO' })).toEqual({ name: 'bob', domain: 'CONTOSO' });
    expect(normalizeUser({ name: 'bob', domain: ' ' })).toEqual({ name: 'bob' });
    expect(normalizeUser({ name: '\\bob', domain: 'CONTOSO' })).toEqual({ name: 'bob', domain: 'CONTOSO' });
  });
});
