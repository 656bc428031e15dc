/**
 * `decideIncident`: the decision engine run once, as an activity of the playbook, so the
 * verdict and plan are recorded in the incident's history. A replay reads them back instead of
 * running the rules again: a release that changes a rule never changes the plan an analyst is
 * reviewing, nor breaks the replay of an incident waiting for review.
 */
import type { CentralActivities } from '../common/incident-status';
import { decide } from '../workflows/decision';

export function createDecisionActivities(): Pick<CentralActivities, 'decideIncident'> {
  return {
    async decideIncident({ alert, enrichment, policy, related }) {
      return decide({ alert, enrichment, policy, ...(related ? { related } : {}) });
    },
  };
}
