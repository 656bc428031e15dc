/**
 * The review page (served by the ingest service):
 *
 * - `GET /review` lists pending reviews once the analyst has signed in with the ingest token;
 * - `GET /review/<workflowId>?token=…` opens one incident from an email link;
 * - `POST /review/<workflowId>` approves or rejects, authorized by the link token in the form (or
 *   the ingest token as a bearer header).
 *
 * Every GET only reads (mail scanners and link previews open links); the only thing that acts is
 * the form's POST, which carries a token a cross-site page cannot know.
 */
import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ReviewUpdateSchema } from '../../common/playbook';
import { hasValidBearer, secretsEqual } from '../ingest/auth';
import { incidentStatus, pendingReviews, reviewIncident } from '../ingest/incidents';
import { classifyTemporalError, type TemporalProblem } from '../ingest/temporal';
import { signReviewToken, signSession, verifyReviewToken, verifySession, type TokenCheck } from './links';
import { incidentPage, listPage, loginPage, messagePage } from './render';

export interface ReviewPageOptions {
  client: Client;
  ingestToken: string;
  linkSecret: string;
  /** Marks the session cookie `Secure` when the page is served over HTTPS. */
  secureCookies?: boolean;
  temporalDeadlineMs?: number;
  /** Lifetime of the tokens the list page puts in its forms, and of a sign-in. */
  listTokenTtlMs?: number;
  sessionTtlMs?: number;
}

const SESSION_COOKIE = 'spawnguard_review';

export const WorkflowIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,512}$/, 'must be a workflow id (letters, digits, . _ : -)');

const DecisionFormSchema = z.object({
  token: z.string().max(200).optional(),
  decision: z.enum(['approve', 'reject'], { message: 'decision must be approve or reject' }),
  analyst: z.string().max(256).default(''),
  comment: z
    .string()
    .max(4096)
    .optional()
    .transform((c) => (c && c.trim() ? c.trim() : undefined)),
});

const SECURITY_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  // No script at all; forms post only to this origin; never framed (clickjacking on the buttons).
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  // The link's token must not leak to other sites through Referer.
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

function html(reply: FastifyReply, code: number, body: string): FastifyReply {
  return reply.code(code).headers(SECURITY_HEADERS).send(body);
}

function cookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

const EARLIER_INCIDENT =
  'This review link was issued for an earlier incident under this id, which has ended. Open the current incident from the pending-review list.';

function tokenRefusal(check: TokenCheck & { valid: false }): string {
  return check.reason === 'expired'
    ? 'This review link has expired. Open the incident from the pending-review list, or ask for a new link.'
    : 'This review link is not valid.';
}

function problemPage(reply: FastifyReply, problem: TemporalProblem): FastifyReply {
  if (problem.kind === 'not-found') return html(reply, 404, messagePage('Incident not found', problem.message));
  if (problem.kind === 'unavailable') {
    reply.header('retry-after', '5');
    return html(reply, 503, messagePage('Temporal unavailable', `${problem.message}. Try again in a moment.`));
  }
  if (problem.kind === 'rejected' || problem.kind === 'closed')
    return html(reply, 409, messagePage('Not recorded', problem.message));
  return html(reply, 502, messagePage('Something went wrong', problem.message));
}

