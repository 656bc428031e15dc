/**
 * Windows paths as Windows reads them: normalization, segment resolution, the one canonical
 * spelling every safety check compares, and what is a remote path. Workflow-safe.
 */
export function normalizeWindowsPath(path: string): string {
  return path
    .trim()
    .replace(/\//g, '\\')
    .replace(/^\\\\\?\\/, '')
    .toLowerCase();
}

export function baseName(path: string): string {
  const parts = normalizeWindowsPath(path).split('\\');
  return trimSegment(parts[parts.length - 1] ?? '');
}

/** Windows ignores trailing dots and spaces in a path segment (`lsass.exe.` opens `lsass.exe`). */
export function trimSegment(segment: string): string {
  return segment.replace(/[. ]+$/, '') || segment;
}

/**
 * A normalized drive path (`c:\…`) with its segments as Windows resolves them: `.` dropped, `..`
 * taken back (never above the drive), trailing dots and spaces trimmed, empty segments skipped.
 * Anything not rooted at a drive letter is returned unchanged.
 */
export function resolveDrivePath(normalized: string): string {
  if (!/^[a-z]:\\/.test(normalized)) return normalized;
  const segments: string[] = [];
  for (const raw of normalized.slice(3).split('\\')) {
    const segment = trimSegment(raw);
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return `${normalized.slice(0, 3)}${segments.join('\\')}`;
}

/**
 * A Windows path in one spelling, the one every safety check compares: lower case, backslashes, no
 * `\\?\` or `\??\` prefix, no `::$DATA` (the file's own stream), `.`/`..` resolved and trailing
 * dots and spaces trimmed as Windows does, and the Windows directory spelled `c:\windows` whichever
 * form the sensor or the host wrote: `\SystemRoot\…`, `%SystemRoot%\…`, `%windir%\…`,
 * `\Device\HarddiskVolume3\Windows\…`, or Windows installed on another drive — the host's own
 * `systemRoot` when it is known (the host worker), else `x:\windows` on any drive (the central side,
 * which cannot know). Used to decide what is protected, where a false "genuine" is the safe mistake
 * (the process is left alone) and a missed one could kill a system process. One implementation for
 * the decision engine, the host's safety checks and the lab host.
 */
export function canonicalWindowsPath(path: string, systemRoot?: string): string {
  const root = systemRoot === undefined ? undefined : normalizeWindowsPath(systemRoot).replace(/\\+$/, '');
  const windowsDirectory = root ?? 'c:\\windows';
  const rooted = normalizeWindowsPath(path)
    .replace(/^\\\?\?\\/, '')
    .replace(/:+\$data$/, '')
    .replace(/^\\device\\harddiskvolume\d+\\windows(?=\\|$)/, windowsDirectory)
    .replace(/^(?:\\systemroot|%systemroot%|%windir%)(?=\\|$)/, windowsDirectory);
  // Resolved before the drive is mapped: `d:\users\x\..\..\windows\…` is the Windows directory too.
  const resolved = resolveDrivePath(rooted);
  if (root === undefined) return resolved.replace(/^[a-z]:\\windows(?=\\|$)/, 'c:\\windows');
  return resolved === root || resolved.startsWith(`${root}\\`) ? `c:\\windows${resolved.slice(root.length)}` : resolved;
}

/** `canonicalWindowsPath` on the central side (the host's Windows directory unknown). */
export function windowsRootedPath(path: string): string {
  return canonicalWindowsPath(path);
}

/**
 * True for any path that is not a plain local drive path: UNC (`\\host\share`, WebDAV
 * `\\host@SSL\DavWWWRoot`), `\\?\UNC\`, `\??\UNC\`, `\Device\Mup\` and other device paths,
 * `\\.\GLOBALROOT\`, pipes, and `scheme://` URLs. Fails closed: only `C:\…`, `\\?\C:\…`, `\??\C:\…`
 * and `\\.\C:\…` are local. The same rule as Test-SpawnGuardRemotePath (powershell/SpawnGuard.Safety/
 * Paths.ps1); test/host/remote-path.test.ts runs one table through both. Workflow-safe. A script running as SYSTEM
 * that opens a remote path authenticates the machine account to whoever serves it.
 */
export function isRemoteWindowsPath(path: string | null | undefined): boolean {
  if (!path) return false;
  const text = path.trim().replace(/\//g, '\\');
  if (/^[A-Za-z]:\\/.test(text)) return false;
  if (/^(\\\\\?\\|\\\?\?\\|\\\\\.\\)[A-Za-z]:\\/.test(text)) return false;
  return text.startsWith('\\') || /^[A-Za-z][A-Za-z0-9+.-]*:[/\\]{2}/.test(text);
}
