/**
 * Public names other parts and users rely on (DESIGN.md §3). Safe to import from workflow code.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const WORKFLOW_TYPES = {
  playbook: 'suspiciousParentProcessPlaybook',
  fileEnrichment: 'windowsFileEnrichment',
} as const;

export const CENTRAL_TASK_QUEUE = 'spawnguard-central';

/** `spawnguard-host-<hostname>`: lower-cased, domain stripped (`WEB01.contoso.local` → `web01`). */
export function hostTaskQueue(hostname: string): string {
  return `spawnguard-host-${shortHostname(hostname)}`;
}

/**
 * `spawnguard-host-<hostname>-control`: the host worker's liveness queue. It answers a ping at
 * once however busy the host's action queue is, so "busy" is never mistaken for "no worker".
 */
export function hostControlTaskQueue(hostname: string): string {
  return `${hostTaskQueue(hostname)}-control`;
}

/**
 * Task priority on a host's action queue (1 runs first; Temporal's default is 3). Several incidents
 * on one host share its few slots: containment (stop, quarantine, logoff, and the session look-up
 * they need) is dispatched before investigation (file facts, process tree, validation), and both
 * before enumeration (the persistence listing, which can take minutes).
 */
export const HOST_TASK_PRIORITY = {
  containment: 1,
  investigation: 2,
  enumeration: 4,
} as const;
export type HostTaskPriority = keyof typeof HOST_TASK_PRIORITY;

export function shortHostname(hostname: string): string {
  const trimmed = hostname.trim().toLowerCase();
  // An IP address has no domain to strip.
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(trimmed)) return trimmed;
  return trimmed.split('.')[0] ?? trimmed;
}

/** Custom search attributes, registered on the dev server and in docker-compose. */
export const SEARCH_ATTRIBUTES = {
  AlertId: 'Keyword',
  Hostname: 'Keyword',
  ProcessName: 'Keyword',
  ParentProcessName: 'Keyword',
  Verdict: 'Keyword',
  ReviewStatus: 'Keyword',
  RemediationStatus: 'Keyword',
  RiskScore: 'Int',
} as const;

export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTES;

/** Typed keys for upserts (workflows) and typed reads (clients). */
export const SA = {
  AlertId: defineSearchAttributeKey('AlertId', SearchAttributeType.KEYWORD),
  Hostname: defineSearchAttributeKey('Hostname', SearchAttributeType.KEYWORD),
  ProcessName: defineSearchAttributeKey('ProcessName', SearchAttributeType.KEYWORD),
  ParentProcessName: defineSearchAttributeKey('ParentProcessName', SearchAttributeType.KEYWORD),
  Verdict: defineSearchAttributeKey('Verdict', SearchAttributeType.KEYWORD),
  ReviewStatus: defineSearchAttributeKey('ReviewStatus', SearchAttributeType.KEYWORD),
  RemediationStatus: defineSearchAttributeKey('RemediationStatus', SearchAttributeType.KEYWORD),
  RiskScore: defineSearchAttributeKey('RiskScore', SearchAttributeType.INT),
} as const;
