/**
 * The four accepted alert formats (DESIGN.md §3), as the products emit them, normalized to the
 * canonical alert; and documents that must be rejected, with the field at fault named.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlertFormatError, detectFormat, normalizeAlert } from '../../common/normalize';
import { expandDottedKeys } from '../../common/normalize/fields';
import { incidentWorkflowId } from '../../common/incident';
import { isUnknownProcess, UNKNOWN_PROCESS_NAME } from '../../common/alert';

// Fixtures are edited freely to build broken documents, so their shape is deliberately untyped.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;

function fixture(name: string): Doc {
  return JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'formats', `${name}.json`), 'utf8')) as Doc;
}

/** A deep copy of a fixture with `edit` applied, so each case starts from the realistic document. */
function variant(name: string, edit: (doc: Doc) => void): Doc {
  const doc = fixture(name);
  edit(doc);
  return doc;
}

function rejection(doc: unknown): AlertFormatError {
  try {
    normalizeAlert(doc);
  } catch (error) {
    if (error instanceof AlertFormatError) return error;
    throw error;
  }
  throw new Error('expected the document to be rejected');
}

const WORD = 'C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE';
const POWERSHELL = 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe';
const POWERSHELL_SHA256 = '86f51b17077aee2d7885528286a00aa632489cfee188cc99fbec881feb06dca7';

