/**
 * The scripts against the contract of common/host-contract.ts and the runner:
 * - each script's param() block is what the runner sends (checked on the command line the real
 *   runner builds, captured by the PowerShell stand-in) plus analyst parameters that map onto the
 *   request schema's fields;
 * - the request fields each script reads are exactly the schema's;
 * - the result objects the scripts build have exactly the result schemas' keys and values;
 * - the PowerShell protected lists agree with common/windows/protected.ts.
 */
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node } from 'web-tree-sitter';
import { z } from 'zod';
import { runScript } from '../../activities/host/runner';
import { buildManifest } from '../../activities/host/script-manifest';
import { HOST_SCRIPTS, scriptFileName, type HostScriptName } from '../../activities/host/scripts';
import {
  ActionStatusSchema,
  FetchPersistenceRequestSchema,
  FileEnrichmentRequestSchema,
  FileFactsSchema,
  PERSISTENCE_KINDS,
  PersistenceBackupSchema,
  PersistenceEntryRefSchema,
  PersistenceEntrySchema,
  PersistenceRemovalItemSchema,
  ProcessActionResultSchema,
  ProcessInfoSchema,
  TerminateTargetSchema,
  ProcessTreeRequestSchema,
  QuarantineRecordSchema,
  REMOVABLE_PERSISTENCE_KINDS,
  RemovePersistenceRequestSchema,
  RestorePersistenceRequestSchema,
  RestorePersistenceResultSchema,
  RestoreRequestSchema,
  RestoreResultSchema,
  ScriptErrorSchema,
  SessionActionResultSchema,
  StopAndQuarantineRequestSchema,
  StopProcessRequestSchema,
  TerminateSessionRequestSchema,
  scriptResultSchema,
} from '../../common/host-contract';
import {
  CRITICAL_PROCESS_NAMES,
  POWERSHELL_NAMES,
  PROTECTED_PIDS,
  SERVICE_ACCOUNTS,
  SHARED_HOST_NAMES,
  isInSystemDirectory,
  isMicrosoftSigner,
  isServiceAccount,
} from '../../common/windows';
import { SYSTEM_BINARIES } from '../../workflows/decision/rules';
import { POWERSHELL_DIR } from './parse';
import {
  assignments,
  castHashLiterals,
  commandCalls,
  functionInfos,
  scriptParameters,
  scriptScopeVariables,
  stringLiterals,
} from './rules';
import { loadSources, PROTECTED_LISTS, SAFETY_MODULE, safetyModuleFiles, type ParsedSource } from './sources';

type AnyObject = z.ZodObject<z.ZodRawShape>;

interface ScriptContract {
  request: AnyObject;
  /** A request the worker could send (hostile text included: it must travel only as base64). */
  sample: Record<string, unknown>;
  /** Script parameter → [PowerShell type, request field it stands for]. */
  parameters: Record<string, [string, string | null]>;
  /** Nested request objects whose fields the script (or the module) reads too. */
  nested?: Record<string, AnyObject>;
}

const HOSTILE = `INC-1"; Remove-Item -Recurse C:\\ ; $(calc) \`n '`;
const processTarget = {
  pid: 4321,
  imagePath: 'C:\\Users\\Public\\invoice.exe',
  startTime: '2024-05-01T10:00:00Z',
  name: 'invoice.exe',
};

