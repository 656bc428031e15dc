/**
 * `npm run eval` in CI: the decision engine on the labelled corpus (eval/corpus) must meet the floors
 * in eval/floors.json — benign precision and malicious recall at least 0.9, no unsafe plan step —
 * and the unsafe-step check must be able to fail.
 */
import { readdirSync } from 'node:fs';
import type { Decision, PlanStep } from '../../common/decision';
import type { FileFacts } from '../../common/host-contract';
import {
  belowFloors,
  CORPUS_DIR,
  evaluate,
  formatReport,
  loadCorpus,
  loadFloors,
  unsafeSteps,
  type Report,
} from '../../eval/evaluate';

let report: Report;
beforeAll(() => {
  report = evaluate(loadCorpus());
});

describe('the labelled corpus', () => {
  it('is read whole: every case file, validated, at least 80 alerts in every format', () => {
    expect(report.cases).toHaveLength(readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.json')).length);
    expect(report.cases.length).toBeGreaterThanOrEqual(80);
    const formats = new Set(report.cases.map((c) => c.format));
    expect([...formats].sort()).toEqual(
      ['ecs-event', 'elastic-alert', 'security-4688-v0', 'security-4688-v1', 'security-4688-v2', 'sysmon-1'].sort(),
    );
    for (const label of ['malicious', 'suspicious', 'benign'] as const)
      expect(report.cases.filter((c) => c.label === label).length).toBeGreaterThanOrEqual(15);
  });

  it('meets the floors: benign precision and malicious recall ≥ 0.9, no unsafe plan step', () => {
    const floors = loadFloors();
    expect(floors.benignPrecision).toBeGreaterThanOrEqual(0.9);
    expect(floors.maliciousRecall).toBeGreaterThanOrEqual(0.9);
    const failures = belowFloors(report, floors);
    if (failures.length > 0) throw new Error(`${failures.join('; ')}\n\n${formatReport(report, floors)}`);
    expect(report.unsafe).toEqual([]);
  });

  it('accepts every Windows version’s events: all 4688 v0/v1 cases and children of System are decided', () => {
    const old = report.cases.filter((c) => c.format === 'security-4688-v0' || c.format === 'security-4688-v1');
    expect(old.length).toBeGreaterThanOrEqual(8);
    for (const c of old)
      expect(c.decision.reasons.map((r) => r.code)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^parent-(resolved-on-host|unknown)$/)]),
      );
  });

  it('prints the confusion matrix, the scores per verdict and every disagreement', () => {
    const text = formatReport(report, loadFloors());
    expect(text).toMatch(/confusion matrix/);
    for (const verdict of ['malicious', 'suspicious', 'benign'])
      expect(text).toMatch(new RegExp(`^${verdict}\\s+\\d\\.\\d{3}`, 'm'));
    for (const c of report.cases.filter((r) => r.label !== r.verdict))
      expect(text).toContain(`${c.id}: analyst ${c.label}, engine ${c.verdict}`);
  });
});

describe('the unsafe-step check', () => {
  const decision = (verdict: Decision['verdict'], ...plan: PlanStep[]): Decision => ({
    verdict,
    score: 80,
    confidence: 'high',
    reasons: [],
    plan,
  });
  const lsass: PlanStep = {
    action: 'terminate-parent',
    target: {
      description: 'PID 700 C:\\Windows\\System32\\lsass.exe',
      pid: 700,
      imagePath: 'C:\\Windows\\System32\\lsass.exe',
    },
  };
  const osQuarantine: PlanStep = {
    action: 'quarantine-child',
    target: {
      description: 'PID 900 C:\\Windows\\System32\\cmd.exe',
      pid: 900,
      imagePath: 'C:\\Windows\\System32\\cmd.exe',
    },
  };
  const cmdFacts: FileFacts = {
    path: 'C:\\Windows\\System32\\cmd.exe',
    exists: true,
    signature: { status: 'valid', signer: 'Microsoft Windows', isMicrosoft: true, isOsBinary: true },
  };

  it('flags a critical process, a PID-only target, an OS binary quarantined, a share and an unnamed creator', () => {
    expect(unsafeSteps({ label: 'malicious' }, decision('malicious', lsass), [])).toEqual([
      expect.stringMatching(/critical/),
    ]);
    expect(unsafeSteps({ label: 'malicious' }, decision('malicious', osQuarantine), [cmdFacts])).toEqual([
      expect.stringMatching(/OS or Microsoft-signed/),
    ]);
    const pidOnly: PlanStep = { action: 'terminate-parent', target: { description: 'PID 4312 <unknown>', pid: 4312 } };
    expect(unsafeSteps({ label: 'malicious' }, decision('malicious', pidOnly), [])).toEqual([
      expect.stringMatching(/cannot identify/),
      expect.stringMatching(/does not name/),
    ]);
    const share: PlanStep = {
      action: 'quarantine-child',
      target: { description: 'PID 1 \\\\fs01\\x.exe', pid: 1, imagePath: '\\\\fs01\\tools\\x.exe' },
    };
    expect(unsafeSteps({ label: 'malicious' }, decision('malicious', share), [])).toEqual([
      expect.stringMatching(/remote path/),
    ]);
  });

  it('flags a benign pair that would be remediated without an analyst, not one that waits for review', () => {
    const child: PlanStep = {
      action: 'terminate-child',
      target: { description: 'PID 900 C:\\Tools\\x.exe', pid: 900, imagePath: 'C:\\Tools\\x.exe' },
    };
    expect(unsafeSteps({ label: 'benign' }, decision('malicious', child), [])).toEqual([
      expect.stringMatching(/without an analyst/),
    ]);
    expect(unsafeSteps({ label: 'benign' }, decision('suspicious', child), [])).toEqual([]);
    expect(unsafeSteps({ label: 'malicious' }, decision('malicious', { ...lsass, skipped: 'critical' }), [])).toEqual(
      [],
    );
  });
});
