/** Which processes start which Windows system processes (DESIGN.md §6). Workflow-safe. */

/**
 * Expected parents of Windows system processes (Elastic rule "Unusual Parent-Child Relationship").
 * child stem → the only parent stems that legitimately start it.
 */
export const EXPECTED_PARENTS: Readonly<Record<string, readonly string[]>> = {
  autochk: ['smss'],
  fontdrvhost: ['wininit', 'winlogon', 'dwm'],
  dwm: ['wininit', 'winlogon', 'dwm'],
  consent: ['svchost'],
  runtimebroker: ['svchost'],
  tiworker: ['svchost'],
  searchindexer: ['services'],
  searchprotocolhost: ['searchindexer', 'dllhost'],
  dllhost: ['services', 'svchost'],
  smss: ['system', 'smss'],
  csrss: ['smss', 'svchost'],
  wininit: ['smss'],
  winlogon: ['smss'],
  lsass: ['wininit'],
  lsaiso: ['wininit'],
  logonui: ['wininit', 'winlogon'],
  services: ['wininit'],
  svchost: ['msmpeng', 'services', 'svchost'],
  spoolsv: ['services'],
  taskhost: ['services', 'svchost', 'ngentask'],
  taskhostw: ['services', 'svchost'],
  userinit: ['dwm', 'winlogon'],
  wmiprvse: ['svchost'],
  wsmprovhost: ['svchost'],
  winrshost: ['svchost'],
};
