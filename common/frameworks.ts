/**
 * Framework labels: the MITRE ATT&CK techniques a reason is evidence of, and the MITRE D3FEND
 * technique each remediation action is. Pure tables; workflow-safe.
 *
 * D3FEND ids are those of the D3FEND knowledge base's Evict and Detect tactics (D3-PT Process
 * Termination, D3-FEV File Eviction, D3-ANCI Authentication Cache Invalidation, D3-SICA System Init
 * Config Analysis); an action with no D3FEND technique of its own carries none rather than a guess.
 */

/** An ATT&CK technique or sub-technique id: T1059, T1204.002. */
export const ATTACK_ID = /^T\d{4}(\.\d{3})?$/;

/** The ATT&CK ids named in a technique text like `T1218.011 Rundll32; T1055 Process Injection`. */
export function attackIds(text: string): string[] {
  return [...new Set(text.match(/\bT\d{4}(?:\.\d{3})?\b/g) ?? [])];
}

export interface D3fendTechnique {
  id: string;
  name: string;
}

const PROCESS_TERMINATION: D3fendTechnique = { id: 'D3-PT', name: 'Process Termination' };
const FILE_EVICTION: D3fendTechnique = { id: 'D3-FEV', name: 'File Eviction' };

/** The D3FEND technique of each action the playbook runs (plan actions and the follow-ups). */
export const D3FEND_BY_ACTION: Record<string, D3fendTechnique | null> = {
  'quarantine-parent': FILE_EVICTION,
  'quarantine-child': FILE_EVICTION,
  'terminate-parent': PROCESS_TERMINATION,
  'terminate-child': PROCESS_TERMINATION,
  'logoff-user': { id: 'D3-ANCI', name: 'Authentication Cache Invalidation' },
  'fetch-persistence': { id: 'D3-SICA', name: 'System Init Config Analysis' },
  /** A startup file is evicted (moved to quarantine); registry, task, service and WMI entries have no D3FEND technique of their own. */
  'remove-persistence': null,
  'restore-file': null,
  'restore-persistence': null,
};

/** The D3FEND technique of an action, or undefined when it has none. */
export function d3fendFor(action: string, kind?: string): D3fendTechnique | undefined {
  if (action === 'remove-persistence' && kind === 'startup-folder') return FILE_EVICTION;
  return D3FEND_BY_ACTION[action] ?? undefined;
}