const CONTRACTS: Record<HostScriptName, ScriptContract> = {
  StopProcess: {
    request: StopProcessRequestSchema,
    sample: { incidentId: HOSTILE, targets: [processTarget], includeDescendants: true },
    parameters: {
      ProcessIdentifiers: ['string[]', 'targets'],
      ImagePath: ['string', 'targets'],
      NoDescendants: ['switch', 'includeDescendants'],
      IncidentId: ['string', 'incidentId'],
      Request: ['string', null],
    },
    nested: { targets: TerminateTargetSchema },
  },
  StopAndQuarantineProcess: {
    request: StopAndQuarantineRequestSchema,
    sample: {
      incidentId: HOSTILE,
      targets: [processTarget],
      includeDescendants: false,
      quarantineDirectory: 'D:\\Quarantine',
      trustedPublishers: ['Contoso Ltd'],
    },
    parameters: {
      ProcessIdentifiers: ['string[]', 'targets'],
      QuarantineDirectory: ['string', 'quarantineDirectory'],
      TrustedPublishers: ['string[]', 'trustedPublishers'],
      NoDescendants: ['switch', 'includeDescendants'],
      IncidentId: ['string', 'incidentId'],
      Request: ['string', null],
    },
    nested: { targets: TerminateTargetSchema },
  },
  RestoreQuarantinedFile: {
    request: RestoreRequestSchema,
    sample: { incidentId: HOSTILE, sha256: 'a'.repeat(64), overwrite: true },
    parameters: {
      Sha256: ['string', 'sha256'],
      QuarantineDirectory: ['string', 'quarantineDirectory'],
      Overwrite: ['switch', 'overwrite'],
      IncidentId: ['string', 'incidentId'],
      Request: ['string', null],
    },
  },
  TerminateSession: {
    request: TerminateSessionRequestSchema,
    sample: {
      incidentId: HOSTILE,
      users: [{ name: 'bob', domain: 'CONTOSO' }],
      rdpOnly: true,
      remoteIp: '203.0.113.9',
    },
    parameters: {
      UserNames: ['string[]', 'users'],
      SessionIds: ['int[]', 'sessionIds'],
      ProcessIdentifiers: ['string[]', 'processes'],
      RdpOnly: ['switch', 'rdpOnly'],
      RemoteIp: ['string', 'remoteIp'],
      ListOnly: ['switch', 'listOnly'],
      IncidentId: ['string', 'incidentId'],
      Request: ['string', null],
    },
    nested: { users: z.object({ name: z.string(), domain: z.string().optional() }), processes: TerminateTargetSchema },
  },
  FetchPersistenceEntries: {
    request: FetchPersistenceRequestSchema,
    sample: { incidentId: HOSTILE, referencePaths: ['C:\\Users\\Public\\invoice.exe'] },
    parameters: {
      ReferencePaths: ['string[]', 'referencePaths'],
      IncidentId: ['string', 'incidentId'],
      Request: ['string', null],
    },
  },
  GetFileEnrichment: {
    request: FileEnrichmentRequestSchema,
    sample: { paths: ['C:\\Users\\Public\\invoice.exe', 'C:\\Windows\\System32\\cmd.exe'] },
    parameters: { Paths: ['string[]', 'paths'], Request: ['string', null] },
  },
  GetProcessTree: {
    request: ProcessTreeRequestSchema,
    sample: { processIds: [4321, 0x4d2] },
    parameters: { ProcessIds: ['string[]', 'processIds'], Request: ['string', null] },
  },
  RemovePersistenceEntry: {
    request: RemovePersistenceRequestSchema,
    sample: {
      incidentId: HOSTILE,
      entries: [
        {
          kind: 'run-key',
          location: 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run',
          name: HOSTILE,
          matchedPath: 'C:\\Users\\Public\\invoice.exe',
        },
      ],
      backupDirectory: 'D:\\Backups',
      quarantineDirectory: 'D:\\Quarantine',
      trustedPublishers: ['Contoso Ltd'],
    },
    parameters: {
      Kind: ['string', 'entries'],
      Location: ['string', 'entries'],
      Name: ['string', 'entries'],
      MatchedPath: ['string', 'entries'],
      BackupDirectory: ['string', 'backupDirectory'],
      QuarantineDirectory: ['string', 'quarantineDirectory'],
      TrustedPublishers: ['string[]', 'trustedPublishers'],
      IncidentId: ['string', 'incidentId'],
      Request: ['string', null],
    },
    nested: { entries: PersistenceEntryRefSchema },
  },
  RestorePersistenceEntry: {
    request: RestorePersistenceRequestSchema,
    sample: { incidentId: HOSTILE, backupIds: ['a'.repeat(64)], backupDirectory: 'D:\\Backups' },
    parameters: {
      BackupIds: ['string[]', 'backupIds'],
      BackupDirectory: ['string', 'backupDirectory'],
      QuarantineDirectory: ['string', 'quarantineDirectory'],
      IncidentId: ['string', 'incidentId'],
      Request: ['string', null],
    },
  },
};

const scriptNames = Object.keys(HOST_SCRIPTS) as HostScriptName[];

