/**
 * `spawnguard explain` run as a user runs it: the real CLI in a subprocess, on sample alerts, with
 * reputation from a local server that speaks VirusTotal's v3 API and from real allow/deny list files.
 * TEMPORAL_ADDRESS points at a closed port throughout: explain must not need Temporal.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// CLI subprocesses (each loads TypeScript through tsx) are slow when the whole suite shares 2 cores.
jest.setTimeout(180_000);

const ROOT = resolve(__dirname, '../..');
const FIXTURES = join(ROOT, 'test/fixtures');
const VT_KEY = 'explain-test-key';

const MALICIOUS = join(FIXTURES, 'explain/malicious.json');
const SUSPICIOUS = join(FIXTURES, 'explain/suspicious.json');
const BENIGN = join(FIXTURES, 'explain/benign.json');
const hashesOf = (file: string) => {
  const alert = JSON.parse(readFileSync(file, 'utf8'));
  return { parent: alert.parent.hashes.sha256 as string, child: alert.child.hashes.sha256 as string };
};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  json: () => Explanation;
}
interface Explanation {
  alert: { alertId: string; source: string };
  verdict: string;
  score: number;
  confidence: string;
  reasons: { code: string; weight: number; evidence: string }[];
  plan: { action: string; target: { description: string; pid?: number; imagePath?: string }; skipped?: string }[];
  reputation: { consulted: string[]; notConsulted: { source: string; reason: string }[] };
}

/** The environment minus anything that would switch a reputation source on behind the test's back. */
function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(VT_|MALWAREBAZAAR_|SPAWNGUARD_|TEMPORAL_)/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, TEMPORAL_ADDRESS: '127.0.0.1:1', ...extra };
}

function explain(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['bin/spawnguard.js', 'explain', ...args], {
      cwd: ROOT,
      env: baseEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      resolvePromise({
        code,
        stdout,
        stderr,
        json: () => {
          try {
            return JSON.parse(stdout) as Explanation;
          } catch {
            throw new Error(`stdout is not JSON (exit ${code}):\n${stdout}\nstderr:\n${stderr}`);
          }
        },
      }),
    );
    child.stdin.end(options.stdin ?? '');
  });
}

const codes = (e: Explanation) => e.reasons.map((r) => r.code);
const steps = (e: Explanation) => e.plan.map((s) => (s.skipped ? `${s.action} (skipped)` : s.action));

