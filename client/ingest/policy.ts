/** The playbook policy every new incident starts with, from the one configuration (DESIGN.md §3). */
import type { Environment } from '../../common/config';
import { PlaybookPolicySchema, type PlaybookPolicy } from '../../common/playbook';

export function policyFromEnvironment(env: Environment): PlaybookPolicy {
  return PlaybookPolicySchema.parse({
    decision: { trustedPublishers: env.SPAWNGUARD_TRUSTED_PUBLISHERS },
    reviewTimeout: env.SPAWNGUARD_REVIEW_TIMEOUT,
    reviewTimeoutPolicy: env.SPAWNGUARD_REVIEW_TIMEOUT_POLICY,
    suspiciousPolicy: env.SPAWNGUARD_SUSPICIOUS_POLICY,
    persistenceReviewTimeout: env.SPAWNGUARD_PERSISTENCE_REVIEW_TIMEOUT,
    relatedWindow: env.SPAWNGUARD_RELATED_WINDOW,
    hostUnreachableTimeout: env.SPAWNGUARD_HOST_UNREACHABLE_TIMEOUT,
    notificationTimeout: env.SPAWNGUARD_NOTIFICATION_TIMEOUT,
    hostLivenessTimeout: env.SPAWNGUARD_HOST_LIVENESS_TIMEOUT,
    historyEventBound: env.SPAWNGUARD_HISTORY_EVENT_BOUND,
    ...(env.SPAWNGUARD_QUARANTINE_DIR ? { quarantineDirectory: env.SPAWNGUARD_QUARANTINE_DIR } : {}),
    lab: env.SPAWNGUARD_LAB,
    ...(env.SPAWNGUARD_HOST_QUEUE_NAMES === 'fqdn'
      ? {
          hostQueues: {
            names: 'fqdn',
            ...(env.SPAWNGUARD_HOST_DOMAIN ? { domain: env.SPAWNGUARD_HOST_DOMAIN } : {}),
          },
        }
      : {}),
  });
}