let sources: ParsedSource[] = [];
const source = (name: string): ParsedSource => {
  const found = sources.find((s) => s.name === name);
  if (!found) throw new Error(`${name} not found under powershell/`);
  return found;
};

beforeAll(async () => {
  sources = await loadSources();
});

/**
 * The function `name` of `owner`: a script's file name, or SAFETY_MODULE for the safety module
 * (defined in exactly one of its files).
 */
function functionNode(owner: string, name: string): Node {
  const files = owner === SAFETY_MODULE ? safetyModuleFiles(sources) : [source(owner)];
  const found = files.flatMap((file) => functionInfos(file.tree.rootNode).filter((f) => f.name === name));
  if (found.length !== 1) throw new Error(`${owner} defines ${found.length} functions named ${name}, not one`);
  return found[0]!.node;
}

/** Keys of every `[ordered]@{...}` literal that is returned by `return` in a function. */
function returnedKeys(owner: string, functionName: string): string[][] {
  return castHashLiterals(functionNode(owner, functionName), 'ordered')
    .filter(({ node }) => {
      for (let n = node.parent; n; n = n.parent) {
        if (n.type === 'flow_control_statement') return n.text.startsWith('return');
        if (n.type === 'hash_literal_expression') return false;
      }
      return false;
    })
    .map(({ keys }) => keys);
}

/** Every `[ordered]@{...}` key list in a function (top-level literals only, nested ones apart). */
function orderedKeys(owner: string, functionName: string): string[][] {
  return castHashLiterals(functionNode(owner, functionName), 'ordered').map(({ keys }) => keys);
}

const keysOf = (schema: AnyObject) => Object.keys(schema.shape).sort();

/** The `-Name '<field>'` literals of Get-SpawnGuardRequestValue calls inside a node. */
function requestFieldsRead(node: Node): string[] {
  return commandCalls(node)
    .filter((call) => call.name === 'Get-SpawnGuardRequestValue')
    .flatMap((call) => {
      const at = call.elements.findIndex((e) => e.kind === 'parameter' && e.name === 'Name');
      const value = call.elements[at + 1];
      return value ? stringLiterals(value.node) : [];
    });
}

describe('script parameters', () => {
  it.each(scriptNames)(
    '%s declares the runner parameter and analyst parameters that map onto its request schema',
    (name) => {
      const contract = CONTRACTS[name];
      const declared = Object.fromEntries(
        scriptParameters(source(scriptFileName(name)).tree).map((p) => [p.name, p.type]),
      );
      expect(declared).toEqual(
        Object.fromEntries(Object.entries(contract.parameters).map(([param, [type]]) => [param, type])),
      );
      const fields = Object.values(contract.parameters)
        .map(([, field]) => field)
        .filter((field): field is string => field !== null);
      // Every schema field can be given by hand, and every mapped field exists in the schema.
      expect([...new Set(fields)].sort()).toEqual(keysOf(contract.request));
    },
  );

  it.each(scriptNames)('%s reads exactly the request fields of its schema', (name) => {
    const contract = CONTRACTS[name];
    const script = source(scriptFileName(name));
    const read = new Set(requestFieldsRead(script.tree.rootNode));
    // Process targets are read by the safety module's ConvertFrom-SpawnGuardTargetRequest.
    if (commandCalls(script.tree.rootNode).some((call) => call.name === 'ConvertFrom-SpawnGuardTargetRequest')) {
      for (const field of requestFieldsRead(functionNode(SAFETY_MODULE, 'ConvertFrom-SpawnGuardTargetRequest')))
        read.add(field);
      // TerminateSession hands its 'processes' to that function under the name it reads, 'targets'.
      if (!keysOf(contract.request).includes('targets')) read.delete('targets');
    }
    const expected = new Set(keysOf(contract.request));
    for (const [field, schema] of Object.entries(contract.nested ?? {})) {
      expect(expected.has(field)).toBe(true);
      for (const key of keysOf(schema)) expected.add(key);
    }
    expect([...read].sort()).toEqual([...expected].sort());
  });
});

