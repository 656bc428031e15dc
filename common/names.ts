/**
 * Public names other parts and users rely on (DESIGN.md §3). Safe to import from workflow code.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const WORKFLOW_TYPES = {
  playbook: 'suspiciousParentProcessPlaybook',
  fileEnrichment: 'windowsFileEnrichment',
  /** Undo of an incident's quarantine and persistence removals (`spawnguard restore`). */
  restore: 'incidentRestore',
} as const;

export const CENTRAL_TASK_QUEUE = 'spawnguard-central';

/**
 * How host task queues are named. `short` (DESIGN.md §3, the default): lower-cased, domain stripped
 * (`WEB01.contoso.local` → `spawnguard-host-web01`). `fqdn`: by the fully qualified name
 * (`spawnguard-host-web01.contoso.local`), for estates where two domains have a host of the same
 * short name; an alert that names a host without its domain is qualified with `domain`.
 */
export interface HostQueueNaming {
  names: 'short' | 'fqdn';
  domain?: string | undefined;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** A name with a DNS domain (`web01.contoso.local`), not a short name or an address. */
export function isQualifiedHostname(hostname: string): boolean {
  const trimmed = hostname.trim();
  return trimmed.includes('.') && !IPV4.test(trimmed);
}

/**
 * The host part of its task queues' names, or null when it cannot be known: a short name in an
 * estate whose queues are named by fully qualified name, with no domain configured to complete it.
 * Such a host is never guessed at.
 */
export function hostQueueKey(hostname: string, naming?: HostQueueNaming): string | null {
  if (!naming || naming.names === 'short') return shortHostname(hostname);
  const trimmed = hostname.trim().toLowerCase().replace(/\.$/, '');
  if (IPV4.test(trimmed) || isQualifiedHostname(trimmed)) return trimmed;
  const domain = naming.domain
    ?.trim()
    .toLowerCase()
    .replace(/^\.|\.$/g, '');
  return domain ? `${trimmed}.${domain}` : null;
}

/** Why `hostQueueKey` has no answer, in words for the status and the report. */
export function unqualifiedHostProblem(hostname: string): string {
  return (
    `the alert names host ${hostname} without its DNS domain, host queues are named by fully qualified ` +
    'name (SPAWNGUARD_HOST_QUEUE_NAMES=fqdn) and SPAWNGUARD_HOST_DOMAIN is not set: which host is meant is ' +
    'not known, so nothing is asked of any host'
  );
}

function requiredKey(hostname: string, naming?: HostQueueNaming): string {
  const key = hostQueueKey(hostname, naming);
  if (key === null) throw new Error(unqualifiedHostProblem(hostname));
  return key;
}

/** `spawnguard-host-<hostname>`, the host worker's action queue (see `HostQueueNaming`). */
export function hostTaskQueue(hostname: string, naming?: HostQueueNaming): string {
  return `spawnguard-host-${requiredKey(hostname, naming)}`;
}

/**
 * `spawnguard-host-<hostname>-control`: the host worker's liveness queue. It answers a ping at
 * once however busy the host's action queue is, so "busy" is never mistaken for "no worker".
 */
export function hostControlTaskQueue(hostname: string, naming?: HostQueueNaming): string {
  return `${hostTaskQueue(hostname, naming)}-control`;
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
  if (IPV4.test(trimmed)) return trimmed;
  return trimmed.split('.')[0] ?? trimmed;
}

/**
 * Whether a worker that calls itself `self` is the host an alert calls `claimed`: the same short
 * name, and — when both names are fully qualified — the same full name (`web01.contoso.local` is
 * not `web01.fabrikam.local`, though they share a short-name queue).
 */
export function sameHost(claimed: string, self: { hostname: string; fqdn?: string | undefined }): boolean {
  if (shortHostname(claimed) !== shortHostname(self.hostname)) return false;
  const full = self.fqdn ?? (isQualifiedHostname(self.hostname) ? self.hostname : undefined);
  if (!isQualifiedHostname(claimed) || !full) return true;
  return claimed.trim().toLowerCase().replace(/\.$/, '') === full.trim().toLowerCase().replace(/\.$/, '');
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
  /** How the incident closed (remediated, nothing-left-to-do, closed-benign, …): the audit trail's filter. */
  Outcome: 'Keyword',
  /** The alert's user, `name@domain` lower-cased (`alice@contoso`), or the name alone: related incidents by user. */
  UserName: 'Keyword',
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
  Outcome: defineSearchAttributeKey('Outcome', SearchAttributeType.KEYWORD),
  UserName: defineSearchAttributeKey('UserName', SearchAttributeType.KEYWORD),
} as const;

/**
 * The `UserName` search attribute's value for a user: `alice@contoso` (lower-cased, UPN style), or
 * `alice` without a domain. A visibility query cannot match a value holding a backslash or a double
 * quote exactly (the server keeps the escape), so those characters are dropped: `CONTOSO\alice`
 * is searched as `UserName = "alice@contoso"`.
 */
export function userSearchValue(user: { name: string; domain?: string | undefined | null }): string {
  const clean = (text: string) => text.trim().toLowerCase().replace(/["\\]/g, '');
  const name = clean(user.name);
  const domain = user.domain ? clean(user.domain) : '';
  return (domain ? `${name}@${domain}` : name).slice(0, 512);
}

/**
 * A string literal of a visibility query: backslash and double quote escaped, so no value (an
 * attacker's user name) can end the literal and add a clause.
 */
export function visibilityLiteral(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