describe('normalizeAlert: accepted documents', () => {
  const cases: { name: string; doc: Doc; expected: Record<string, unknown> }[] = [
    {
      name: 'canonical alert (hashes lower-cased, offset kept)',
      doc: fixture('canonical'),
      expected: {
        source: 'canonical',
        alertId: 'soc-2024-0501-0042',
        severity: 'high',
        host: { hostname: 'WEB01.contoso.local', ip: ['10.20.30.41'], os: 'Windows Server 2019 Datacenter' },
        session: { id: 2, logonId: '0x3e7a2' },
        parent: { pid: 4312, name: 'WINWORD.EXE', signature: { status: 'valid', signer: 'Microsoft Corporation' } },
        child: { pid: 6120, hashes: { sha256: POWERSHELL_SHA256 }, startTime: '2024-05-01T12:11:12.345+02:00' },
      },
    },
    {
      name: 'Elastic Security alert (kibana.alert.* dotted keys beside the ECS event)',
      doc: fixture('elastic-alert'),
      expected: {
        source: 'elastic',
        alertId: '6d3c0b0a1f7e5f6b2b1e6a4f0c9d8e7f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d',
        ruleName: 'Suspicious MS Office Child Process',
        severity: 'medium',
        detectedAt: '2024-05-01T10:11:12.351Z',
        host: { hostname: 'WEB01', ip: ['10.20.30.41', 'fe80::5d1c:2b9e:71aa:4f03'] },
        user: { name: 'alice', domain: 'CONTOSO' },
        parent: {
          pid: 4312,
          executable: WORD,
          startTime: '2024-05-01T10:05:00.123Z',
          signature: { status: 'valid', signer: 'Microsoft Corporation' },
          originalFileName: 'WinWord.exe',
        },
        child: {
          pid: 6120,
          executable: POWERSHELL,
          hashes: { sha256: POWERSHELL_SHA256, md5: '2f2d399f0ea8844859fe5514b304733b' },
          signature: { status: 'valid', signer: 'Microsoft Windows' },
        },
      },
    },
    {
      name: 'plain ECS process event, all keys dotted, unsigned child, no alert id',
      doc: fixture('ecs-process-event'),
      expected: {
        source: 'elastic',
        alertId: 'ecs-APP02-7720-2024-05-01T10:11:12.351Z',
        host: { hostname: 'APP02', ip: ['10.20.31.7'] },
        parent: { pid: 5128, name: 'cmd.exe', executable: 'C:\\Windows\\System32\\cmd.exe' },
        child: { pid: 7720, executable: 'C:\\Users\\Public\\svchost.exe', signature: { status: 'unsigned' } },
      },
    },
    {
      name: 'Winlogbeat Sysmon event 1 (string PIDs, Hashes list, DOMAIN\\user, Sysmon UtcTime)',
      doc: fixture('sysmon-1'),
      expected: {
        source: 'sysmon',
        alertId: 'sysmon-WEB01.contoso.local-1844211',
        host: { hostname: 'WEB01.contoso.local' },
        user: { name: 'alice', domain: 'CONTOSO' },
        session: { id: 2, logonId: '0x3e7a2' },
        parent: {
          pid: 4312,
          entityId: '{7c1a3e9f-1a0c-6632-0f04-000000001700}',
          name: 'WINWORD.EXE',
          executable: WORD,
        },
        child: {
          pid: 6120,
          startTime: '2024-05-01T10:11:12.351Z',
          hashes: { sha256: POWERSHELL_SHA256, md5: '2f2d399f0ea8844859fe5514b304733b' },
          originalFileName: 'PowerShell.EXE',
        },
      },
    },
    {
      name: 'Winlogbeat Security 4688 (hex PIDs, unused Target account "-")',
      doc: fixture('security-4688'),
      expected: {
        source: 'security-4688',
        host: { hostname: 'WEB01.contoso.local' },
        user: { name: 'alice', domain: 'CONTOSO', sid: 'S-1-5-21-3623811015-3361044348-30300820-1104' },
        session: { logonId: '0x3e7a2' },
        parent: { pid: 0x10d8, name: 'WINWORD.EXE', executable: WORD },
        child: { pid: 0x17e8, name: 'powershell.exe', startTime: '2024-05-01T10:11:12.351Z' },
      },
    },
    {
      name: 'Security 4688 with upper-case hex and a runas Target account',
      doc: variant('security-4688', (d) => {
        d.winlog.event_data.NewProcessId = '0X1F4';
        d.winlog.event_data.ProcessId = '0xFFFF';
        Object.assign(d.winlog.event_data, {
          TargetUserName: 'adm-bob',
          TargetDomainName: 'CONTOSO',
          TargetUserSid: 'S-1-5-21-3623811015-3361044348-30300820-1500',
          TargetLogonId: '0x9c1f0',
        });
      }),
      expected: {
        user: { name: 'adm-bob', domain: 'CONTOSO' },
        session: { logonId: '0x9c1f0' },
        parent: { pid: 0xffff },
        child: { pid: 0x1f4 },
      },
    },
    {
      name: 'Sysmon event without the optional fields (no hashes, GUIDs, user, command lines)',
      doc: variant('sysmon-1', (d) => {
        const e = d.winlog.event_data;
        for (const field of [
          'Hashes',
          'ProcessGuid',
          'ParentProcessGuid',
          'User',
          'ParentUser',
          'CommandLine',
          'ParentCommandLine',
          'LogonId',
          'TerminalSessionId',
          'OriginalFileName',
        ])
          delete e[field];
      }),
      expected: {
        source: 'sysmon',
        parent: { pid: 4312, executable: WORD },
        child: { pid: 6120, executable: POWERSHELL },
      },
    },
    {
      name: 'Elastic alert without hashes, signatures or user',
      doc: variant('elastic-alert', (d) => {
        delete d.process.hash;
        delete d.process.code_signature;
        delete d.process.parent.hash;
        delete d.process.parent.code_signature;
        delete d.user;
      }),
      expected: { source: 'elastic', parent: { pid: 4312 }, child: { pid: 6120 } },
    },
  ];

  it.each(cases)('$name', ({ doc, expected }) => {
    expect(normalizeAlert(doc)).toMatchObject(expected);
  });

  it('leaves out what the document does not carry instead of inventing it', () => {
    const alert = normalizeAlert(cases[6]!.doc);
    expect(alert.user).toBeUndefined();
    expect(alert.child.hashes).toBeUndefined();
    expect(alert.child.commandLine).toBeUndefined();
    expect(alert.parent.entityId).toBeUndefined();
    const elastic = normalizeAlert(cases[7]!.doc);
    expect(elastic.child.hashes).toBeUndefined();
    expect(elastic.child.signature).toBeUndefined();
  });

  it('gives the same incident the same workflow id whichever format reported it', () => {
    const ids = ['canonical', 'elastic-alert', 'sysmon-1', 'security-4688'].map((name) =>
      incidentWorkflowId(normalizeAlert(fixture(name))),
    );
    expect(new Set(ids)).toEqual(new Set(['spawnguard-web01-4312-6120.20240501T101112Z']));
  });

  it('tells processes known only by their sensor id apart, however alike the ids look once stripped', () => {
    const byEntity = (entityId: string) => {
      const alert = normalizeAlert(fixture('canonical'));
      const { startTime: _started, ...child } = alert.child;
      return incidentWorkflowId({ ...alert, child: { ...child, entityId } });
    };
    expect(byEntity('{AAAA-BBBB}')).not.toBe(byEntity('AAAA.BBBB'));
    expect(byEntity('{AAAA-BBBB}')).toBe(byEntity('{AAAA-BBBB}'));
    expect(byEntity('{AAAA-BBBB}')).toMatch(/^spawnguard-web01-4312-6120\.e[0-9a-f]{20}$/);
  });

  it('recognizes each format by its own fields', () => {
    expect(detectFormat(fixture('canonical'))).toBe('canonical');
    expect(detectFormat(fixture('sysmon-1'))).toBe('sysmon');
    expect(detectFormat(fixture('security-4688'))).toBe('security-4688');
    expect(detectFormat(fixture('elastic-alert'))).toBe('elastic');
  });

  it('an event id or provider that is an object is no format, and a clear error, not a crash (fuzz seed -1866611496)', () => {
    const hostile = variant('security-4688', (d) => {
      d.winlog.event_id = { toString: 0 };
      d.winlog.provider_name = { toString: 0 };
    });
    expect(detectFormat(hostile)).toBe(undefined);
    expect(() => normalizeAlert(hostile)).toThrow(AlertFormatError);
    const sysmon = variant('sysmon-1', (d) => {
      d.winlog.provider_name = { valueOf: 0, toString: 0 };
    });
    expect(detectFormat(sysmon)).toBe('sysmon');
  });
});

