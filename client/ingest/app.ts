/**
 * The ingest service (DESIGN.md §3): `POST /v1/alerts` → `202 { workflowId, runId, deduplicated }`
 * once Temporal has durably accepted the alert; the incident API; health checks; the review page.
 */
import type { Client } from '@temporalio/client';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { CanonicalAlert } from '../../common/alert';
import { incidentWorkflowId } from '../../common/incident';
import { PersistenceReviewSchema, ReviewUpdateSchema, type PlaybookPolicy } from '../../common/playbook';
import { registerReviewPage, WorkflowIdSchema } from '../review/page';
import { analystName, historyIdentity, type OidcSignIn, type SignedInAnalyst } from '../review/oidc';
import rateLimit from '@fastify/rate-limit';
import { bearerToken, credentialCheck, type SenderCredential } from './auth';
import { InvalidAlertsError, parseAlertDocuments } from './documents';
import {
  incidentStatus,
  pendingReviews,
  restoreStatus,
  reviewIncident,
  reviewPersistence,
  startRestore,
} from './incidents';
import { RestoreInputSchema } from '../../common/restore';
import { RecentAlerts } from './recent-alerts';
import { submitAlert, type Submission } from './submit';
import { classifyTemporalError, withTemporalDeadline, type TemporalProblem } from './temporal';

export interface IngestAppOptions {
  client: Client;
  /** SPAWNGUARD_INGEST_TOKEN: bearer token for the API, and the review page's sign-in. */
  ingestToken: string;
  /** SPAWNGUARD_INGEST_CREDENTIALS: senders (a SIEM, an EDR) that may post alerts and nothing else. */
  senders?: SenderCredential[];
  /** SPAWNGUARD_INGEST_RATE_LIMIT: requests a minute to `POST /v1/alerts` per credential (0: none). */
  rateLimitPerMinute?: number;
  /** SPAWNGUARD_LINK_SECRET: signs review links and the review page's session. */
  linkSecret: string;
  policy: PlaybookPolicy;
  /** A pino logger (JSON lines); see `createLogger`. */
  logger: FastifyBaseLogger;
  /** `spawnguard-central` unless a test gives its own. */
  taskQueue?: string;
  /** Largest request body in bytes (a batch included); larger ones get 413. */
  bodyLimit?: number;
  /** How long one Temporal call may take before the request is answered 503. */
  temporalDeadlineMs?: number;
  retryAfterSeconds?: number;
  recentAlerts?: RecentAlerts;
  secureCookies?: boolean;
  /**
   * Analyst sign-in (OpenID Connect): the review page and the review API take analysts' own
   * sign-in and access tokens, and the ingest token then posts alerts and nothing else.
   */
  oidc?: OidcSignIn;
  /** SPAWNGUARD_TEMPORAL_UI_URL, for the review page's link to each incident's audit trail. */
  temporalUiUrl?: string;
}

/** Room for a full batch of Elastic alerts (a few kB each). */
export const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;
/** No alert format nests deeper than a dozen levels; a batch adds one. */
export const MAX_JSON_DEPTH = 64;

/** True when `text` opens more than `limit` arrays/objects at once (strings and escapes skipped). */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
/** The name `SPAWNGUARD_INGEST_TOKEN` goes by in logs and rate limits. */
export const INGEST_TOKEN_CREDENTIAL = 'ingest-token';
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 6_000;

declare module 'fastify' {
  interface FastifyRequest {
    /** The credential that authenticated the request (`ingest-token`, or a sender's name). */
    credential?: string;
    /** The analyst an access token named (OpenID Connect mode). */
    analyst?: SignedInAnalyst;
  }
}

/** Alerts of one batch submitted to Temporal at once. */
const BATCH_CONCURRENCY = 8;

function unauthorized(reply: FastifyReply): FastifyReply {
  return reply.code(401).header('www-authenticate', 'Bearer realm="spawnguard"').send({
    error: 'unauthorized',
    message: 'missing or invalid bearer token (Authorization: Bearer <SPAWNGUARD_INGEST_TOKEN>)',
  });
}

