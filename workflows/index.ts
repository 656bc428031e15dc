/** The workflows the central worker registers. */
export { suspiciousParentProcessPlaybook } from './playbook';
export { windowsFileEnrichment } from './enrichment';
export { incidentRestore } from './restore';
