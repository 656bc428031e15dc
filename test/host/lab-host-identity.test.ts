/**
 * The lab host simulator enforces the same PID-reuse guard as the scripts: a terminate target
 * without its image path is an invalid request, and a parent is only the process under its PID
 * when that process started before the child.
 */
import { ApplicationFailure } from '@temporalio/common';
import { createLabHostActivities } from '../../activities/lab/lab-host';
import { LabScenarioSchema } from '../../activities/lab/scenario';
import { HOST_FAILURE_TYPES, type TerminateTarget } from '../../common/host-contract';

const PARENT = 'C:\\Users\\Public\\dropper.exe';
const CHILD = 'C:\\Users\\Public\\payload.exe';

function lab() {
  const scenario = LabScenarioSchema.parse({
    hostname: 'LAB01',
    processes: [
      { pid: 500, parentPid: 4, name: 'dropper.exe', path: PARENT, startTime: '2024-05-01T10:00:00Z' },
      { pid: 600, parentPid: 500, name: 'payload.exe', path: CHILD, startTime: '2024-05-01T10:00:05Z' },
    ],
  });
  return { scenario, host: createLabHostActivities(scenario) };
}

const running = (scenario: ReturnType<typeof lab>['scenario'], pid: number) =>
  scenario.processes.find((p) => p.pid === pid)?.running;

describe('the lab host: the PID-reuse guard is not optional', () => {
  it('refuses a target with only a PID as an invalid request, and stops nothing', async () => {
    const { scenario, host } = lab();
    const error = await host.stopProcess({ incidentId: 'INC-1', targets: [{ pid: 600 } as TerminateTarget] }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).type).toBe(HOST_FAILURE_TYPES.invalidRequest);
    expect(running(scenario, 600)).toBe(true);
  });

  it('skips a parent PID held by a process started after the child, and stops the real parent', async () => {
    const { scenario, host } = lab();
    const younger = await host.stopProcess({
      incidentId: 'INC-1',
      targets: [{ pid: 500, imagePath: PARENT, startedBefore: '2024-05-01T09:59:00Z' }],
      includeDescendants: false,
    });
    expect(younger.results[0]).toMatchObject({ status: 'skipped', reason: 'pid-reused' });
    expect(running(scenario, 500)).toBe(true);

    const older = await host.stopProcess({
      incidentId: 'INC-1',
      targets: [{ pid: 500, imagePath: PARENT, startedBefore: '2024-05-01T10:00:05Z' }],
      includeDescendants: false,
    });
    expect(older.results[0]).toMatchObject({ status: 'done', terminatedPids: [500] });
    expect(running(scenario, 500)).toBe(false);
  });

  it('skips a PID now running another image', async () => {
    const { scenario, host } = lab();
    const result = await host.stopProcess({ incidentId: 'INC-1', targets: [{ pid: 600, imagePath: PARENT }] });
    expect(result.results[0]).toMatchObject({ status: 'skipped', reason: 'pid-reused' });
    expect(running(scenario, 600)).toBe(true);
  });
});
