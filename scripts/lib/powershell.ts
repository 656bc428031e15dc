/**
 * Where this machine's PowerShell 7 and Pester are (scripts/install-powershell.sh puts them
 * there). For tests and tooling only: production hosts run Windows PowerShell 5.1 by full path.
 */
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

export const PWSH_VERSION = '7.6.9';
export const PESTER_VERSION = '5.7.1';

const executable = process.platform === 'win32' ? 'pwsh.exe' : 'pwsh';

/** The absolute path of pwsh: the .NET global tool first, then PATH; undefined when there is none. */
export function findPwsh(): string | undefined {
  const candidates = [
    join(homedir(), '.dotnet', 'tools', executable),
    ...(process.env.PATH ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, executable)),
  ];
  return candidates.find((file) => existsSync(file) && statSync(file).isFile());
}