export async function buildIngestApp(options: IngestAppOptions): Promise<FastifyInstance> {
  const { client, ingestToken, policy } = options;
  const deadlineMs = options.temporalDeadlineMs ?? 10_000;
  const retryAfter = String(options.retryAfterSeconds ?? 5);
  const recent = options.recentAlerts ?? new RecentAlerts();

  // One log line per request, written when it completes (fastify's default writes two: at a few
  // hundred alerts a second, logging was a measurable share of the ingest's CPU).
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.addHook('onResponse', (request, reply, done) => {
    const fields = { req: request, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime };
    // An accepted alert already has its line ("incident started", with its ids); everything else gets one here.
    const acceptedAlert =
      request.method === 'POST' && request.routeOptions.url === '/v1/alerts' && reply.statusCode < 400;
    if (acceptedAlert) request.log.debug(fields, 'request completed');
    else request.log.info(fields, 'request completed');
    done();
  });
  // JSON with fastify's prototype-poisoning guards, but never deeper than any alert format nests:
  // a hostile body of 100,000 nested arrays is refused before anything walks it. Some webhook senders
  // label JSON as text/plain: it is read as JSON too, rather than as a string no format matches.
  const json = app.getDefaultJsonParser('error', 'error');
  const cappedJson: Parameters<typeof app.addContentTypeParser>[2] = (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
      const error = Object.assign(new Error(`the body nests JSON deeper than ${MAX_JSON_DEPTH} levels`), {
        statusCode: 400,
      });
      done(error, undefined);
      return;
    }
    json(request, text, done);
  };
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, cappedJson);
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, cappedJson);

  const temporalProblem = (reply: FastifyReply, problem: TemporalProblem): FastifyReply => {
    switch (problem.kind) {
      case 'unavailable':
        return reply
          .code(503)
          .header('retry-after', retryAfter)
          .send({ error: 'temporal-unavailable', message: problem.message });
      case 'not-found':
        return reply.code(404).send({ error: 'not-found', message: problem.message });
      case 'rejected':
        return reply.code(409).send({ error: 'rejected', message: problem.message });
      case 'closed':
        return reply.code(409).send({ error: 'incident-closed', message: problem.message });
      default:
        return reply.code(502).send({ error: 'temporal-error', message: problem.message });
    }
  };

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const statusCode = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (statusCode === 500) request.log.error({ err: error }, 'request failed');
    const messages: Record<string, string> = {
      FST_ERR_CTP_BODY_TOO_LARGE: `request body is larger than ${options.bodyLimit ?? DEFAULT_BODY_LIMIT} bytes`,
      FST_ERR_CTP_INVALID_MEDIA_TYPE: 'send the alert as JSON (Content-Type: application/json)',
      FST_ERR_CTP_EMPTY_JSON_BODY: 'the request body is empty: send an alert document or a batch array',
    };
    const message =
      (error.code && messages[error.code]) ??
      (error.name === 'SyntaxError'
        ? `the body is not valid JSON: ${error.message}`
        : statusCode === 500
          ? 'internal error'
          : error.message);
    const kind = statusCode === 500 ? 'internal' : statusCode === 429 ? 'rate-limited' : 'bad-request';
    return reply.code(statusCode).send({ error: kind, message });
  });

  // Authentication runs before the body is read: an unauthenticated sender cannot make us parse anything.
  // Alerts may come from the ingest token or from a sender's own credential (which opens nothing else).
  const senders = options.senders ?? [];
  if (senders.some((s) => s.name === INGEST_TOKEN_CREDENTIAL)) {
    throw new Error(`"${INGEST_TOKEN_CREDENTIAL}" is the ingest token's name; give the sender another`);
  }
  const ingestTokenOnly = [{ name: INGEST_TOKEN_CREDENTIAL, token: ingestToken }];
  /** Refuses a request whose bearer token is none of `credentials`; names the one it is. */
  const authenticate = (credentials: SenderCredential[]) => {
    const which = credentialCheck(credentials);
    return async (request: FastifyRequest, reply: FastifyReply) => {
      const name = which(request.headers.authorization);
      if (name === undefined) {
        request.log.warn({ url: request.url }, 'unauthenticated request refused');
        return unauthorized(reply);
      }
      request.credential = name;
    };
  };
  const oidc = options.oidc;
  /**
   * The review API's readers and deciders: the ingest token in the zero-setup mode; with sign-in,
   * an analyst's access token from the identity provider (checked at its userinfo endpoint).
   */
  const requireBearer = oidc
    ? async (request: FastifyRequest, reply: FastifyReply) => {
        const token = bearerToken(request.headers.authorization);
        if (token === undefined) return unauthorized(reply);
        try {
          request.analyst = await oidc.verifyAccessToken(token);
          request.credential = `analyst:${request.analyst.identity.subject}`;
        } catch (err) {
          request.log.warn({ url: request.url, reason: (err as Error).message }, 'analyst token refused');
          return unauthorized(reply);
        }
      }
    : authenticate(ingestTokenOnly);
  const requireSender = authenticate([...ingestTokenOnly, ...senders]);
  // Each credential has its own budget, counted after authentication and before the body is read:
  // a runaway or compromised sender is slowed down without starving the others.
  const perMinute = options.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE;
  await app.register(rateLimit, { global: false });
  const alertsRateLimit =
    perMinute > 0
      ? {
          rateLimit: {
            max: perMinute,
            timeWindow: 60_000,
            hook: 'preParsing' as const,
            keyGenerator: (request: FastifyRequest) => request.credential ?? 'unauthenticated',
            onExceeded: (request: FastifyRequest) =>
              request.log.warn({ credential: request.credential }, 'alert rate limit reached: 429'),
            errorResponseBuilder: (request: FastifyRequest, context: { max: number; after: string }) => ({
              statusCode: 429,
              code: 'RATE_LIMITED',
              message: `credential "${request.credential}" sent more than ${context.max} requests a minute; retry in ${context.after} (nothing in this request was accepted)`,
            }),
          },
        }
      : {};

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (request, reply) => {
    try {
      await withTemporalDeadline(client, Math.min(deadlineMs, 3_000), () =>
        client.workflowService.describeNamespace({ namespace: client.options.namespace }),
      );
      return { status: 'ready', namespace: client.options.namespace };
    } catch (err) {
      const problem = classifyTemporalError(err);
      request.log.warn({ problem }, 'not ready');
      return reply
        .code(503)
        .header('retry-after', retryAfter)
        .send({ status: 'unavailable', message: problem.message });
    }
  });

  app.post('/v1/alerts', { onRequest: requireSender, config: alertsRateLimit }, async (request, reply) => {
    let alerts: CanonicalAlert[];
    let batch: boolean;
    try {
      ({ alerts, batch } = parseAlertDocuments(request.body));
    } catch (err) {
      if (!(err instanceof InvalidAlertsError)) throw err;
      request.log.info({ problems: err.problems.slice(0, 10) }, 'alert refused');
      return reply.code(400).send({ error: 'invalid-alert', message: err.message, problems: err.problems });
    }

    const submitOne = async (alert: CanonicalAlert): Promise<Submission> => {
      const workflowId = incidentWorkflowId(alert);
      const submission = await recent.submit(workflowId, alert.alertId, () =>
        submitAlert(client, alert, {
          workflowId,
          policy,
          deadlineMs,
          ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}),
        }),
      );
      request.log.info(
        {
          alertId: alert.alertId,
          workflowId,
          runId: submission.runId,
          deduplicated: submission.deduplicated,
          source: alert.source,
          credential: request.credential,
        },
        submission.closed
          ? 'alert of an incident that already completed (a re-send): acknowledged, not re-run'
          : submission.reopened
            ? `new evidence for a closed incident: re-opened as ${submission.workflowId}`
            : submission.deduplicated
              ? 'alert attached to its incident'
              : 'incident started',
      );
      return submission;
    };

    const outcomes: PromiseSettledResult<Submission>[] = [];
    for (let i = 0; i < alerts.length; i += BATCH_CONCURRENCY) {
      outcomes.push(...(await Promise.allSettled(alerts.slice(i, i + BATCH_CONCURRENCY).map(submitOne))));
    }
    const failed = outcomes.findIndex((o) => o.status === 'rejected');
    if (failed >= 0) {
      const alert = alerts[failed] as CanonicalAlert;
      const problem = classifyTemporalError((outcomes[failed] as PromiseRejectedResult).reason);
      request.log.warn(
        { alertId: alert.alertId, workflowId: incidentWorkflowId(alert), problem },
        'alert not accepted: Temporal did not take it',
      );
      // Never a 202 unless every alert is in Temporal; a resent batch is harmless (USE_EXISTING).
      return temporalProblem(reply, problem);
    }
    const submissions = outcomes.map((o) => (o as PromiseFulfilledResult<Submission>).value);
    return reply.code(202).send(batch ? { results: submissions } : submissions[0]);
  });

  app.get('/v1/reviews', { onRequest: requireBearer }, async (request, reply) => {
    try {
      return { reviews: await pendingReviews(client, { deadlineMs }) };
    } catch (err) {
      return temporalProblem(reply, classifyTemporalError(err));
    }
  });

  app.get('/v1/incidents/:workflowId', { onRequest: requireBearer }, async (request, reply) => {
    const workflowId = WorkflowIdSchema.safeParse((request.params as { workflowId: string }).workflowId);
    if (!workflowId.success)
      return reply
        .code(400)
        .send({ error: 'bad-request', message: `workflowId ${workflowId.error.issues[0]?.message}` });
    try {
      return await incidentStatus(client, workflowId.data, deadlineMs);
    } catch (err) {
      return temporalProblem(reply, classifyTemporalError(err));
    }
  });

  app.post('/v1/incidents/:workflowId/review', { onRequest: requireBearer }, async (request, reply) => {
    const workflowId = WorkflowIdSchema.safeParse((request.params as { workflowId: string }).workflowId);
    if (!workflowId.success)
      return reply
        .code(400)
        .send({ error: 'bad-request', message: `workflowId ${workflowId.error.issues[0]?.message}` });
    const analyst = request.analyst;
    if (analyst && !analyst.canApprove) {
      return reply.code(403).send({
        error: 'forbidden',
        message: `${analystName(analyst.identity)} may view incidents but not decide (deciding takes membership of ${oidc!.settings.approverGroup})`,
      });
    }
    const body = request.body;
    // Signed in, the analyst is who the provider says: a name in the body is not taken.
    const review = ReviewUpdateSchema.safeParse(
      analyst && body && typeof body === 'object' && !Array.isArray(body)
        ? { ...body, analyst: analystName(analyst.identity), identity: analyst.identity }
        : body,
    );
    if (!review.success) {
      const message = review.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
      return reply.code(400).send({ error: 'invalid-review', message });
    }
    if (!analyst && review.data.identity) {
      return reply.code(400).send({ error: 'invalid-review', message: 'identity: set by sign-in only' });
    }
    try {
      const state = await reviewIncident(
        client,
        workflowId.data,
        review.data,
        deadlineMs,
        undefined,
        analyst ? historyIdentity(analyst.identity) : undefined,
      );
      request.log.info(
        { workflowId: workflowId.data, decision: review.data.decision, analyst: review.data.analyst },
        'review decision recorded',
      );
      return state;
    } catch (err) {
      return temporalProblem(reply, classifyTemporalError(err));
    }
  });

  /**
   * The signed-in analyst may decide (or 403 is sent), and the body as the decision schema reads it:
   * signed in, the analyst is who the provider says (a name in the body is not taken).
   */
  const deciderBody = (request: FastifyRequest, reply: FastifyReply): unknown | undefined => {
    const analyst = request.analyst;
    if (analyst && !analyst.canApprove) {
      void reply.code(403).send({
        error: 'forbidden',
        message: `${analystName(analyst.identity)} may view incidents but not decide (deciding takes membership of ${oidc!.settings.approverGroup})`,
      });
      return undefined;
    }
    const body = request.body;
    if (!analyst) {
      if (body && typeof body === 'object' && 'identity' in body) {
        void reply.code(400).send({ error: 'invalid-request', message: 'identity: set by sign-in only' });
        return undefined;
      }
      return body;
    }
    return body && typeof body === 'object' && !Array.isArray(body)
      ? { ...body, analyst: analystName(analyst.identity), identity: analyst.identity }
      : body;
  };
  const workflowIdOf = (request: FastifyRequest, reply: FastifyReply): string | undefined => {
    const workflowId = WorkflowIdSchema.safeParse((request.params as { workflowId: string }).workflowId);
    if (workflowId.success) return workflowId.data;
    void reply.code(400).send({ error: 'bad-request', message: `workflowId ${workflowId.error.issues[0]?.message}` });
    return undefined;
  };
  const problems = (error: { issues: { path: PropertyKey[]; message: string }[] }) =>
    error.issues.map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`).join('; ');

  // Persistence entries proposed after remediation: remove (backed up first) or keep, per entry or all.
  app.post('/v1/incidents/:workflowId/persistence', { onRequest: requireBearer }, async (request, reply) => {
    const workflowId = workflowIdOf(request, reply);
    if (workflowId === undefined) return reply;
    const body = deciderBody(request, reply);
    if (body === undefined) return reply;
    const review = PersistenceReviewSchema.safeParse(body);
    if (!review.success) return reply.code(400).send({ error: 'invalid-review', message: problems(review.error) });
    try {
      const state = await reviewPersistence(
        client,
        workflowId,
        review.data,
        deadlineMs,
        request.analyst ? historyIdentity(request.analyst.identity) : undefined,
      );
      request.log.info(
        {
          workflowId,
          decision: review.data.decision,
          entries: review.data.entries ?? 'all',
          analyst: review.data.analyst,
        },
        'persistence review recorded',
      );
      return state;
    } catch (err) {
      return temporalProblem(reply, classifyTemporalError(err));
    }
  });

  // Undo: put back what the incident quarantined or removed, through its own workflow.
  app.post('/v1/incidents/:workflowId/restore', { onRequest: requireBearer }, async (request, reply) => {
    const workflowId = workflowIdOf(request, reply);
    if (workflowId === undefined) return reply;
    const body = deciderBody(request, reply);
    if (body === undefined) return reply;
    const input = RestoreInputSchema.safeParse(
      body && typeof body === 'object' && !Array.isArray(body) ? { ...body, incidentId: workflowId, policy } : body,
    );
    if (!input.success) return reply.code(400).send({ error: 'invalid-restore', message: problems(input.error) });
    try {
      const restore = await startRestore(client, input.data, {
        deadlineMs,
        ...(request.analyst ? { historyIdentity: historyIdentity(request.analyst.identity) } : {}),
      });
      request.log.info({ workflowId, restore, analyst: input.data.analyst }, 'restore started');
      return reply.code(202).send({ workflowId: restore });
    } catch (err) {
      return temporalProblem(reply, classifyTemporalError(err));
    }
  });

  app.get('/v1/restores/:workflowId', { onRequest: requireBearer }, async (request, reply) => {
    const workflowId = workflowIdOf(request, reply);
    if (workflowId === undefined) return reply;
    if (!/\.restore-\d+$/.test(workflowId)) {
      return reply
        .code(404)
        .send({ error: 'not-found', message: `${workflowId} is not a restore (<incident>.restore-<n>)` });
    }
    try {
      return await restoreStatus(client, workflowId, deadlineMs);
    } catch (err) {
      return temporalProblem(reply, classifyTemporalError(err));
    }
  });

  await registerReviewPage(app, {
    client,
    ingestToken,
    linkSecret: options.linkSecret,
    temporalDeadlineMs: deadlineMs,
    policy,
    ...(options.secureCookies ? { secureCookies: true } : {}),
    ...(oidc ? { oidc } : {}),
    ...(options.temporalUiUrl ? { temporalUiUrl: options.temporalUiUrl } : {}),
  });
  return app;
}
