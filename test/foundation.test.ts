/** The foundation: a real dev server runs, a real worker executes a workflow, search attributes index. */
import { randomUUID } from 'node:crypto';
import { SA, SEARCH_ATTRIBUTES } from '../common/names';
import { testClient, uniqueTaskQueue, withWorker } from './support/temporal';

describe('Temporal dev server started by the global setup', () => {
  it('has every spawnguard search attribute registered with its type', async () => {
    const client = await testClient();
    const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    // IndexedValueType: 2 = KEYWORD, 3 = INT
    const expected = Object.fromEntries(
      Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => [name, type === 'Int' ? 3 : 2]),
    );
    const actual = Object.fromEntries(Object.keys(SEARCH_ATTRIBUTES).map((name) => [name, customAttributes[name]]));
    expect(actual).toEqual(expected);
  });

  it('runs a workflow through a real worker and indexes its search attributes', async () => {
    const client = await testClient();
    const taskQueue = uniqueTaskQueue('foundation');
    const alertId = `alert-${randomUUID()}`;
    const result = await withWorker(
      {
        taskQueue,
        workflowsPath: require.resolve('./fixtures/workflows/smoke'),
        activities: { greet: async (name: string) => `hello ${name}` },
      },
      async () => {
        const handle = await client.workflow.start('smokeWorkflow', {
          taskQueue,
          workflowId: `smoke-${alertId}`,
          args: [alertId],
        });
        const value = await handle.result();
        const description = await handle.describe();
        expect(description.typedSearchAttributes.get(SA.AlertId)).toBe(alertId);
        expect(description.typedSearchAttributes.get(SA.RiskScore)).toBe(42);
        return value;
      },
    );
    expect(result).toBe(`hello ${alertId}`);

    // Visibility is eventually consistent: poll the list query until the indexed run shows up.
    let found: string[] = [];
    for (let attempt = 0; attempt < 40 && found.length === 0; attempt++) {
      found = [];
      for await (const execution of client.workflow.list({ query: `AlertId = "${alertId}" AND RiskScore = 42` })) {
        found.push(execution.workflowId);
      }
      if (found.length === 0) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(found).toEqual([`smoke-${alertId}`]);
  });
});
