/** Safe evolution: every recorded incident history replays on the current workflow code. */
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, Worker, type ReplayResult } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HISTORY_DIR } from '../support/histories';
import { workflowBundle } from '../support/playbook-harness';
import { quietLogger } from '../../worker/quiet-logger';

const files = readdirSync(HISTORY_DIR).filter((f) => f.endsWith('.json'));
const histories = () =>
  files.map((file) => {
    const history = historyFromJSON(JSON.parse(readFileSync(join(HISTORY_DIR, file), 'utf8')));
    // Replay needs the recorded workflow id: the playbook derives its child workflow's id from it.
    const workflowId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowId;
    if (!workflowId) throw new Error(`${file}: no workflow id in the first event`);
    return { workflowId, history };
  });
const recordedIds = () => histories().map((h) => h.workflowId);

async function replayAll(bundle: Awaited<ReturnType<typeof workflowBundle>>): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories())) results.push(result);
  return results;
}

describe('recorded playbook histories', () => {
  it('cover every outcome of the playbook', () => {
    expect(files.map((f) => f.replace(/\.json$/, '')).sort()).toEqual(
      [
        'benign',
        'host-unreachable',
        'malicious',
        'partially-remediated',
        'suspicious-approved',
        'suspicious-rejected',
        'suspicious-timed-out',
      ].sort(),
    );
  });

  it('replay on the current workflow code without nondeterminism', async () => {
    const results = await replayAll(await workflowBundle());
    const outcome = results.map((r) => ({ workflowId: r.workflowId, error: r.error ? String(r.error) : null }));
    expect(outcome).toEqual(recordedIds().map((workflowId) => ({ workflowId, error: null })));
  });

  it('run on a bundle without the schema library: every module in it is evaluated for each workflow', async () => {
    const { code } = await workflowBundle();
    // zod's error class and its module path; workflow code takes zod-free modules (common/messages,
    // common/process-identity) and type-only imports of the schemas.
    expect(code.includes('ZodError')).toBe(false);
    expect(code).not.toMatch(/node_modules\/zod\//);
  });

  it('fail on an incompatible change to the workflow, so CI catches it', async () => {
    const changed = await bundleWorkflowCode({
      workflowsPath: require.resolve('../fixtures/workflows/changed-playbook'),
      logger: quietLogger({ errors: false }),
    });
    const results = await replayAll(changed);
    expect(results).toHaveLength(files.length);
    expect(results.map((r) => r.error?.name)).toEqual(files.map(() => 'DeterminismViolationError'));
  });
});
