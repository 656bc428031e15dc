/**
 * Windows knowledge, in one place for the decision engine (workflows/decision), the host's safety
 * checks (activities/host) and the lab host (activities/lab): what must never be touched, which
 * parents start which system processes, how process names compare, how paths are spelled.
 * Workflow-safe: pure functions and tables.
 */
export * from './expected-parents';
export * from './names';
export * from './paths';
export * from './protected';
