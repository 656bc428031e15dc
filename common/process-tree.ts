/** The pair's process tree as lines for people (report, review page, `explain --format text`). Pure. */
import type { CanonicalAlert } from './alert';
import type { ProcessTree } from './incident-status';

/** `WINWORD.EXE (4312) → cmd.exe (5000) → powershell.exe (6120) → conhost.exe (6204)`, root first. */
export function processTreeLines(alert: CanonicalAlert, tree: ProcessTree | null | undefined): string[] {
  if (!tree) return [];
  const label = (p: { pid: number; name?: string | null; path?: string | null }) =>
    `${p.name ?? '?'} (PID ${p.pid})${p.path ? ` ${p.path}` : ''}`;
  const ancestry = [...(tree.parent?.parentChain ?? [])].reverse().map(label);
  const pair = [
    label({ pid: alert.parent.pid, name: alert.parent.name, path: tree.parent?.path ?? alert.parent.executable }),
    label({ pid: alert.child.pid, name: alert.child.name, path: tree.child?.path ?? alert.child.executable }),
  ];
  const lines = [`Ancestry: ${[...ancestry, ...pair].join(' → ')}`];
  const descendants = tree.child?.descendants ?? [];
  if (descendants.length > 0) {
    lines.push(
      `Descendants of ${alert.child.name}: ${descendants
        .slice(0, 30)
        .map((d) => `${label(d)} (parent ${d.parentPid})`)
        .join('; ')}${descendants.length > 30 ? `; and ${descendants.length - 30} more` : ''}`,
    );
  } else if (tree.child) {
    lines.push(`${alert.child.name} had no running descendants when the host was asked.`);
  } else {
    lines.push(
      `${alert.child.name} was not running when the host was asked (or its PID now belongs to another process).`,
    );
  }
  if (!tree.parent)
    lines.push(`${alert.parent.name} was not running when the host was asked: its ancestry is unknown.`);
  for (const note of tree.notes ?? []) lines.push(`Note: ${note}.`);
  return lines;
}
