/**
 * The decision's data: verdict, score, reasons and the remediation plan (DESIGN.md §3 `explain`).
 * Pure schemas; the engine that fills them lives in `workflows/decision/`.
 */
import { z } from 'zod';
import { ATTACK_ID } from './frameworks';

export const VERDICTS = ['malicious', 'suspicious', 'benign'] as const;
export const VerdictSchema = z.enum(VERDICTS);
export type Verdict = z.infer<typeof VerdictSchema>;

export const ReasonSchema = z.object({
  /** Stable machine code, e.g. `office-spawned-shell`, `system-name-wrong-location`, `vt-malicious`. */
  code: z.string().min(1),
  /** Contribution to the 0–100 score (negative for exculpatory evidence). */
  weight: z.number().int().min(-100).max(100),
  /** Human-readable evidence, e.g. `WINWORD.EXE (PID 4312) started powershell.exe (PID 6120)`. */
  evidence: z.string().min(1),
  /** The MITRE ATT&CK technique ids this reason is evidence of (absent: none, or decided before the labels). */
  attack: z.array(z.string().regex(ATTACK_ID)).optional(),
});
export type Reason = z.infer<typeof ReasonSchema>;

export const PLAN_ACTIONS = [
  'quarantine-parent',
  'terminate-parent',
  'terminate-child',
  'quarantine-child',
  'logoff-user',
  'fetch-persistence',
] as const;
export const PlanActionSchema = z.enum(PLAN_ACTIONS);
export type PlanAction = z.infer<typeof PlanActionSchema>;

export const PlanTargetSchema = z.object({
  /** Human-readable: `PID 4312 C:\Users\bob\AppData\Local\Temp\evil.exe`, or `CONTOSO\bob`. */
  description: z.string(),
  pid: z.number().int().min(0).optional(),
  imagePath: z.string().optional(),
  startTime: z.string().optional(),
  /** For a parent: its child's start time; a process under the PID started later is not the parent. */
  startedBefore: z.string().optional(),
  user: z.object({ name: z.string(), domain: z.string().optional() }).optional(),
});
export type PlanTarget = z.infer<typeof PlanTargetSchema>;

export const PlanStepSchema = z.object({
  action: PlanActionSchema,
  target: PlanTargetSchema,
  /** Present when the step will not run, saying why (protected process, OS binary, service account…). */
  skipped: z.string().optional(),
  /** The MITRE D3FEND technique the action is (D3-PT Process Termination, D3-FEV File Eviction…). */
  d3fend: z.object({ id: z.string(), name: z.string() }).optional(),
});
export type PlanStep = z.infer<typeof PlanStepSchema>;

export const DecisionSchema = z.object({
  verdict: VerdictSchema,
  score: z.number().int().min(0).max(100),
  /** high: evidence is conclusive; low: reputation missing or contradictory (routes to an analyst). */
  confidence: z.enum(['high', 'medium', 'low']),
  reasons: z.array(ReasonSchema),
  plan: z.array(PlanStepSchema),
});
export type Decision = z.infer<typeof DecisionSchema>;

/** Knobs of the decision engine; part of the playbook's policy input. */
export const DecisionPolicySchema = z.object({
  /** Signer subject names treated like Microsoft for "never quarantine" and trust. */
  trustedPublishers: z.array(z.string()).default([]),
  /** VirusTotal engines flagging malicious at or above which a file is malicious. */
  maliciousEngineThreshold: z.number().int().min(1).default(5),
  /** Engines (malicious + suspicious) at or above which a file is suspicious. */
  suspiciousEngineThreshold: z.number().int().min(1).default(3),
});
export type DecisionPolicy = z.infer<typeof DecisionPolicySchema>;