describe('what the runner sends', () => {
  let root: string;
  let scriptsDirectory: string;
  let powershellPath: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'spawnguard-ps-contract-'));
    scriptsDirectory = join(root, 'powershell');
    mkdirSync(scriptsDirectory);
    mkdirSync(join(root, 'bin'));
    // The real scripts and module folder (the stand-in writes argv.jsonl next to them, so a copy):
    // the runner checks the module's files against the manifest built here.
    for (const file of readdirSync(POWERSHELL_DIR)) {
      if (/\.(ps1|psm1)$/.test(file)) copyFileSync(join(POWERSHELL_DIR, file), join(scriptsDirectory, file));
    }
    cpSync(join(POWERSHELL_DIR, SAFETY_MODULE), join(scriptsDirectory, SAFETY_MODULE), { recursive: true });
    powershellPath = join(root, 'bin', 'powershell');
    copyFileSync(join(__dirname, '..', 'host', 'fixtures', 'powershell-standin.js'), powershellPath);
    chmodSync(powershellPath, 0o755);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it.each(scriptNames)(
    '%s: every argument after the script names a declared parameter; the request travels on stdin, not the command line',
    async (name) => {
      const contract = CONTRACTS[name];
      const manifest = await buildManifest(scriptsDirectory);
      await runScript(name, contract.sample, { scriptsDirectory, manifest, powershellPath, timeoutMs: 30_000 });

      const records = readFileSync(join(scriptsDirectory, 'argv.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { argv: string[]; request: unknown });
      const record = records.find((r) => r.argv[r.argv.indexOf('-File') + 1]?.endsWith(scriptFileName(name)));
      expect(record).toBeDefined();
      const argv = record!.argv;
      const afterScript = argv.slice(argv.indexOf('-File') + 2);
      const declared = scriptParameters(source(scriptFileName(name)).tree).map((p) => p.name);
      // '-' alone is the Request parameter's value (stdin), not a parameter name.
      const named = afterScript.filter((arg) => arg.startsWith('-') && arg !== '-').map((arg) => arg.slice(1));
      expect(named.length).toBeGreaterThan(0);
      for (const parameter of named) expect(declared).toContain(parameter);

      // -Request - : the request is read from stdin, so nothing of it reaches the command line.
      expect(afterScript).toEqual(['-Request', '-']);
      expect(argv.join(' ')).not.toContain('Remove-Item');
      expect(record!.request).toEqual(contract.sample);
      expect(contract.request.safeParse(record!.request).success).toBe(true);
    },
  );
});

