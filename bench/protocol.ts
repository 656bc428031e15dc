/** The messages between the bench and its worker processes (bench/worker-process.ts), checked on arrival. */
import { z } from 'zod';

export const WorkerProcessArgsSchema = z.discriminatedUnion('role', [
  /** The real central worker: playbook and enrichment workflows, reputation and email activities. */
  z.object({
    role: z.literal('central'),
    taskQueue: z.string().min(1),
    /** A workflow bundle built beforehand; without it the worker bundles workflows/ at start, as in production. */
    bundlePath: z.string().min(1).optional(),
  }),
  /** The real host worker in lab mode, serving the simulated host of `scenarioPath`. */
  z.object({ role: z.literal('host'), scenarioPath: z.string().min(1) }),
  /** The baseline's central-like worker: the minimal workflow and a no-op activity. */
  z.object({ role: z.literal('baseline-central'), taskQueue: z.string().min(1) }),
  /** The baseline's host-like worker: a no-op activity. */
  z.object({ role: z.literal('baseline-host'), taskQueue: z.string().min(1) }),
]);
export type WorkerProcessArgs = z.infer<typeof WorkerProcessArgsSchema>;

export const ParentMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('memory') }),
  z.object({ type: z.literal('stop') }),
]);
export type ParentMessage = z.infer<typeof ParentMessageSchema>;

export const ChildMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), startupMs: z.number() }),
  z.object({
    type: z.literal('memory'),
    /** The kernel's high-water mark for the whole life of the process (bundling at start included). */
    maxRssBytes: z.number(),
    rssBytes: z.number(),
  }),
  z.object({ type: z.literal('failed'), message: z.string() }),
]);
export type ChildMessage = z.infer<typeof ChildMessageSchema>;