export async function registerReviewPage(app: FastifyInstance, options: ReviewPageOptions): Promise<void> {
  const { client, ingestToken, linkSecret } = options;
  const deadlineMs = options.temporalDeadlineMs ?? 10_000;
  const listTokenTtlMs = options.listTokenTtlMs ?? 60 * 60_000;
  const sessionTtlMs = options.sessionTtlMs ?? 12 * 60 * 60_000;

  await app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 64 * 1024 },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );

    const signedIn = (request: FastifyRequest) => {
      const session = cookie(request, SESSION_COOKIE);
      return session !== undefined && verifySession(session, linkSecret).valid;
    };

    scope.get('/review', async (request, reply) => {
      if (!signedIn(request)) return html(reply, 200, loginPage());
      try {
        const reviews = await pendingReviews(client, { deadlineMs });
        const expiresAt = Date.now() + listTokenTtlMs;
        return html(
          reply,
          200,
          listPage(reviews, (workflowId) => signReviewToken(workflowId, linkSecret, expiresAt)),
        );
      } catch (err) {
        return problemPage(reply, classifyTemporalError(err));
      }
    });

    scope.post('/review/login', async (request, reply) => {
      const token = z.object({ token: z.string().max(1024) }).safeParse(request.body);
      if (!token.success || !secretsEqual(token.data.token, ingestToken)) {
        request.log.warn('review page sign-in refused');
        return html(reply, 401, loginPage('That is not the ingest token.'));
      }
      const expiresAt = Date.now() + sessionTtlMs;
      const attributes = [
        'Path=/review',
        'HttpOnly',
        'SameSite=Strict',
        `Max-Age=${Math.floor(sessionTtlMs / 1000)}`,
        ...(options.secureCookies ? ['Secure'] : []),
      ];
      reply.header('set-cookie', `${SESSION_COOKIE}=${signSession(linkSecret, expiresAt)}; ${attributes.join('; ')}`);
      return reply.code(303).header('location', '/review').send();
    });

    scope.get('/review/:workflowId', async (request, reply) => {
      const workflowId = WorkflowIdSchema.safeParse((request.params as { workflowId: string }).workflowId);
      if (!workflowId.success) return html(reply, 400, messagePage('Bad link', 'The link does not name an incident.'));
      const query = z.object({ token: z.string().max(200).optional() }).safeParse(request.query);
      const presented = query.success ? query.data.token : undefined;
      let boundTo: string | undefined;
      if (presented !== undefined) {
        const check = verifyReviewToken(presented, workflowId.data, linkSecret);
        if (!check.valid) {
          request.log.warn({ workflowId: workflowId.data, reason: check.reason }, 'review link refused');
          return html(reply, 403, messagePage('Link refused', tokenRefusal(check)));
        }
        boundTo = check.firstRunId;
      } else if (!signedIn(request)) {
        return html(
          reply,
          403,
          messagePage('Link refused', 'Open this incident from its review link or sign in at /review.'),
        );
      }
      try {
        const status = await incidentStatus(client, workflowId.data, deadlineMs);
        if (boundTo !== undefined && status.firstRunId !== boundTo) {
          request.log.warn({ workflowId: workflowId.data, boundTo }, 'review link of an earlier incident refused');
          return html(reply, 403, messagePage('Link refused', EARLIER_INCIDENT));
        }
        // A signed-in analyst gets a token for this incident's chain of runs, as an email link would.
        const token =
          presented ?? signReviewToken(workflowId.data, linkSecret, Date.now() + listTokenTtlMs, status.firstRunId);
        return html(reply, 200, incidentPage(status, token));
      } catch (err) {
        return problemPage(reply, classifyTemporalError(err));
      }
    });

    scope.post('/review/:workflowId', async (request, reply) => {
      const workflowId = WorkflowIdSchema.safeParse((request.params as { workflowId: string }).workflowId);
      if (!workflowId.success) return html(reply, 400, messagePage('Bad request', 'No such incident.'));
      const form = DecisionFormSchema.safeParse(request.body ?? {});
      if (!form.success) {
        return html(reply, 400, messagePage('Not recorded', form.error.issues.map((i) => i.message).join('; ')));
      }
      const { token, decision, analyst, comment } = form.data;
      const bearer = hasValidBearer(request.headers.authorization, ingestToken);
      let boundTo: string | undefined;
      if (!bearer) {
        const check: TokenCheck = token
          ? verifyReviewToken(token, workflowId.data, linkSecret)
          : { valid: false, reason: 'malformed' };
        if (!check.valid) {
          request.log.warn({ workflowId: workflowId.data, reason: check.reason }, 'review decision refused');
          return html(reply, 403, messagePage('Not recorded', tokenRefusal(check)));
        }
        boundTo = check.firstRunId;
      }
      const review = ReviewUpdateSchema.safeParse({ decision, analyst, ...(comment ? { comment } : {}) });
      if (!review.success) {
        const message = review.error.issues.map((i) => i.message).join('; ');
        try {
          const status = await incidentStatus(client, workflowId.data, deadlineMs);
          return html(reply, 400, incidentPage(status, token, { analyst, comment, error: message }));
        } catch {
          return html(reply, 400, messagePage('Not recorded', message));
        }
      }
      try {
        // A link's decision goes to the chain of runs the link was issued for, or nowhere.
        await reviewIncident(client, workflowId.data, review.data, deadlineMs, boundTo);
      } catch (err) {
        const problem = classifyTemporalError(err);
        if (boundTo !== undefined && problem.kind === 'not-found') {
          request.log.warn({ workflowId: workflowId.data, boundTo }, 'review decision for an earlier incident refused');
          return html(reply, 403, messagePage('Not recorded', EARLIER_INCIDENT));
        }
        request.log.warn({ workflowId: workflowId.data, problem }, 'review decision not recorded');
        return problemPage(reply, problem);
      }
      request.log.info(
        { workflowId: workflowId.data, decision, analyst: review.data.analyst, via: bearer ? 'bearer' : 'link' },
        'review decision recorded',
      );
      // Post/redirect/get: reloading the result page must not submit the decision again.
      const location = `/review/${encodeURIComponent(workflowId.data)}${token ? `?token=${encodeURIComponent(token)}` : ''}`;
      if (token) return reply.code(303).header('location', location).send();
      return html(
        reply,
        200,
        messagePage(
          'Recorded',
          `${decision === 'approve' ? 'Approved' : 'Rejected'} by ${review.data.analyst}.`,
          'notice',
        ),
      );
    });
  });
}
