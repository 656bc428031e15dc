/**
 * Hostile input, generated: fast-check throws thousands of malformed documents at the ingest
 * service and hostile strings at the host-side request builders. Malformed input gets a 4xx or a
 * typed validation error and starts nothing; nothing crashes; strings reach PowerShell only as data.
 */
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import fc from 'fast-check';
import {
  encodeRequest,
  powershellArguments,
  POWERSHELL_FLAGS,
  REQUEST_FROM_STDIN,
  REQUEST_PARAMETER,
} from '../../activities/host/runner';
import { assertLogoffAllowed, assertProcessTargetsAllowed } from '../../activities/host/safety';
import { normalizeAlert, AlertFormatError } from '../../common/normalize';
import {
  StopAndQuarantineRequestSchema,
  StopProcessRequestSchema,
  TerminateSessionRequestSchema,
} from '../../common/host-contract';
import { alertDocument, freshHostname, startTestIngest, type TestIngest } from '../ingest/support';
import { testClient } from '../support/temporal';

jest.setTimeout(180_000);

/** Strings that mean something to PowerShell, cmd, JSON or a terminal. */
const INJECTIONS = [
  '$(Stop-Computer -Force)',
  '`$env:TEMP`',
  "'; Remove-Item C:\\ -Recurse; '",
  '"; Stop-Process -Name lsass; "',
  '‘’“”„‚ – smart quotes',
  '& calc.exe',
  '| Out-File C:\\pwned.txt',
  'line1\nline2\r\nInvoke-Expression x',
  'nul\u0000byte',
  '%SystemRoot%\\System32\\cmd.exe /c whoami',
  '@(1,2) + $null',
  '\u202eexe.txt',
];
const hostileString = fc.oneof(
  fc.constantFrom(...INJECTIONS),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.string(),
);

let client: Client;
let ingest: TestIngest;
beforeAll(async () => {
  client = await testClient();
  ingest = await startTestIngest(client);
});
afterAll(() => ingest.close());

/** Sets `path` (a list of keys) in a deep copy of `doc` to `value`. */
function mutate(doc: unknown, path: string[], value: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
  let node: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
  return copy;
}

const FIELD_PATHS = [
  ['winlog', 'event_data', 'ProcessId'],
  ['winlog', 'event_data', 'ParentProcessId'],
  ['winlog', 'event_data', 'Image'],
  ['winlog', 'event_data', 'UtcTime'],
  ['winlog', 'event_data', 'Hashes'],
  ['winlog', 'event_data', 'User'],
  ['winlog', 'event_data', 'CommandLine'],
  ['winlog', 'computer_name'],
  ['winlog', 'event_id'],
  ['winlog'],
  ['@timestamp'],
];

describe('the ingest service under generated input', () => {
  it('answers every document with 202 or a 4xx that explains itself, never a 5xx, and starts only what it acknowledges', async () => {
    const base = alertDocument('sysmon-1', freshHostname());
    const documents = fc.oneof(
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
      {
        weight: 3,
        arbitrary: fc
          .tuple(fc.constantFrom(...FIELD_PATHS), fc.oneof(hostileString, fc.jsonValue({ maxDepth: 2 })))
          .map(([path, value]) => mutate(base, path, value)),
      },
    );
    const acknowledged = new Set<string>();
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(documents, async (document) => {
        const response = await ingest.post('/v1/alerts', document);
        const body = (await response.json()) as {
          workflowId?: string;
          results?: { workflowId: string }[];
          message?: string;
        };
        if (response.status === 202) {
          for (const id of body.results?.map((r) => r.workflowId) ?? [body.workflowId!]) acknowledged.add(id);
          return;
        }
        refused++;
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
        expect(typeof body.message).toBe('string');
      }),
      { numRuns: 1_000 },
    );
    expect(refused).toBeGreaterThan(500);

    // Exactly the acknowledged incidents exist on the ingest's queue: no refused document started one.
    const started = new Set<string>();
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // visibility is eventually consistent
    for await (const execution of client.workflow.list({ query: `TaskQueue = "${ingest.taskQueue}"` })) {
      started.add(execution.workflowId);
    }
    expect([...started].sort()).toEqual([...acknowledged].sort());
  });

  it('normalizeAlert refuses every malformed document with a typed AlertFormatError and never throws anything else', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (document) => {
        try {
          normalizeAlert(document);
        } catch (err) {
          expect(err).toBeInstanceOf(AlertFormatError);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('host-side request building under hostile strings', () => {
  const pid = fc.integer({ min: 0, max: 0xffffffff });
  const target = fc.record(
    { pid, imagePath: hostileString, name: hostileString, startTime: hostileString },
    { requiredKeys: ['pid'] },
  );
  const stopRequest = fc.record({
    incidentId: hostileString,
    targets: fc.array(target, { minLength: 1, maxLength: 4 }),
    includeDescendants: fc.boolean(),
  });
  const quarantineRequest = fc.record({
    incidentId: hostileString,
    targets: fc.array(target, { minLength: 1, maxLength: 4 }),
    quarantineDirectory: hostileString,
    trustedPublishers: fc.array(hostileString, { maxLength: 3 }),
  });
  const logoffRequest = fc.record({
    incidentId: hostileString,
    users: fc.array(fc.record({ name: hostileString, domain: hostileString }), { minLength: 1, maxLength: 3 }),
    remoteIp: hostileString,
  });

  /** Valid requests travel only on stdin, never in argv; invalid ones are refused before anything is spawned. */
  function checkRequest(
    schema:
      typeof StopProcessRequestSchema | typeof StopAndQuarantineRequestSchema | typeof TerminateSessionRequestSchema,
    raw: unknown,
    guard: (request: never) => void,
  ) {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) return; // a typed validation error: the activity maps it to InvalidRequest
    try {
      guard(parsed.data as never);
    } catch (err) {
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect((err as ApplicationFailure).nonRetryable).toBe(true);
      return;
    }
    // Nothing of the request is on the command line: it is the same for every request...
    const argv = powershellArguments('C:\\spawnguard\\powershell\\StopProcess.ps1');
    expect(argv).toEqual([
      ...POWERSHELL_FLAGS,
      '-ExecutionPolicy',
      'Bypass',
      '-File',
      'C:\\spawnguard\\powershell\\StopProcess.ps1',
      REQUEST_PARAMETER,
      REQUEST_FROM_STDIN,
    ]);
    // ...and stdin carries exactly the validated request, as UTF-8 JSON.
    expect(JSON.parse(encodeRequest(parsed.data).toString('utf8'))).toEqual(parsed.data);
  }

  it('stop requests', () => {
    fc.assert(
      fc.property(stopRequest, (raw) =>
        checkRequest(StopProcessRequestSchema, raw, (r: { targets: never[] }) =>
          assertProcessTargetsAllowed(r.targets, 'stop', [process.pid]),
        ),
      ),
      { numRuns: 1_500 },
    );
  });

  it('stop-and-quarantine requests', () => {
    fc.assert(
      fc.property(quarantineRequest, (raw) =>
        checkRequest(StopAndQuarantineRequestSchema, raw, (r: { targets: never[] }) =>
          assertProcessTargetsAllowed(r.targets, 'stop-and-quarantine', [process.pid]),
        ),
      ),
      { numRuns: 1_500 },
    );
  });

  it('logoff requests', () => {
    fc.assert(
      fc.property(logoffRequest, (raw) =>
        checkRequest(TerminateSessionRequestSchema, raw, (r: { users: never[] }) =>
          assertLogoffAllowed(r.users, false),
        ),
      ),
      { numRuns: 1_500 },
    );
  });
});
