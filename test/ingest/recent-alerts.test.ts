/** The recent-duplicate cache: copies share the first submission; failures are never remembered. */
import { RecentAlerts } from '../../client/ingest/recent-alerts';
import type { Submission } from '../../client/ingest/submit';

const started = (runId: string): Submission => ({ workflowId: 'wf', runId, deduplicated: false });

describe('RecentAlerts', () => {
  it('sends copies that arrive while the first is in flight to Temporal once, and answers them as duplicates', async () => {
    const recent = new RecentAlerts();
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const submit = async () => {
      calls++;
      await gate;
      return started('run-1');
    };
    const pending = [
      recent.submit('wf', 'a1', submit),
      recent.submit('wf', 'a1', submit),
      recent.submit('wf', 'a1', submit),
    ];
    release();
    const results = await Promise.all(pending);
    expect(calls).toBe(1);
    expect(results.map((r) => r.deduplicated)).toEqual([false, true, true]);
    expect(new Set(results.map((r) => r.runId))).toEqual(new Set(['run-1']));
  });

  it('keys by incident and alert: another alert of the same incident still goes to Temporal', async () => {
    const recent = new RecentAlerts();
    const submit = jest.fn(async () => started('run-1'));
    await recent.submit('wf', 'a1', submit);
    await recent.submit('wf', 'a2', submit);
    expect(submit).toHaveBeenCalledTimes(2);
  });

  it('forgets a failed submission, so the retry goes to Temporal again', async () => {
    const recent = new RecentAlerts();
    await expect(recent.submit('wf', 'a1', async () => Promise.reject(new Error('UNAVAILABLE')))).rejects.toThrow(
      'UNAVAILABLE',
    );
    const retry = jest.fn(async () => started('run-2'));
    await expect(recent.submit('wf', 'a1', retry)).resolves.toEqual(started('run-2'));
    expect(retry).toHaveBeenCalledTimes(1);
  });

  it('forgets entries after their time and beyond its size', async () => {
    let now = 0;
    const recent = new RecentAlerts({ ttlMs: 1000, maxEntries: 2, now: () => now });
    const submit = jest.fn(async () => started('run'));
    await recent.submit('wf', 'a1', submit);
    now = 1001;
    await recent.submit('wf', 'a1', submit);
    expect(submit).toHaveBeenCalledTimes(2);
    await recent.submit('wf', 'a2', submit);
    await recent.submit('wf', 'a3', submit);
    expect(recent.size).toBe(2);
  });
});