describe('normalizeAlert: events that do not name the creator (DESIGN.md §6)', () => {
  /** Security 4688 as Windows Server 2008 R2 – 2012 R2 write it: event version 1, no ParentProcessName, no Target account. */
  const version1 = (edit: (d: Doc) => void = () => {}) =>
    variant('security-4688', (d) => {
      d.winlog.version = 1;
      for (const field of [
        'ParentProcessName',
        'TargetUserSid',
        'TargetUserName',
        'TargetDomainName',
        'TargetLogonId',
        'MandatoryLabel',
      ])
        delete d.winlog.event_data[field];
      edit(d);
    });

  it('accepts a 4688 version 1 event: the creator is its PID, named unknown until the host resolves it', () => {
    const alert = normalizeAlert(version1());
    expect(alert.parent).toEqual({ pid: 0x10d8, name: UNKNOWN_PROCESS_NAME });
    expect(isUnknownProcess(alert.parent)).toBe(true);
    expect(alert.child).toMatchObject({ pid: 0x17e8, name: 'powershell.exe' });
    expect(alert.user).toEqual({
      name: 'alice',
      domain: 'CONTOSO',
      sid: 'S-1-5-21-3623811015-3361044348-30300820-1104',
    });
  });

  it('accepts a 4688 version 0 event the same way', () => {
    const alert = normalizeAlert(
      version1((d) => {
        d.winlog.version = 0;
        delete d.winlog.event_data.TokenElevationType;
      }),
    );
    expect(isUnknownProcess(alert.parent)).toBe(true);
  });

  it('names the creator System when a 4688 gives PID 4 and an empty parent name (a child of System)', () => {
    const alert = normalizeAlert(
      variant('security-4688', (d) => {
        d.winlog.event_data.ParentProcessName = '';
        d.winlog.event_data.ProcessId = '0x4';
        d.winlog.event_data.NewProcessName = 'C:\\Windows\\System32\\smss.exe';
      }),
    );
    expect(alert.parent).toEqual({ pid: 4, name: 'System' });
    expect(isUnknownProcess(alert.parent)).toBe(false);
  });

  it('keeps an empty or "-" parent name of another PID unknown, never guessed', () => {
    for (const empty of ['', '-']) {
      const alert = normalizeAlert(variant('security-4688', (d) => (d.winlog.event_data.ParentProcessName = empty)));
      expect(alert.parent).toEqual({ pid: 0x10d8, name: UNKNOWN_PROCESS_NAME });
    }
  });

  it('accepts a Sysmon event 1 without ParentImage (the parent had exited), keeping its PID and GUID', () => {
    const alert = normalizeAlert(variant('sysmon-1', (d) => (d.winlog.event_data.ParentImage = '-')));
    expect(alert.parent).toMatchObject({ pid: 4312, name: UNKNOWN_PROCESS_NAME });
    expect(alert.parent.executable).toBeUndefined();
    expect(alert.parent.entityId).toBe('{7c1a3e9f-1a0c-6632-0f04-000000001700}');
  });

  it('accepts an older Sysmon event without ParentUser, OriginalFileName and Hashes', () => {
    const alert = normalizeAlert(
      variant('sysmon-1', (d) => {
        for (const field of ['ParentUser', 'OriginalFileName', 'Hashes']) delete d.winlog.event_data[field];
      }),
    );
    expect(alert.parent.name).toBe('WINWORD.EXE');
    expect(alert.child.originalFileName).toBeUndefined();
    expect(alert.child.hashes).toBeUndefined();
  });

  it('accepts an ECS event whose parent has only its PID', () => {
    const alert = normalizeAlert(
      variant('ecs-process-event', (d) => {
        delete d['process.parent.name'];
        delete d['process.parent.executable'];
      }),
    );
    expect(isUnknownProcess(alert.parent)).toBe(true);
  });

  it('cannot be made to name a real process unknown: "<" and ">" never occur in a Windows file name', () => {
    expect(UNKNOWN_PROCESS_NAME).toMatch(/[<>]/);
    const named = normalizeAlert(variant('sysmon-1', (d) => (d.winlog.event_data.ParentImage = 'C:\\x\\<unknown>')));
    expect(isUnknownProcess(named.parent)).toBe(false);
  });
});

