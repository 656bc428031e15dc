/**
 * The PowerShell scripts a host worker runs (DESIGN.md §5): one per action, each with the zod
 * schema of the one JSON document it prints. The runner looks scripts up here by name.
 */
import {
  FetchPersistenceResultSchema,
  FileEnrichmentResultSchema,
  ProcessTreeResultSchema,
  RemovePersistenceResultSchema,
  RestorePersistenceResultSchema,
  RestoreResultSchema,
  StopAndQuarantineResultSchema,
  StopProcessResultSchema,
  TerminateSessionResultSchema,
} from '../../common/host-contract';

export const HOST_SCRIPTS = {
  GetProcessTree: ProcessTreeResultSchema,
  GetFileEnrichment: FileEnrichmentResultSchema,
  StopProcess: StopProcessResultSchema,
  StopAndQuarantineProcess: StopAndQuarantineResultSchema,
  TerminateSession: TerminateSessionResultSchema,
  FetchPersistenceEntries: FetchPersistenceResultSchema,
  RestoreQuarantinedFile: RestoreResultSchema,
  RemovePersistenceEntry: RemovePersistenceResultSchema,
  RestorePersistenceEntry: RestorePersistenceResultSchema,
} as const;

export type HostScriptName = keyof typeof HOST_SCRIPTS;

export function scriptFileName(name: HostScriptName): string {
  return `${name}.ps1`;
}