describe('result objects built by the scripts', () => {
  it('the result document and its errors have the contract keys', () => {
    const documentSchema = scriptResultSchema(z.unknown());
    expect(orderedKeys(SAFETY_MODULE, 'Write-SpawnGuardResult').map((k) => [...k].sort())).toEqual([
      keysOf(documentSchema),
    ]);
    expect(orderedKeys(SAFETY_MODULE, 'Add-SpawnGuardError').map((k) => [...k].sort())).toEqual([
      keysOf(ScriptErrorSchema),
    ]);
  });

  it.each([
    ['process action results', SAFETY_MODULE, 'New-SpawnGuardProcessActionResult', ProcessActionResultSchema],
    ['quarantine records (new)', SAFETY_MODULE, 'Move-SpawnGuardFileToQuarantine', QuarantineRecordSchema],
    ['quarantine records (existing)', SAFETY_MODULE, 'Find-SpawnGuardQuarantineRecord', QuarantineRecordSchema],
    ['session results', 'TerminateSession.ps1', 'New-SessionItem', SessionActionResultSchema],
    [
      'restore results',
      'RestoreQuarantinedFile.ps1',
      'New-RestoreItem',
      RestoreResultSchema.shape.results.element as AnyObject,
    ],
    ['process information', 'GetProcessTree.ps1', 'New-ProcessInfo', ProcessInfoSchema],
    ['persistence removals', 'RemovePersistenceEntry.ps1', 'New-RemovalItem', PersistenceRemovalItemSchema],
    ['persistence backups', 'RemovePersistenceEntry.ps1', 'New-BackupReference', PersistenceBackupSchema],
    [
      'persistence restores',
      'RestorePersistenceEntry.ps1',
      'New-RestoreItem',
      RestorePersistenceResultSchema.shape.results.element as AnyObject,
    ],
  ])('%s: every returned object has exactly the schema keys', (_what, file, fn, schema) => {
    const returned = returnedKeys(file, fn);
    expect(returned.length).toBeGreaterThan(0);
    for (const keys of returned) expect([...keys].sort()).toEqual(keysOf(schema));
  });

  it('process information: parent chain and descendant entries have the schema keys', () => {
    const all = orderedKeys('GetProcessTree.ps1', 'New-ProcessInfo').map((k) => [...k].sort().join(','));
    const chainItem = (ProcessInfoSchema.shape.parentChain.unwrap() as z.ZodArray<AnyObject>).element;
    const descendantItem = (ProcessInfoSchema.shape.descendants.unwrap() as z.ZodArray<AnyObject>).element;
    expect(all).toContain(keysOf(chainItem).join(','));
    expect(all).toContain(keysOf(descendantItem).join(','));
  });

  it('file facts, their signature and version info have the schema keys', () => {
    const facts = orderedKeys('GetFileEnrichment.ps1', 'Get-FileFacts').map((k) => [...k].sort().join(','));
    expect(facts).toContain(keysOf(FileFactsSchema).join(','));
    const signature = FileFactsSchema.shape.signature.unwrap().unwrap() as AnyObject;
    expect(facts).toContain(keysOf(signature).join(','));
    const versionInfo = FileFactsSchema.shape.versionInfo.unwrap().unwrap() as AnyObject;
    expect(orderedKeys(SAFETY_MODULE, 'Get-SpawnGuardVersionInfo').map((k) => [...k].sort().join(','))).toEqual([
      keysOf(versionInfo).join(','),
    ]);
  });

  it('persistence entries have the schema keys, and every kind in the contract is collected', () => {
    const script = source('FetchPersistenceEntries.ps1');
    expect(orderedKeys(script.name, 'Add-PersistenceEntry').map((k) => [...k].sort())).toEqual([
      keysOf(PersistenceEntrySchema),
    ]);
    const kinds = new Set(
      commandCalls(script.tree.rootNode).flatMap((call) => {
        const at = call.elements.findIndex((e) => e.kind === 'parameter' && e.name === 'Kind');
        const value = at >= 0 ? call.elements[at + 1] : undefined;
        return value ? stringLiterals(value.node) : [];
      }),
    );
    expect([...kinds].sort()).toEqual([...PERSISTENCE_KINDS].sort());
  });

  it('statuses are the contract statuses', () => {
    const statuses = ActionStatusSchema.options;
    for (const [file, fn] of [
      [SAFETY_MODULE, 'New-SpawnGuardProcessActionResult'],
      ['TerminateSession.ps1', 'New-SessionItem'],
      ['RestoreQuarantinedFile.ps1', 'New-RestoreItem'],
      ['RemovePersistenceEntry.ps1', 'New-RemovalItem'],
      ['RestorePersistenceEntry.ps1', 'New-RestoreItem'],
    ] as const) {
      const validateSet = functionNode(file, fn)
        .descendantsOfType('attribute')
        .find((attribute) => attribute.text.startsWith('[ValidateSet('));
      expect(validateSet).toBeDefined();
      expect(stringLiterals(validateSet!).sort()).toEqual([...statuses].sort());
    }
  });

  it('signature statuses and session types are the contract values', () => {
    const signatureStatus = (FileFactsSchema.shape.signature.unwrap().unwrap() as AnyObject).shape.status as z.ZodEnum;
    const mapped = functionNode(SAFETY_MODULE, 'Get-SpawnGuardSignature')
      .descendantsOfType('assignment_expression')
      .filter((node) => node.text.startsWith('$status ='))
      .flatMap((node) => stringLiterals(node));
    expect([...new Set(mapped)].sort()).toEqual([...signatureStatus.options].sort());

    const sessionType = SessionActionResultSchema.shape.sessionType.unwrap().unwrap() as z.ZodEnum;
    const types = functionNode(SAFETY_MODULE, 'Get-SpawnGuardSession')
      .descendantsOfType('assignment_expression')
      .filter((node) => node.text.startsWith('$type ='))
      .flatMap((node) => stringLiterals(node));
    expect([...new Set(types)].sort()).toEqual([...sessionType.options].sort());
  });
});

