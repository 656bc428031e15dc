/**
 * Windows events as Winlogbeat ships them (`winlog.*`): Sysmon event ID 1 (process create) and
 * Security event 4688 (a new process has been created; PIDs in hex).
 */
import { z } from 'zod';
import { SYSTEM_PROCESS_ID, UNKNOWN_PROCESS_NAME, type AlertProcess, type CanonicalAlert } from '../alert';
import type { FieldOrigins } from './errors';
import {
  compact,
  eventTime,
  optionalEventString,
  parseSysmonHashes,
  splitAccount,
  windowsBaseName,
  windowsPid,
} from './fields';

const winlogEnvelope = {
  '@timestamp': eventTime.optional(),
  host: z.looseObject({ hostname: z.string().optional(), name: z.string().optional() }).optional(),
  event: z.looseObject({ id: z.string().optional() }).optional(),
};

const winlogCommon = {
  event_id: z.union([z.number(), z.string()]),
  computer_name: z.string().min(1),
  record_id: z.union([z.number(), z.string()]).optional(),
  provider_name: z.string().optional(),
};

export const SysmonProcessCreateSchema = z.looseObject({
  ...winlogEnvelope,
  winlog: z.looseObject({
    ...winlogCommon,
    event_data: z.looseObject({
      UtcTime: eventTime,
      ProcessGuid: optionalEventString,
      ProcessId: windowsPid,
      Image: z.string().min(1),
      OriginalFileName: optionalEventString,
      CommandLine: optionalEventString,
      User: optionalEventString,
      LogonId: optionalEventString,
      TerminalSessionId: windowsPid.optional(),
      Hashes: optionalEventString,
      ParentProcessGuid: optionalEventString,
      ParentProcessId: windowsPid,
      // Empty or `-` when Sysmon could not read the parent (it had exited): the parent stays unknown.
      ParentImage: optionalEventString,
      ParentCommandLine: optionalEventString,
      ParentUser: optionalEventString,
    }),
  }),
});

export function fromSysmon(doc: z.infer<typeof SysmonProcessCreateSchema>): CanonicalAlert {
  const w = doc.winlog;
  const e = w.event_data;
  const user = e.User ? splitAccount(e.User) : undefined;
  const hashes = e.Hashes ? parseSysmonHashes(e.Hashes) : undefined;
  return compact({
    alertId: doc.event?.id ?? `sysmon-${w.computer_name}-${w.record_id ?? e.ProcessGuid ?? e.ProcessId}`,
    source: 'sysmon' as const,
    ruleName: 'Sysmon process create (event ID 1)',
    detectedAt: doc['@timestamp'] ?? e.UtcTime,
    host: { hostname: w.computer_name },
    user,
    session: compact({ id: e.TerminalSessionId, logonId: e.LogonId }),
    parent: compact({
      ...creatorImage(e.ParentProcessId, e.ParentImage),
      entityId: e.ParentProcessGuid,
      commandLine: e.ParentCommandLine,
      user: e.ParentUser ? splitAccount(e.ParentUser) : undefined,
    }),
    child: compact({
      pid: e.ProcessId,
      entityId: e.ProcessGuid,
      name: windowsBaseName(e.Image),
      executable: e.Image,
      commandLine: e.CommandLine,
      startTime: e.UtcTime,
      hashes: hashes && Object.keys(hashes).length > 0 ? hashes : undefined,
      originalFileName: e.OriginalFileName,
      user,
    }),
  });
}

export const Security4688Schema = z.looseObject({
  ...winlogEnvelope,
  '@timestamp': eventTime,
  winlog: z.looseObject({
    ...winlogCommon,
    event_data: z.looseObject({
      NewProcessId: windowsPid,
      NewProcessName: z.string().min(1),
      ProcessId: windowsPid,
      // Event version 2 (Windows Server 2016 and later) only; empty for the children of System.
      ParentProcessName: optionalEventString,
      CommandLine: optionalEventString,
      SubjectUserName: optionalEventString,
      SubjectDomainName: optionalEventString,
      SubjectUserSid: optionalEventString,
      SubjectLogonId: optionalEventString,
      TargetUserName: optionalEventString,
      TargetDomainName: optionalEventString,
      TargetUserSid: optionalEventString,
      TargetLogonId: optionalEventString,
    }),
  }),
});

type Security4688Data = z.infer<typeof Security4688Schema>['winlog']['event_data'];

/**
 * The new process runs as the Target account when one is given (e.g. runas), otherwise as the
 * Subject. Windows fills an unused Target with `-`, `S-1-0-0` and logon id `0x0`.
 */
function runsAsTarget(e: Security4688Data): boolean {
  return e.TargetUserName !== undefined;
}

