/**
 * Names for processes an event does not identify fully. Free of zod and of every schema module:
 * workflow code imports it, and each module the workflow bundle holds is evaluated for every
 * workflow the worker runs (common/alert.ts re-exports these for everyone else).
 */

/**
 * The name a creator process has when the event does not say which process it was: Security 4688
 * before Windows Server 2016 (event versions 0 and 1) records only the creator's PID, and a Sysmon
 * or 4688 event may leave the parent's image empty. `<` and `>` cannot occur in a Windows file name,
 * so no real process is called this. The playbook resolves such a parent on the host from its PID
 * and the child's start time (`resolveCreator`), or keeps it unknown, with a reason either way.
 */
export const UNKNOWN_PROCESS_NAME = '<unknown>';

/** The event did not name this process and nothing has resolved it since. */
export function isUnknownProcess(process: { name: string; executable?: string }): boolean {
  return process.name === UNKNOWN_PROCESS_NAME && process.executable === undefined;
}

/** PID 4 is the System process on every Windows NT version; its children's events give it no image. */
export const SYSTEM_PROCESS_ID = 4;