describe('normalizeAlert: rejected documents name the field at fault', () => {
  const cases: { name: string; doc: unknown; field: string; message?: RegExp }[] = [
    { name: 'not an object', doc: ['an', 'array'], field: '', message: /JSON object/ },
    { name: 'unknown format', doc: { hello: 'world' }, field: '', message: /unrecognized format/ },
    {
      name: 'canonical: child PID is text',
      doc: variant('canonical', (d) => (d.child.pid = 'six thousand')),
      field: 'child.pid',
    },
    {
      name: 'canonical: hostname with a shell metacharacter',
      doc: variant('canonical', (d) => (d.host.hostname = 'web01;rm -rf /')),
      field: 'host.hostname',
      message: /host name/,
    },
    {
      name: 'canonical: malformed SHA-256',
      doc: variant('canonical', (d) => (d.child.hashes.sha256 = 'abc123')),
      field: 'child.hashes.sha256',
    },
    {
      name: 'canonical: missing parent',
      doc: variant('canonical', (d) => delete d.parent),
      field: '',
      message: /unrecognized format/,
    },
    {
      name: 'Sysmon: ParentProcessId missing (said so, not "Invalid input")',
      doc: variant('sysmon-1', (d) => delete d.winlog.event_data.ParentProcessId),
      field: 'winlog.event_data.ParentProcessId',
      message: /winlog\.event_data\.ParentProcessId: missing \(the field is required\)(;|$)/,
    },
    {
      name: 'canonical: child PID missing',
      doc: variant('canonical', (d) => delete d.child.pid),
      field: 'child.pid',
      message: /child\.pid: missing \(the field is required\)(;|$)/,
    },
    {
      name: 'Sysmon: hex-looking garbage PID',
      doc: variant('sysmon-1', (d) => (d.winlog.event_data.ProcessId = '0xZZZZ')),
      field: 'winlog.event_data.ProcessId',
      message: /not a process id/,
    },
    {
      name: 'Sysmon: impossible UtcTime',
      doc: variant('sysmon-1', (d) => (d.winlog.event_data.UtcTime = '2024-02-30 10:11:12.351')),
      field: 'winlog.event_data.UtcTime',
      message: /not a timestamp/,
    },
    {
      name: '4688: PID beyond 32 bits',
      doc: variant('security-4688', (d) => (d.winlog.event_data.NewProcessId = '0x1FFFFFFFF')),
      field: 'winlog.event_data.NewProcessId',
    },
    {
      name: '4688: invalid computer name',
      doc: variant('security-4688', (d) => (d.winlog.computer_name = 'web 01$(calc)')),
      field: 'winlog.computer_name',
    },
    {
      name: 'ECS: missing @timestamp',
      doc: variant('ecs-process-event', (d) => delete d['@timestamp']),
      field: '@timestamp',
    },
  ];

  it.each(cases)('$name → $field', ({ doc, field, message }) => {
    const error = rejection(doc);
    expect(error.problems.map((p) => p.field)).toContain(field);
    if (message) expect(error.message).toMatch(message);
  });

  it('ignores __proto__ keys instead of polluting Object.prototype', () => {
    const doc = JSON.parse(JSON.stringify(fixture('ecs-process-event')).replace('{', '{"__proto__.polluted": "yes",'));
    normalizeAlert(doc);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('expandDottedKeys', () => {
  it('merges dotted and nested spellings of one object, whichever comes first', () => {
    const dottedFirst = { 'process.parent.pid': 1, process: { name: 'a.exe', parent: { name: 'b.exe' } } };
    const nestedFirst = { process: { name: 'a.exe', parent: { name: 'b.exe' } }, 'process.parent.pid': 1 };
    const expected = { process: { name: 'a.exe', parent: { name: 'b.exe', pid: 1 } } };
    expect(expandDottedKeys(dottedFirst)).toEqual(expected);
    expect(expandDottedKeys(nestedFirst)).toEqual(expected);
  });

  it('expands inside arrays and leaves the input unchanged', () => {
    const input = { hits: [{ 'a.b': 1 }, { a: { c: 2 } }], plain: { x: [1, 2] } };
    const copy = structuredClone(input);
    expect(expandDottedKeys(input)).toEqual({ hits: [{ a: { b: 1 } }, { a: { c: 2 } }], plain: { x: [1, 2] } });
    expect(input).toEqual(copy);
  });

  it('drops __proto__ keys, plain or as a dotted segment', () => {
    const input = JSON.parse('{"__proto__": {"polluted": 1}, "a.__proto__.b": 2, "c": {"__proto__": {"x": 1}}}');
    const out = expandDottedKeys(input) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['c']);
    expect(Object.keys(out.c as object)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
