/**
 * A storm of identical alerts (a SIEM re-sending, a rule firing on every event of one process) must
 * not hit Temporal once per copy. Submissions are remembered by incident and alert id for a while,
 * in flight included: copies that arrive while the first is on its way wait for its answer. A
 * failed submission is forgotten at once so the sender's retry goes to Temporal again.
 */
import type { Submission } from './submit';

export interface RecentAlertsOptions {
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  submission: Promise<Submission>;
  expiresAt: number;
}

export class RecentAlerts {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: RecentAlertsOptions = {}) {
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * `submit` runs unless this alert of this incident was submitted recently; a copy is answered
   * with the first submission's workflow and run, as a duplicate.
   */
  async submit(workflowId: string, alertId: string, submit: () => Promise<Submission>): Promise<Submission> {
    const key = `${workflowId}\u0000${alertId}`;
    const known = this.entries.get(key);
    if (known && known.expiresAt > this.now()) {
      const first = await known.submission;
      return { ...first, deduplicated: true };
    }
    const entry: Entry = { submission: submit(), expiresAt: this.now() + this.ttlMs };
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.evictOldest();
    try {
      return await entry.submission;
    } catch (err) {
      if (this.entries.get(key) === entry) this.entries.delete(key);
      throw err;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  private evictOldest(): void {
    // Map iteration follows insertion order, so the first keys are the oldest.
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(key);
    }
  }
}
