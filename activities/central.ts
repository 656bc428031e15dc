/**
 * The activities the central worker registers on `spawnguard-central`: reputation lookups, the
 * recorded decision and the two emails (CentralActivities in common/incident-status.ts).
 */
import { Context } from '@temporalio/activity';
import type { Config } from '../common/config';
import type { CentralActivities } from '../common/incident-status';
import { createDecisionActivities } from './decision';
import { createReputationService, type ReputationServiceOptions } from './enrichment';
import { createNotificationActivities, type NotificationOptions } from './notification';
import { createIncidentReader, createRelatedActivities } from './incidents';

export interface CentralActivitiesOptions {
  /** Timeouts, 429 backoff and cache of the reputation sources (defaults suit production). */
  reputation?: ReputationServiceOptions;
  /** A mailer other than SMTP from the config, and the signer of review-page links. */
  notification?: NotificationOptions;
}

/**
 * Builds the activities from the one config. Throws ConfigError when an allow/deny list file is
 * unreadable or malformed, so a worker refuses to start rather than run with half its sources.
 */
export function createCentralActivities(config: Config, options: CentralActivitiesOptions = {}): CentralActivities {
  const reputation = createReputationService(config, options.reputation);
  const notification = createNotificationActivities(config, options.notification);
  return {
    ...createDecisionActivities(),
    ...createRelatedActivities(),
    ...createIncidentReader(),
    lookupReputation: (request) => reputation.lookupReputation(request, activityCancellation()),
    sendIncidentReport: (request) => notification.sendIncidentReport(request),
    sendReviewRequest: (request) => notification.sendReviewRequest(request),
    sendHostMissingNotice: (request) => notification.sendHostMissingNotice(request),
    sendRestoreReport: (request) => notification.sendRestoreReport(request),
  };
}

/** The activity's cancellation signal when running as one (tests also call these directly). */
function activityCancellation(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}