/** A local VirusTotal v3 stand-in: `GET /api/v3/files/{hash}` with `x-apikey`, 404 for unknown files. */
async function startVirusTotal(stats: Map<string, { malicious: number; harmless: number; undetected: number }>) {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const match = /^\/api\/v3\/files\/([0-9a-f]{64})$/.exec(req.url ?? '');
    if (req.method !== 'GET' || !match) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"NotFoundError"}}');
      return;
    }
    const hash = match[1] as string;
    requests.push(hash);
    if (req.headers['x-apikey'] !== VT_KEY) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"code":"WrongCredentialsError"}}');
      return;
    }
    const known = stats.get(hash);
    if (!known) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'NotFoundError', message: `File "${hash}" not found` } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        data: {
          id: hash,
          type: 'file',
          attributes: {
            reputation: known.malicious > 0 ? -30 : 0,
            last_analysis_stats: { ...known, suspicious: 0, timeout: 0, 'type-unsupported': 0, failure: 0 },
            ...(known.malicious > 0
              ? { popular_threat_classification: { suggested_threat_label: 'trojan.agenttesla' } }
              : {}),
          },
        },
      }),
    );
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/v3`,
    requests,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'spawnguard-explain-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('spawnguard explain', () => {
  it('explains a malicious alert: verdict, reasons naming the processes, and which side is acted on', async () => {
    const run = await explain([MALICIOUS]);
    expect(run.code).toBe(0);
    const out = run.json();
    expect(out.alert.alertId).toBe('soc-2024-0502-0107');
    expect(out.verdict).toBe('malicious');
    expect(codes(out)).toEqual(expect.arrayContaining(['office-spawned-user-binary', 'unsigned-in-user-folder']));
    expect(out.reasons.find((r) => r.code === 'office-spawned-user-binary')?.evidence).toMatch(
      /WINWORD\.EXE \(PID 5316\) started remittance\.exe \(PID 7044\)/,
    );
    // Word is terminated only (Microsoft-signed); the dropper is terminated and quarantined.
    expect(steps(out)).toEqual([
      'quarantine-parent (skipped)',
      'terminate-parent',
      'terminate-child',
      'quarantine-child',
      'fetch-persistence',
      'logoff-user',
    ]);
    expect(out.plan[0]?.skipped).toMatch(/signed by Microsoft Corporation/);
    expect(out.plan.find((s) => s.action === 'quarantine-child')?.target).toMatchObject({
      pid: 7044,
      imagePath: 'C:\\Users\\bob\\AppData\\Local\\Temp\\remittance.exe',
    });
    expect(out.plan.find((s) => s.action === 'logoff-user')?.target.description).toBe('CONTOSO\\bob');
    // No source configured: the output says so, per source.
    expect(out.reputation.consulted).toEqual([]);
    expect(out.reputation.notConsulted).toEqual(
      expect.arrayContaining([{ source: 'virustotal', reason: 'VT_API_KEY is not set' }]),
    );
  });

  it('explains a suspicious alert with the plan an approval would run', async () => {
    const out = (await explain([SUSPICIOUS])).json();
    expect(out.verdict).toBe('suspicious');
    expect(codes(out)).toContain('unsigned-in-user-folder');
    expect(steps(out)).toEqual(['quarantine-parent', 'terminate-child', 'fetch-persistence', 'logoff-user']);
  });

  it('never calls an alert benign without reputation: services → svchost with no source is suspicious, low confidence', async () => {
    const out = (await explain([BENIGN])).json();
    expect(out.verdict).toBe('suspicious');
    expect(out.confidence).toBe('low');
    expect(codes(out)).toContain('not-conclusively-benign');
    expect(out.plan.find((s) => s.action === 'terminate-parent')?.skipped).toMatch(/critical Windows process/);
    expect(out.plan.find((s) => s.action === 'logoff-user')?.skipped).toMatch(/service account/);
  });

  it('calls services → svchost benign once VirusTotal knows both files clean, and asks VirusTotal for each hash', async () => {
    const { parent, child } = hashesOf(BENIGN);
    const virusTotal = await startVirusTotal(
      new Map([
        [parent, { malicious: 0, harmless: 0, undetected: 71 }],
        [child, { malicious: 0, harmless: 0, undetected: 72 }],
      ]),
    );
    try {
      const out = (await explain([BENIGN], { env: { VT_API_KEY: VT_KEY, VT_API_URL: virusTotal.url } })).json();
      expect(out.verdict).toBe('benign');
      expect(out.score).toBe(0);
      expect(out.plan).toEqual([]);
      expect(out.reputation.consulted).toEqual(['virustotal']);
      expect(codes(out)).toEqual(expect.arrayContaining(['reputation-clean', 'expected-parent']));
      expect(virusTotal.requests.sort()).toEqual([parent, child].sort());
    } finally {
      await virusTotal.close();
    }
  });

  it('uses VirusTotal detections: a parent flagged by 45 engines makes the suspicious sample malicious', async () => {
    const { child, parent } = hashesOf(SUSPICIOUS);
    const virusTotal = await startVirusTotal(new Map([[parent, { malicious: 45, harmless: 0, undetected: 27 }]]));
    try {
      const out = (await explain([SUSPICIOUS], { env: { VT_API_KEY: VT_KEY, VT_API_URL: virusTotal.url } })).json();
      expect(out.verdict).toBe('malicious');
      expect(out.confidence).toBe('high');
      expect(out.reasons.find((r) => r.code === 'vt-malicious')?.evidence).toMatch(
        /45 malicious.*ReportHelper\.exe \(PID 6600\) \(trojan\.agenttesla\)/,
      );
      // The child's hash is unknown to VirusTotal (404): reported, not treated as clean.
      expect(out.reasons.find((r) => r.code === 'no-reputation')?.evidence).toMatch(
        /cmd\.exe \(PID 6712\).*virustotal: not found/,
      );
      expect(virusTotal.requests).toContain(child);
    } finally {
      await virusTotal.close();
    }
  });

  it("--facts: decides with the host's own facts as the playbook would — host hash looked up, host signature believed", async () => {
    // The sensor sent neither hashes nor signatures; the host's enrichment script supplies them.
    const alert = {
      alertId: 'facts-1',
      detectedAt: '2024-05-02T11:02:44.120Z',
      host: { hostname: 'APP02.contoso.local' },
      user: { name: 'carol', domain: 'CONTOSO' },
      parent: {
        pid: 5316,
        name: 'WINWORD.EXE',
        executable: 'C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE',
        startTime: '2024-05-02T11:00:01.000Z',
      },
      child: {
        pid: 7044,
        name: 'invoice.exe',
        executable: 'C:\\Users\\carol\\AppData\\Local\\Temp\\invoice.exe',
        startTime: '2024-05-02T11:02:44.101Z',
      },
    };
    const dropper = 'ab'.repeat(32);
    const word = 'cd'.repeat(32);
    const facts = {
      script: 'GetFileEnrichment.ps1',
      ok: true,
      hostname: 'APP02',
      startedAt: '2024-05-02T11:02:45.000Z',
      finishedAt: '2024-05-02T11:02:46.000Z',
      results: [
        {
          path: alert.parent.executable,
          exists: true,
          sha256: word,
          signature: { status: 'valid', signer: 'Microsoft Corporation', isMicrosoft: true, isOsBinary: false },
          expectedLocation: null,
        },
        {
          path: alert.child.executable.toUpperCase(), // Windows paths compare without case
          exists: true,
          sha256: dropper,
          signature: { status: 'unsigned', isMicrosoft: false, isOsBinary: false },
          expectedLocation: null,
        },
      ],
      errors: [],
    };
    const dir = mkdtempSync(join(tmpdir(), 'spawnguard-explain-facts-'));
    const virusTotal = await startVirusTotal(new Map([[dropper, { malicious: 45, harmless: 0, undetected: 27 }]]));
    try {
      const alertFile = join(dir, 'alert.json');
      const factsFile = join(dir, 'facts.json');
      writeFileSync(alertFile, JSON.stringify(alert));
      writeFileSync(factsFile, JSON.stringify(facts));
      const env = { VT_API_KEY: VT_KEY, VT_API_URL: virusTotal.url };

      const without = (await explain([alertFile], { env })).json();
      expect(virusTotal.requests).toEqual([]); // no hash to look up without the host
      expect(without.verdict).not.toBe('malicious');

      const run = await explain([alertFile, '--facts', factsFile], { env });
      expect(run.code).toBe(0);
      const out = run.json();
      expect(virusTotal.requests.sort()).toEqual([dropper, word].sort());
      expect(out.verdict).toBe('malicious');
      expect(codes(out)).toEqual(expect.arrayContaining(['vt-malicious', 'unsigned-in-user-folder']));
      expect(out.plan.find((s) => s.action === 'quarantine-parent')?.skipped).toMatch(
        /signed by Microsoft Corporation/,
      );
      expect(out.plan.find((s) => s.action === 'quarantine-child')?.skipped).toBeUndefined();
    } finally {
      await virusTotal.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--facts: refuses a facts file that is not the enrichment script's result, naming the field (exit 2)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spawnguard-explain-facts-'));
    try {
      const factsFile = join(dir, 'facts.json');
      writeFileSync(
        factsFile,
        JSON.stringify({ script: 'GetFileEnrichment.ps1', ok: true, results: [{ path: 'C:\\x.exe' }], errors: [] }),
      );
      const run = await explain([MALICIOUS, '--facts', factsFile]);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/--facts .*facts\.json is not GetFileEnrichment\.ps1's result: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the allow and deny lists: a denylisted dropper is malicious with high confidence', async () => {
    const { parent, child } = hashesOf(MALICIOUS);
    const denylist = join(scratch, 'deny.txt');
    const allowlist = join(scratch, 'allow.txt');
    writeFileSync(denylist, `# dropper seen at another site\n${child.toUpperCase()}\n`);
    writeFileSync(allowlist, `${parent}  # Office 2021 build\n`);
    const out = (
      await explain([MALICIOUS], { env: { SPAWNGUARD_DENYLIST: denylist, SPAWNGUARD_ALLOWLIST: allowlist } })
    ).json();
    expect(out.verdict).toBe('malicious');
    expect(out.confidence).toBe('high');
    expect(codes(out)).toContain('denylisted');
    expect(out.reputation.consulted.sort()).toEqual(['allowlist', 'denylist']);
  });

  it('honours SPAWNGUARD_TRUSTED_PUBLISHERS and the threshold options', async () => {
    const alert = JSON.parse(readFileSync(SUSPICIOUS, 'utf8'));
    alert.parent.signature = { status: 'valid', signer: 'Fabrikam Reporting Ltd' };
    const { parent } = hashesOf(SUSPICIOUS);
    const virusTotal = await startVirusTotal(new Map([[parent, { malicious: 6, harmless: 0, undetected: 66 }]]));
    try {
      const env = {
        VT_API_KEY: VT_KEY,
        VT_API_URL: virusTotal.url,
        SPAWNGUARD_TRUSTED_PUBLISHERS: 'Fabrikam Reporting Ltd',
      };
      const trusted = (await explain(['-'], { stdin: JSON.stringify(alert), env })).json();
      expect(trusted.verdict).toBe('malicious');
      expect(trusted.plan.find((s) => s.action === 'quarantine-parent')?.skipped).toMatch(
        /trusted publisher Fabrikam Reporting Ltd/,
      );
      const lenient = (
        await explain(['--malicious-threshold', '10', '-'], { stdin: JSON.stringify(alert), env })
      ).json();
      expect(lenient.verdict).toBe('suspicious');
      expect(codes(lenient)).toContain('vt-suspicious');
    } finally {
      await virusTotal.close();
    }
  });

  it('reads a Winlogbeat Sysmon event from standard input', async () => {
    const run = await explain(['-'], { stdin: readFileSync(join(FIXTURES, 'formats/sysmon-1.json'), 'utf8') });
    expect(run.code).toBe(0);
    const out = run.json();
    expect(out.alert.source).toBe('sysmon');
    expect(out.verdict).toBe('malicious');
    expect(codes(out)).toEqual(expect.arrayContaining(['office-spawned-shell', 'suspicious-command-line']));
  });

  it('explains an ECS process event: svchost.exe running from C:\\Users\\Public', async () => {
    const out = (await explain([join(FIXTURES, 'formats/ecs-process-event.json')])).json();
    expect(out.verdict).toBe('malicious');
    expect(codes(out)).toEqual(expect.arrayContaining(['system-name-wrong-location', 'unexpected-parent']));
    expect(steps(out)).toContain('quarantine-child');
  });

  it('refuses a malformed document with exit code 2 and no output', async () => {
    const run = await explain(['-'], { stdin: '{"alertId": "x", "parent": ' });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/standard input is not valid JSON/);
  });

  it('refuses an alert with a bad field, naming the field as the sender spelled it', async () => {
    const event = JSON.parse(readFileSync(join(FIXTURES, 'formats/security-4688.json'), 'utf8'));
    event.winlog.event_data.NewProcessId = 'not-a-pid';
    const file = join(scratch, 'bad-4688.json');
    writeFileSync(file, JSON.stringify(event));
    const run = await explain([file]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/is not a valid alert: .*winlog\.event_data\.NewProcessId/);
  });

  it('refuses a missing file and a bad configuration with exit code 2', async () => {
    const missing = await explain([join(scratch, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope\.json: no such file/);

    const badList = join(scratch, 'bad-deny.txt');
    writeFileSync(badList, 'not-a-hash\n');
    const badConfig = await explain([MALICIOUS], { env: { SPAWNGUARD_DENYLIST: badList } });
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toMatch(/SPAWNGUARD_DENYLIST: .*bad-deny\.txt line 1/);
  });

  it('--format text prints the verdict, every reason and every step for a person, hidden characters escaped', async () => {
    const alert = JSON.parse(readFileSync(MALICIOUS, 'utf8'));
    alert.child.name = 'invoice\u202Efdp.exe';
    const file = join(scratch, 'rtl.json');
    writeFileSync(file, JSON.stringify(alert));
    const [text, json] = await Promise.all([explain([file, '--format', 'text']), explain([file])]);
    expect(text.code).toBe(0);
    const explained = JSON.parse(json.stdout) as {
      verdict: string;
      score: number;
      reasons: { code: string; attack?: string[] }[];
      plan: { action: string; d3fend?: { id: string } }[];
    };
    // The framework labels travel in the JSON and are printed for a person.
    const labelled = explained.reasons.filter((r) => r.attack?.length);
    expect(labelled.length).toBeGreaterThan(0);
    for (const reason of labelled) for (const id of reason.attack ?? []) expect(text.stdout).toContain(id);
    expect(explained.plan.find((p) => p.action === 'terminate-child')?.d3fend?.id).toBe('D3-PT');
    expect(text.stdout).toMatch(/^terminate-child\s+D3-PT Process Termination\s/m);
    expect(text.stdout).toMatch(new RegExp(`^Verdict\\s+${explained.verdict}, score ${explained.score}/100`, 'm'));
    for (const reason of explained.reasons) expect(text.stdout).toContain(reason.code);
    for (const step of explained.plan) expect(text.stdout).toMatch(new RegExp(`^${step.action}\\s`, 'm'));
    expect(text.stdout).toContain('invoice\\u{202E}fdp.exe');
    expect(text.stdout).not.toContain('\u202E');
    expect((await explain([file, '--format', 'xml'])).code).toBe(2);
  });

  it('--process-tree: a shell started by a shell is judged by its real launcher, and the tree is shown (issue 17, item 3)', async () => {
    const alert = {
      alertId: 'tree-1',
      detectedAt: '2026-11-23T10:12:00.000Z',
      host: { hostname: 'WEB01' },
      user: { name: 'alice', domain: 'CONTOSO' },
      parent: {
        pid: 5000,
        name: 'cmd.exe',
        executable: 'C:\\Windows\\System32\\cmd.exe',
        startTime: '2026-11-23T10:11:00.000Z',
      },
      child: {
        pid: 6120,
        name: 'powershell.exe',
        executable: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
        commandLine: 'powershell.exe -nop -w hidden -c Get-Date',
        startTime: '2026-11-23T10:11:12.000Z',
      },
    };
    const treeOf = (parentPath: string) => ({
      script: 'GetProcessTree.ps1',
      ok: true,
      hostname: 'WEB01',
      startedAt: '2026-11-23T10:12:01.000Z',
      finishedAt: '2026-11-23T10:12:02.000Z',
      results: [
        {
          pid: 5000,
          found: true,
          name: 'cmd.exe',
          path: parentPath,
          creationTime: '2026-11-23T10:11:00.000Z',
          parentPid: 4312,
          parentChain: [
            {
              pid: 4312,
              name: 'WINWORD.EXE',
              path: 'C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE',
            },
            { pid: 3900, name: 'explorer.exe', path: 'C:\\Windows\\explorer.exe' },
          ],
          descendants: [],
        },
        {
          pid: 6120,
          found: true,
          name: 'powershell.exe',
          path: alert.child.executable,
          creationTime: '2026-11-23T10:11:12.000Z',
          parentPid: 5000,
          parentChain: [],
          descendants: [
            { pid: 6204, parentPid: 6120, name: 'conhost.exe', path: 'C:\\Windows\\System32\\conhost.exe' },
          ],
        },
      ],
      errors: [],
    });
    const alertFile = join(scratch, 'tree-alert.json');
    const treeFile = join(scratch, 'tree.json');
    const reusedFile = join(scratch, 'tree-reused.json');
    writeFileSync(alertFile, JSON.stringify(alert));
    writeFileSync(treeFile, JSON.stringify(treeOf(alert.parent.executable)));
    writeFileSync(reusedFile, JSON.stringify(treeOf('C:\\Program Files\\Contoso\\agent.exe')));

    const [withTree, withoutTree, reused, text] = await Promise.all([
      explain([alertFile, '--process-tree', treeFile]),
      explain([alertFile]),
      explain([alertFile, '--process-tree', reusedFile]),
      explain([alertFile, '--process-tree', treeFile, '--format', 'text']),
    ]);
    expect(withTree.code).toBe(0);
    const office = withTree.json().reasons.find((r) => r.code === 'launched-by-office-ancestor');
    expect(office?.weight).toBeGreaterThan(0);
    expect(office?.evidence).toMatch(/started by WINWORD\.EXE \(PID 4312\)/);
    expect(withTree.json().score).toBeGreaterThan(withoutTree.json().score);
    expect(withoutTree.json().reasons.map((r) => r.code)).not.toContain('launched-by-office-ancestor');
    // A record whose image differs is another process under a reused PID: its ancestry is not used.
    const reusedJson = reused.json() as Explanation & { processTree?: { parent: unknown; notes?: string[] } };
    expect(reusedJson.reasons.map((r) => r.code)).not.toContain('launched-by-office-ancestor');
    expect(reusedJson.processTree?.parent).toBeNull();
    expect(reusedJson.processTree?.notes?.join(' ')).toMatch(/agent\.exe/);
    expect(text.stdout).toMatch(
      /Ancestry: explorer\.exe \(PID 3900\).* → WINWORD\.EXE \(PID 4312\).* → cmd\.exe \(PID 5000\).* → powershell\.exe \(PID 6120\)/,
    );
    expect(text.stdout).toMatch(/Descendants of powershell\.exe: conhost\.exe \(PID 6204\)/);
  });

  it('prints help with an example', async () => {
    const run = await explain(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Usage: spawnguard explain \[options\] <file\|->/);
    expect(run.stdout).toMatch(/Examples:\n\s+\$ spawnguard explain alert\.json/);
  });
});