export function fromSecurity4688(doc: z.infer<typeof Security4688Schema>): CanonicalAlert {
  const w = doc.winlog;
  const e = w.event_data;
  const target = runsAsTarget(e);
  const name = target ? e.TargetUserName : e.SubjectUserName;
  const user = name
    ? compact({
        name,
        domain: target ? e.TargetDomainName : e.SubjectDomainName,
        sid: target ? e.TargetUserSid : e.SubjectUserSid,
      })
    : undefined;
  return compact({
    alertId: doc.event?.id ?? `4688-${w.computer_name}-${w.record_id ?? `${e.NewProcessId}-${doc['@timestamp']}`}`,
    source: 'security-4688' as const,
    ruleName: 'Security event 4688 (process creation)',
    detectedAt: doc['@timestamp'],
    host: { hostname: w.computer_name },
    user,
    session: compact({ logonId: runsAsTarget(e) ? e.TargetLogonId : e.SubjectLogonId }),
    parent: creatorImage(e.ProcessId, e.ParentProcessName),
    child: compact({
      pid: e.NewProcessId,
      name: windowsBaseName(e.NewProcessName),
      executable: e.NewProcessName,
      commandLine: e.CommandLine,
      // 4688 is written when the process is created: the event time is the child's start time.
      startTime: doc['@timestamp'],
      user,
    }),
  });
}

/**
 * The creator as the event names it. Without an image path it is System when its PID is 4, and
 * otherwise unknown until the playbook resolves it on the host (`UNKNOWN_PROCESS_NAME`).
 */
function creatorImage(pid: number, image: string | undefined): Pick<AlertProcess, 'pid' | 'name' | 'executable'> {
  if (image) return { pid, name: windowsBaseName(image), executable: image };
  return { pid, name: pid === SYSTEM_PROCESS_ID ? 'System' : UNKNOWN_PROCESS_NAME };
}

const eventData = (field: string) => `winlog.event_data.${field}`;

function userOrigins(prefix: string, account: { name: string; domain?: string; sid?: string }): Record<string, string> {
  return {
    [`${prefix}.name`]: account.name,
    ...(account.domain ? { [`${prefix}.domain`]: account.domain } : {}),
    ...(account.sid ? { [`${prefix}.sid`]: account.sid } : {}),
  };
}

/** Canonical field → the Sysmon field it was read from (see fromSysmon). */
export function sysmonFieldOrigins(doc: z.infer<typeof SysmonProcessCreateSchema>): FieldOrigins {
  const user = { name: eventData('User'), domain: eventData('User') };
  return {
    alertId: doc.event?.id ? 'event.id' : 'winlog.computer_name',
    detectedAt: doc['@timestamp'] ? '@timestamp' : eventData('UtcTime'),
    'host.hostname': 'winlog.computer_name',
    ...userOrigins('user', user),
    ...userOrigins('child.user', user),
    ...userOrigins('parent.user', { name: eventData('ParentUser'), domain: eventData('ParentUser') }),
    'session.id': eventData('TerminalSessionId'),
    'session.logonId': eventData('LogonId'),
    'child.pid': eventData('ProcessId'),
    'child.entityId': eventData('ProcessGuid'),
    'child.name': eventData('Image'),
    'child.executable': eventData('Image'),
    'child.commandLine': eventData('CommandLine'),
    'child.startTime': eventData('UtcTime'),
    'child.hashes': eventData('Hashes'),
    'child.originalFileName': eventData('OriginalFileName'),
    'parent.pid': eventData('ParentProcessId'),
    'parent.entityId': eventData('ParentProcessGuid'),
    'parent.name': eventData('ParentImage'),
    'parent.executable': eventData('ParentImage'),
    'parent.commandLine': eventData('ParentCommandLine'),
  };
}

/** Canonical field → the 4688 field it was read from (see fromSecurity4688). */
export function security4688FieldOrigins(doc: z.infer<typeof Security4688Schema>): FieldOrigins {
  const who = runsAsTarget(doc.winlog.event_data) ? 'Target' : 'Subject';
  const user = {
    name: eventData(`${who}UserName`),
    domain: eventData(`${who}DomainName`),
    sid: eventData(`${who}UserSid`),
  };
  return {
    alertId: doc.event?.id ? 'event.id' : 'winlog.computer_name',
    detectedAt: '@timestamp',
    'host.hostname': 'winlog.computer_name',
    ...userOrigins('user', user),
    ...userOrigins('child.user', user),
    'session.logonId': eventData(`${who}LogonId`),
    'child.pid': eventData('NewProcessId'),
    'child.name': eventData('NewProcessName'),
    'child.executable': eventData('NewProcessName'),
    'child.commandLine': eventData('CommandLine'),
    'child.startTime': '@timestamp',
    'parent.pid': eventData('ProcessId'),
    'parent.name': eventData('ParentProcessName'),
    'parent.executable': eventData('ParentProcessName'),
  };
}
