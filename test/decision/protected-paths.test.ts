/**
 * The central side's reading of Windows paths (common/windows/protected.ts): what the decision rules and the
 * remediation plan use to tell a genuine system process from an impostor. A path that only looks
 * outside the Windows directory (`..` segments, trailing dots, another drive) must still read as
 * inside it, or a genuine lsass.exe would be judged an impostor.
 */
import { baseName, isCriticalProcess, isInSystemDirectory, windowsRootedPath } from '../../common/windows';

describe('windowsRootedPath', () => {
  it.each([
    ['C:\\Windows\\System32\\lsass.exe', 'c:\\windows\\system32\\lsass.exe'],
    ['\\??\\C:\\Windows\\System32\\lsass.exe', 'c:\\windows\\system32\\lsass.exe'],
    ['\\Device\\HarddiskVolume3\\Windows\\System32\\lsass.exe', 'c:\\windows\\system32\\lsass.exe'],
    ['%SystemRoot%\\System32\\lsass.exe', 'c:\\windows\\system32\\lsass.exe'],
    ['D:\\Windows\\System32\\lsass.exe', 'c:\\windows\\system32\\lsass.exe'],
    ['C:\\Users\\bob\\..\\..\\Windows\\System32\\lsass.exe', 'c:\\windows\\system32\\lsass.exe'],
    ['D:\\Temp\\..\\Windows\\.\\System32\\\\lsass.exe', 'c:\\windows\\system32\\lsass.exe'],
    ['C:\\Windows.\\System32 \\lsass.exe.', 'c:\\windows\\system32\\lsass.exe'],
    ['C:/Users/Public/lsass.exe', 'c:\\users\\public\\lsass.exe'],
    ['C:\\..\\..\\Users\\lsass.exe', 'c:\\users\\lsass.exe'],
  ])('%s → %s', (input, expected) => {
    expect(windowsRootedPath(input)).toBe(expected);
  });
});

describe('critical processes by location', () => {
  it('a critical name reached through `..` or a trailing dot is still the genuine one', () => {
    for (const path of [
      'C:\\Users\\bob\\..\\..\\Windows\\System32\\lsass.exe',
      'C:\\Windows\\System32\\lsass.exe.',
      'C:\\Windows\\System32.\\lsass.exe',
    ]) {
      expect(isInSystemDirectory(path)).toBe(true);
      expect(isCriticalProcess({ name: 'lsass.exe', path })).toBe(true);
      expect(isCriticalProcess({ path })).toBe(true);
    }
  });

  it('a critical name outside the Windows directory is an impostor', () => {
    for (const path of ['C:\\Users\\bob\\AppData\\lsass.exe', 'C:\\Windows\\System32\\..\\..\\Temp\\lsass.exe']) {
      expect(isInSystemDirectory(path)).toBe(false);
      expect(isCriticalProcess({ name: 'lsass.exe', path })).toBe(false);
    }
  });

  it('reads the file name as Windows opens it', () => {
    expect(baseName('C:\\Windows\\System32\\lsass.exe. ')).toBe('lsass.exe');
    expect(baseName('C:/Temp/evil.exe')).toBe('evil.exe');
  });
});
