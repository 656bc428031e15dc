/**
 * The notification activities: validate the request, build the email from the incident status,
 * send it. The request is workflow history, so it carries no secret: a signed review link is made
 * here (by `reviewLink`), not passed in.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { publicUrl, type Config } from '../../common/config';
import { IncidentStatusSchema, type CentralActivities } from '../../common/incident-status';
import { createMailer, type Mailer } from './mailer';
import { buildIncidentReport } from './report';
import { buildHostMissingNotice } from './host-missing';
import { buildRestoreReport } from './restore-report';
import { RestoreStatusSchema } from '../../common/restore';
import { buildReviewRequest } from './review-request';
import { temporalUiLink, type IncidentLinks } from './sections';

export { buildIncidentReport } from './report';
export { buildReviewRequest } from './review-request';
export { escapeHtml, type EmailContent } from './document';
export { temporalUiLink } from './sections';
export { createMailer, describeMailConfiguration, mailConfiguration, MAIL_FAILURE_TYPES, type Mailer } from './mailer';

export type NotificationActivities = Pick<
  CentralActivities,
  'sendIncidentReport' | 'sendReviewRequest' | 'sendHostMissingNotice' | 'sendRestoreReport'
>;

export interface NotificationOptions {
  mailer?: Mailer;
  /**
   * The review page link for an incident (`${SPAWNGUARD_PUBLIC_URL}/review/<workflowId>?token=…`),
   * signed by the ingest side; used when the request carries no `reviewUrl`. Without either, the
   * email gives the CLI and HTTP instructions only.
   */
  reviewLink?: (workflowId: string, firstRunId?: string) => string | undefined;
}

const webLink = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' });
const IncidentReportRequestSchema = z.object({ status: IncidentStatusSchema, uiUrl: webLink.optional() });
const ReviewRequestSchema = z.object({
  status: IncidentStatusSchema,
  reviewUrl: webLink.optional(),
  reminder: z.boolean().optional(),
});

const HostMissingNoticeSchema = z.object({ status: IncidentStatusSchema });
const RestoreReportSchema = z.object({ restore: RestoreStatusSchema, incident: IncidentStatusSchema });

function parseRequest<T extends z.ZodType>(schema: T, request: unknown, activity: string): z.infer<T> {
  const parsed = schema.safeParse(request);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'request'}: ${issue.message}`);
  throw ApplicationFailure.nonRetryable(
    `${activity} got an invalid request: ${problems.slice(0, 10).join('; ')}`,
    'InvalidRequest',
  );
}

export function createNotificationActivities(
  config: Config,
  options: NotificationOptions = {},
): NotificationActivities {
  const mailer = options.mailer ?? createMailer(config.env);
  const links: IncidentLinks = {
    temporalUiUrl: config.env.SPAWNGUARD_TEMPORAL_UI_URL ?? 'http://localhost:8233',
    namespace: config.temporal.namespace,
  };
  const reviewPageBase = publicUrl(config.env);

  /** The run being reported when called as an activity of it: its page opens on the right run. */
  function incidentLink(workflowId: string): string {
    const run = currentRun();
    return temporalUiLink(links, workflowId, run?.workflowId === workflowId ? run.runId : undefined);
  }

  return {
    async sendIncidentReport(request) {
      const { status, uiUrl } = parseRequest(IncidentReportRequestSchema, request, 'sendIncidentReport');
      const content = buildIncidentReport(status, { incidentLink: uiUrl ?? incidentLink(status.workflowId) });
      return mailer.send('report', status.workflowId, content);
    },
    async sendReviewRequest(request) {
      const { status, reviewUrl, reminder } = parseRequest(ReviewRequestSchema, request, 'sendReviewRequest');
      const signedLink = reviewUrl ?? options.reviewLink?.(status.workflowId, status.firstRunId);
      const content = buildReviewRequest(status, {
        incidentLink: incidentLink(status.workflowId),
        publicUrl: reviewPageBase,
        ...(signedLink ? { reviewUrl: signedLink } : {}),
        ...(reminder ? { reminder } : {}),
      });
      return mailer.send('review-request', status.workflowId, content);
    },
    async sendHostMissingNotice(request) {
      const { status } = parseRequest(HostMissingNoticeSchema, request, 'sendHostMissingNotice');
      return mailer.send(
        'host-missing',
        status.workflowId,
        buildHostMissingNotice(status, { incidentLink: incidentLink(status.workflowId) }),
      );
    },
    async sendRestoreReport(request) {
      const { restore, incident } = parseRequest(RestoreReportSchema, request, 'sendRestoreReport');
      return mailer.send(
        'restore',
        restore.workflowId,
        buildRestoreReport(restore, incident, {
          restoreLink: incidentLink(restore.workflowId),
          incidentLink: temporalUiLink(links, incident.workflowId),
        }),
      );
    },
  };
}

function currentRun(): { workflowId: string; runId: string } | undefined {
  try {
    return Context.current().info.workflowExecution ?? undefined;
  } catch {
    // Not inside an activity (a direct call from a test or the CLI).
    return undefined;
  }
}