describe('the protected lists agree with common/windows/protected.ts', () => {
  const list = (name: string) => {
    const value = assignments(source(PROTECTED_LISTS).tree).get(name);
    if (!value) throw new Error(`${PROTECTED_LISTS} assigns no $script:${name}`);
    return value;
  };

  it('are set in ProtectedLists.ps1 only, once each (no other module file replaces one)', () => {
    const lists = source(PROTECTED_LISTS);
    const names = [...scriptScopeVariables(lists.tree)];
    expect(names).toEqual(expect.arrayContaining(['criticalprocessnames', 'protectedprocessids', 'systembinarystems']));
    const setTwice = lists.tree.rootNode
      .descendantsOfType('assignment_expression')
      .map((node) => node.children.find((c) => c.type === 'left_assignment_expression')?.text.toLowerCase() ?? '')
      .filter((left, i, all) => all.indexOf(left) !== i);
    expect(setTwice).toEqual([]);
    const elsewhere = safetyModuleFiles(sources)
      .filter((file) => file.name !== PROTECTED_LISTS)
      .flatMap((file) =>
        [...scriptScopeVariables(file.tree)].filter((name) => names.includes(name)).map((n) => `${file.name}: $${n}`),
      );
    expect(elsewhere).toEqual([]);
  });

  it('critical processes, shared hosts, PowerShell hosts and service accounts', () => {
    expect(stringLiterals(list('criticalprocessnames'))).toEqual([...CRITICAL_PROCESS_NAMES]);
    expect(stringLiterals(list('sharedhostnames'))).toEqual([...SHARED_HOST_NAMES]);
    expect(stringLiterals(list('powershellnames'))).toEqual([...POWERSHELL_NAMES]);
    expect(stringLiterals(list('serviceaccounts'))).toEqual([...SERVICE_ACCOUNTS]);
    for (const domain of stringLiterals(list('serviceaccountdomains'))) {
      expect(isServiceAccount({ name: 'someone', domain })).toBe(true);
    }
  });

  it('protected PIDs', () => {
    const pids = list('protectedprocessids')
      .descendantsOfType('decimal_integer_literal')
      .map((node) => Number(node.text));
    expect(pids).toEqual([...PROTECTED_PIDS]);
  });

  it('system directories', () => {
    const roots = stringLiterals(list('systemroots'));
    expect(roots.length).toBe(3);
    for (const root of roots) expect(isInSystemDirectory(`${root}lsass.exe`)).toBe(true);
    expect(isInSystemDirectory('c:\\windows\\temp\\lsass.exe')).toBe(false);
  });

  it('the Microsoft signer pattern decides like isMicrosoftSigner', () => {
    const [pattern] = stringLiterals(list('microsoftsignerpattern'));
    // PowerShell's -match is case-insensitive.
    const matches = (signer: string) => new RegExp(pattern!, 'i').test(signer.trim());
    for (const signer of [
      'CN=Microsoft Windows, O=Microsoft Corporation, L=Redmond, S=Washington, C=US',
      'CN=Microsoft Corporation, OU=MOPR, O=Microsoft Corporation, L=Redmond, S=Washington, C=US',
      'CN=Microsoft Windows Publisher, O=Microsoft Corporation, L=Redmond, S=Washington, C=US',
      'CN=Contoso Ltd, O=Contoso Ltd, C=US',
      'CN=Microsoftt Corporation, O=Evil',
      'CN=Not Microsoft Windows',
    ]) {
      expect(matches(signer)).toBe(isMicrosoftSigner(signer));
    }
  });

  it('persistence kinds, the removable ones and their backup formats', () => {
    expect(stringLiterals(list('persistencekinds'))).toEqual([...PERSISTENCE_KINDS]);
    expect(stringLiterals(list('removablepersistencekinds'))).toEqual([...REMOVABLE_PERSISTENCE_KINDS]);
    const formats = stringLiterals(list('persistencebackupformats'));
    const pairs = Object.fromEntries(formats.flatMap((text, i) => (i % 2 === 0 ? [[text, formats[i + 1]]] : [])));
    expect(Object.keys(pairs).sort()).toEqual([...REMOVABLE_PERSISTENCE_KINDS].sort());
    expect(Object.values(pairs).sort()).toEqual([...PersistenceBackupSchema.shape.format.options].sort());
  });

  it('system binary names match the decision engine (SYSTEM_BINARIES)', () => {
    expect(stringLiterals(list('systembinarystems'))).toEqual([...SYSTEM_BINARIES]);
  });
});
