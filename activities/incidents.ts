/**
 * The central activities that read other incidents from Temporal through the worker's own client.
 *
 * `findRelatedIncidents`: other incidents on the same host or for the same user in the last hours
 * ("other alerts for the same user or host in the past 48 hours", Elastic's triage guide), from
 * Temporal visibility through the worker's own client. Search attributes only: no worker is asked.
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { IncidentStatusSchema, type CentralActivities, type RelatedIncident } from '../common/incident-status';
import { statusQuery } from '../common/messages';
import { SA, shortHostname, visibilityLiteral, WORKFLOW_TYPES } from '../common/names';

/** The most related incidents listed (the newest first). */
export const MAX_RELATED_INCIDENTS = 20;

/**
 * The visibility query: playbook incidents started since `since`, on the host (its short name also
 * finds it under its full names) or for the user, other than the incident itself. Every value is a
 * string literal (`visibilityLiteral`): a crafted user or host name cannot add a clause.
 */
export function relatedIncidentsQuery(request: {
  workflowId: string;
  hostname: string;
  userName?: string;
  since: string;
}): string {
  const host = request.hostname.trim().toLowerCase();
  const short = shortHostname(host);
  const hostClauses = [`Hostname = ${visibilityLiteral(host)}`, `Hostname = ${visibilityLiteral(short)}`];
  hostClauses.push(`Hostname STARTS_WITH ${visibilityLiteral(`${short}.`)}`);
  const who = [...new Set(hostClauses)];
  if (request.userName) who.push(`UserName = ${visibilityLiteral(request.userName)}`);
  return [
    `WorkflowType = ${visibilityLiteral(WORKFLOW_TYPES.playbook)}`,
    `WorkflowId != ${visibilityLiteral(request.workflowId)}`,
    `StartTime > ${visibilityLiteral(request.since)}`,
    `(${who.join(' OR ')})`,
  ].join(' AND ');
}

export function createRelatedActivities(): Pick<CentralActivities, 'findRelatedIncidents'> {
  return {
    async findRelatedIncidents(request) {
      const client = Context.current().client;
      const limit = Math.min(request.limit ?? MAX_RELATED_INCIDENTS, MAX_RELATED_INCIDENTS);
      const short = shortHostname(request.hostname.trim().toLowerCase());
      // The incident's own chain (the closed incident it re-opens, its other re-openings) is the same
      // pair, not another incident; an incident an analyst undid is marked so.
      const chain = request.workflowId.replace(/\.reopened-\d+$/, '');
      const ownChain = (id: string) => id === chain || id.startsWith(`${chain}.reopened-`);
      const restored = await restoredIncidents(client, request.since);
      const found: RelatedIncident[] = [];
      for await (const execution of client.workflow.list({ query: relatedIncidentsQuery(request), pageSize: limit })) {
        if (ownChain(execution.workflowId)) continue;
        const attributes = execution.typedSearchAttributes;
        const hostname = attributes.get(SA.Hostname);
        const userName = attributes.get(SA.UserName);
        const matchedBy: RelatedIncident['matchedBy'] = [];
        if (hostname !== undefined && shortHostname(hostname) === short) matchedBy.push('host');
        if (request.userName && userName === request.userName) matchedBy.push('user');
        found.push({
          workflowId: execution.workflowId,
          startTime: execution.startTime.toISOString(),
          closeTime: execution.closeTime?.toISOString() ?? null,
          ...optional('hostname', hostname),
          ...optional('userName', userName),
          ...optional('parentProcessName', attributes.get(SA.ParentProcessName)),
          ...optional('processName', attributes.get(SA.ProcessName)),
          ...optional('verdict', attributes.get(SA.Verdict)),
          ...optional('riskScore', attributes.get(SA.RiskScore)),
          ...optional('outcome', attributes.get(SA.Outcome)),
          matchedBy,
          ...(restored.has(execution.workflowId) ? { restored: true } : {}),
        });
        if (found.length >= limit) break;
      }
      return found;
    },
  };
}

/** The incidents an analyst undid since `since` (a restore that put everything back), by workflow id. */
async function restoredIncidents(client: Client, since: string): Promise<Set<string>> {
  const undone = new Set<string>();
  const query = [
    `WorkflowType = ${visibilityLiteral(WORKFLOW_TYPES.restore)}`,
    `Outcome = ${visibilityLiteral('restored')}`,
    `StartTime > ${visibilityLiteral(since)}`,
  ].join(' AND ');
  for await (const execution of client.workflow.list({ query, pageSize: 100 })) {
    undone.add(execution.workflowId.replace(/\.restore-\d+$/, ''));
    if (undone.size >= 1_000) break;
  }
  return undone;
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

/**
 * `readIncidentStatus`: an incident's `status` query, open or closed (a closed one is answered by
 * replaying its history on this worker), validated. An unknown incident fails without retrying.
 */
export function createIncidentReader(): Pick<CentralActivities, 'readIncidentStatus'> {
  return {
    async readIncidentStatus({ workflowId }) {
      const client = Context.current().client;
      let answer: unknown;
      try {
        answer = await client.workflow.getHandle(workflowId).query(statusQuery);
      } catch (err) {
        const name = (err as Error).name;
        if (name === 'WorkflowNotFoundError') {
          throw ApplicationFailure.nonRetryable(`no incident ${workflowId}`, 'IncidentNotFound');
        }
        throw err;
      }
      const parsed = IncidentStatusSchema.safeParse(answer);
      if (!parsed.success) {
        throw ApplicationFailure.nonRetryable(`${workflowId} is not a spawnguard incident`, 'NotAnIncident');
      }
      return parsed.data;
    },
  };
}
