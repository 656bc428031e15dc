/**
 * Failure types of the host activities (ApplicationFailure `type`). Zod-free, so the workflow
 * bundle can import it (the remediation's retry policy lists the non-retryable ones).
 */
export const HOST_FAILURE_TYPES = {
  invalidRequest: 'InvalidRequest',
  protectedTarget: 'ProtectedTarget',
  accessDenied: 'AccessDenied',
  scriptTampered: 'ScriptTampered',
  badScriptOutput: 'BadScriptOutput',
  notWindows: 'NotWindows',
  /** PowerShell runs in Constrained Language Mode (AppLocker/WDAC): the scripts refuse; retrying cannot help. */
  powershellRestricted: 'PowerShellRestricted',
  /** The request is for another host (a namesake sharing this short-name queue): refused, never run. */
  wrongHost: 'WrongHost',
} as const;
