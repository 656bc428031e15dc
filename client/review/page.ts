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
import {
  AnalystIdentitySchema,
  PersistenceReviewSchema,
  ReviewUpdateSchema,
  type PlaybookPolicy,
} from '../../common/playbook';
import { RestoreInputSchema } from '../../common/restore';
import { hasValidBearer, secretsEqual } from '../ingest/auth';
import {
  EarlierIncidentError,
  incidentStatus,
  pendingReviews,
  restoreStatus,
  reviewIncident,
  reviewPersistence,
  startRestore,
} from '../ingest/incidents';
import { classifyTemporalError, type TemporalProblem } from '../ingest/temporal';
import {
  signReviewToken,
  signSession,
  signValue,
  verifyReviewToken,
  verifySession,
  verifyValue,
  type TokenCheck,
} from '../../activities/notification/review-links';
import { incidentPage, listPage, loginPage, messagePage, type Viewer } from './render';
import { analystName, historyIdentity, type OidcSignIn, type SignedInAnalyst } from './oidc';

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
  /**
   * Analyst sign-in with OpenID Connect: analysts sign in at their identity provider, decisions
   * carry the verified identity, only the approver group decides, and the ingest token opens no
   * page. Without it, the zero-setup mode: the ingest token signs in and the analyst types a name.
   */
  oidc?: OidcSignIn;
  /** SPAWNGUARD_TEMPORAL_UI_URL: each incident page links its audit trail there. */
  temporalUiUrl?: string;
  /** The deployment's policy (host queues, timeouts): what a restore started from the page runs with. */
  policy: PlaybookPolicy;
}

const SESSION_COOKIE = 'spawnguard_review';
/** The signed-in analyst (OpenID Connect mode). */
const ANALYST_COOKIE = 'spawnguard_analyst';
/** A sign-in in progress: state, nonce, PKCE verifier and where to return. */
const SIGN_IN_COOKIE = 'spawnguard_signin';
const SIGN_IN_TTL_MS = 10 * 60_000;

const SignedInAnalystSchema = z.object({
  identity: AnalystIdentitySchema,
  groups: z.array(z.string()),
  canApprove: z.boolean(),
});
const PendingSignInSchema = z.object({
  state: z.string().max(200),
  nonce: z.string().max(200),
  verifier: z.string().max(200),
  returnTo: z.string().max(4096),
});

/**
 * What the session cookie carries: who, and whether they may decide. Their groups are left out
 * (`canApprove` says what they allow), so an account in hundreds of groups still fits in a cookie.
 */
function sessionOf(analyst: SignedInAnalyst): SignedInAnalyst {
  return { identity: analyst.identity, canApprove: analyst.canApprove, groups: [] };
}

/** A return path after sign-in: a page of the review site only, never another site. */
function safeReturnTo(value: unknown): string {
  return typeof value === 'string' && /^\/review(\/[^/\\]|\?|$)/.test(value) && !value.includes('//')
    ? value
    : '/review';
}

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

/** Form fields; a repeated one (`entry`, a checkbox per proposal) becomes an array. */
function formFields(body: string): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const seen = fields[key];
    fields[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return fields;
}

const optionalComment = z
  .string()
  .max(4096)
  .optional()
  .transform((c) => (c && c.trim() ? c.trim() : undefined));

const PersistenceFormSchema = z.object({
  token: z.string().max(200).optional(),
  decision: z.enum(['remove', 'keep'], { message: 'decision must be remove or keep' }),
  analyst: z.string().max(256).default(''),
  comment: optionalComment,
  /** The proposals ticked; none: every one still proposed. */
  entry: z
    .union([z.string(), z.array(z.string()).max(64)])
    .optional()
    .transform((e) => (e === undefined ? [] : [e].flat())),
});

const RestoreFormSchema = z.object({
  token: z.string().max(200).optional(),
  analyst: z.string().max(256).default(''),
  comment: optionalComment,
});

/** Who decides from the page, as `decider` established it. */
interface Decider {
  analyst: string;
  identity?: z.infer<typeof AnalystIdentitySchema>;
  historyIdentity?: string;
  bearer: boolean;
  boundTo?: string;
}

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
      (_request, body, done) => done(null, formFields(body as string)),
    );

    const oidc = options.oidc;
    const temporalLinks = options.temporalUiUrl
      ? { temporalUiUrl: options.temporalUiUrl, namespace: client.options.namespace }
      : undefined;
    /** The signed-in analyst (OpenID Connect mode), from the signed session cookie. */
    const analystOf = (request: FastifyRequest): SignedInAnalyst | undefined => {
      const session = cookie(request, ANALYST_COOKIE);
      const parsed = SignedInAnalystSchema.safeParse(
        session ? verifyValue(session, linkSecret, 'analyst-session') : undefined,
      );
      return parsed.success ? parsed.data : undefined;
    };
    const signedIn = (request: FastifyRequest) => {
      if (oidc) return analystOf(request) !== undefined;
      const session = cookie(request, SESSION_COOKIE);
      return session !== undefined && verifySession(session, linkSecret).valid;
    };
    const viewerOf = (request: FastifyRequest): Viewer => {
      if (!oidc) return { mode: 'zero-setup' };
      const analyst = analystOf(request);
      return analyst
        ? {
            mode: 'signed-in',
            name: analystName(analyst.identity),
            email: analyst.identity.email,
            canApprove: analyst.canApprove,
            approverGroup: oidc.settings.approverGroup,
          }
        : { mode: 'zero-setup' };
    };
    const cookieAttributes = (maxAgeMs: number, sameSite: 'Strict' | 'Lax') => [
      'Path=/review',
      'HttpOnly',
      `SameSite=${sameSite}`,
      `Max-Age=${Math.max(0, Math.floor(maxAgeMs / 1000))}`,
      ...(options.secureCookies ? ['Secure'] : []),
    ];
    /** Off to the identity provider, back to `returnTo` afterwards. */
    const signInRedirect = async (reply: FastifyReply, returnTo: string) => {
      const { url, pending } = await oidc!.begin(safeReturnTo(returnTo));
      // Lax: the provider sends the browser back with a top-level GET from its own site.
      reply.header(
        'set-cookie',
        `${SIGN_IN_COOKIE}=${signValue(pending, linkSecret, 'oidc-pending', Date.now() + SIGN_IN_TTL_MS)}; ${cookieAttributes(SIGN_IN_TTL_MS, 'Lax').join('; ')}`,
      );
      return reply.code(303).header('location', url).send();
    };

    if (oidc) {
      scope.get('/review/login', async (request, reply) => {
        const query = z.object({ returnTo: z.string().max(4096).optional() }).safeParse(request.query);
        try {
          return await signInRedirect(reply, query.success ? (query.data.returnTo ?? '/review') : '/review');
        } catch (err) {
          request.log.error({ err }, 'sign-in could not start');
          return html(reply, 503, messagePage('Sign-in unavailable', (err as Error).message));
        }
      });

      scope.get('/review/callback', async (request, reply) => {
        const pending = PendingSignInSchema.safeParse(
          verifyValue(cookie(request, SIGN_IN_COOKIE) ?? '', linkSecret, 'oidc-pending'),
        );
        if (!pending.success) {
          return html(
            reply,
            400,
            messagePage('Sign-in failed', 'The sign-in expired or was not started here. Sign in again at /review.'),
          );
        }
        const callback = new URL(oidc.settings.redirectUri);
        callback.search = new URL(request.url, 'http://callback.invalid').search;
        let analyst: SignedInAnalyst;
        try {
          analyst = await oidc.complete(callback, pending.data);
        } catch (err) {
          request.log.warn({ err: (err as Error).message }, 'sign-in refused');
          return html(
            reply,
            401,
            messagePage('Sign-in failed', `The identity provider's answer was refused: ${(err as Error).message}`),
          );
        }
        request.log.info(
          { subject: analyst.identity.subject, issuer: analyst.identity.issuer, canApprove: analyst.canApprove },
          'analyst signed in',
        );
        const expiresAt = Date.now() + sessionTtlMs;
        reply.header('set-cookie', [
          `${ANALYST_COOKIE}=${signValue(sessionOf(analyst), linkSecret, 'analyst-session', expiresAt)}; ${cookieAttributes(sessionTtlMs, 'Lax').join('; ')}`,
          `${SIGN_IN_COOKIE}=; ${cookieAttributes(0, 'Lax').join('; ')}`,
        ]);
        return reply.code(303).header('location', safeReturnTo(pending.data.returnTo)).send();
      });

      scope.get('/review/logout', async (_request, reply) => {
        reply.header('set-cookie', `${ANALYST_COOKIE}=; ${cookieAttributes(0, 'Lax').join('; ')}`);
        return html(reply, 200, messagePage('Signed out', 'You are signed out of the review page.', 'notice'));
      });
    }

    scope.get('/review', async (request, reply) => {
      if (!signedIn(request)) {
        if (oidc) return reply.code(303).header('location', '/review/login?returnTo=%2Freview').send();
        return html(reply, 200, loginPage());
      }
      try {
        const reviews = await pendingReviews(client, { deadlineMs });
        const expiresAt = Date.now() + listTokenTtlMs;
        return html(
          reply,
          200,
          listPage(reviews, (workflowId) => signReviewToken(workflowId, linkSecret, expiresAt), viewerOf(request)),
        );
      } catch (err) {
        return problemPage(reply, classifyTemporalError(err));
      }
    });

    scope.post('/review/login', async (request, reply) => {
      if (oidc) {
        return html(
          reply,
          404,
          messagePage('Not here', 'Analysts sign in through the identity provider: open /review.'),
        );
      }
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
      const query = z
        .object({
          token: z.string().max(200).optional(),
          decided: z.enum(['approve', 'reject']).optional(),
          persistence: z.enum(['remove', 'keep']).optional(),
          restore: WorkflowIdSchema.optional(),
        })
        .safeParse(request.query);
      const presented = query.success ? query.data.token : undefined;
      const decided = query.success ? query.data.decided : undefined;
      const persistenceDecided = query.success ? query.data.persistence : undefined;
      const restoreId = query.success ? query.data.restore : undefined;
      if (oidc && !signedIn(request)) {
        // Analysts see incidents signed in, even from an email link: back here afterwards.
        return reply
          .code(303)
          .header('location', `/review/login?returnTo=${encodeURIComponent(request.url)}`)
          .send();
      }
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
        // A restore started from this page: its progress (its own workflow), shown with the incident.
        const restore =
          restoreId && restoreId.startsWith(`${workflowId.data}.restore-`)
            ? await restoreStatus(client, restoreId, deadlineMs).catch((err: unknown) => ({
                workflowId: restoreId,
                error: classifyTemporalError(err).message,
              }))
            : undefined;
        return html(
          reply,
          200,
          incidentPage(
            status,
            token,
            {
              ...(decided ? { decided } : {}),
              ...(persistenceDecided ? { persistenceDecided } : {}),
              ...(restore ? { restore } : {}),
            },
            viewerOf(request),
            temporalLinks,
          ),
        );
      } catch (err) {
        return problemPage(reply, classifyTemporalError(err));
      }
    });

    /**
     * Who may act on an incident from the page: a signed-in approver (OpenID Connect), or in the
     * zero-setup mode the name typed, authorized by the incident's link token or the ingest token as
     * a bearer header. Sends the refusal and returns undefined when not.
     */
    const decider = (
      request: FastifyRequest,
      reply: FastifyReply,
      workflowId: string,
      token: string | undefined,
      typedAnalyst: string,
    ): Decider | undefined => {
      const signedInAnalyst = oidc ? analystOf(request) : undefined;
      if (oidc && !signedInAnalyst) {
        void html(reply, 401, messagePage('Not recorded', 'Sign in first: open /review.'));
        return undefined;
      }
      if (signedInAnalyst && !signedInAnalyst.canApprove) {
        request.log.warn({ workflowId, subject: signedInAnalyst.identity.subject }, 'decision by a viewer refused');
        void html(
          reply,
          403,
          messagePage(
            'Not recorded',
            `You may view incidents but not decide: deciding takes membership of ${oidc!.settings.approverGroup}.`,
          ),
        );
        return undefined;
      }
      // The ingest token authorizes decisions only in the zero-setup mode.
      const bearer = !oidc && hasValidBearer(request.headers.authorization, ingestToken);
      let boundTo: string | undefined;
      if (!bearer) {
        const check: TokenCheck = token
          ? verifyReviewToken(token, workflowId, linkSecret)
          : { valid: false, reason: 'malformed' };
        if (!check.valid) {
          request.log.warn({ workflowId, reason: check.reason }, 'decision refused');
          void html(reply, 403, messagePage('Not recorded', tokenRefusal(check)));
          return undefined;
        }
        boundTo = check.firstRunId;
      }
      return {
        // Signed in, the analyst is who the provider says; in the zero-setup mode, the name typed.
        analyst: signedInAnalyst ? analystName(signedInAnalyst.identity) : typedAnalyst,
        ...(signedInAnalyst ? { identity: signedInAnalyst.identity } : {}),
        ...(signedInAnalyst ? { historyIdentity: historyIdentity(signedInAnalyst.identity) } : {}),
        bearer,
        ...(boundTo !== undefined ? { boundTo } : {}),
      };
    };
    /** After a form's POST: back to the incident with its token (post/redirect/get). */
    const backToIncident = (reply: FastifyReply, workflowId: string, token: string | undefined, query: string) =>
      reply
        .code(303)
        .header(
          'location',
          `/review/${encodeURIComponent(workflowId)}${token ? `?token=${encodeURIComponent(token)}&${query}` : `?${query}`}`,
        )
        .send();

    scope.post('/review/:workflowId/persistence', async (request, reply) => {
      const workflowId = WorkflowIdSchema.safeParse((request.params as { workflowId: string }).workflowId);
      if (!workflowId.success) return html(reply, 400, messagePage('Bad request', 'No such incident.'));
      const form = PersistenceFormSchema.safeParse(request.body ?? {});
      if (!form.success) {
        return html(reply, 400, messagePage('Not recorded', form.error.issues.map((i) => i.message).join('; ')));
      }
      const { token, decision, comment, entry } = form.data;
      const who = decider(request, reply, workflowId.data, token, form.data.analyst);
      if (!who) return reply;
      const review = PersistenceReviewSchema.safeParse({
        decision,
        analyst: who.analyst,
        ...(entry.length > 0 ? { entries: entry } : {}),
        ...(comment ? { comment } : {}),
        ...(who.identity ? { identity: who.identity } : {}),
      });
      if (!review.success) {
        return html(reply, 400, messagePage('Not recorded', review.error.issues.map((i) => i.message).join('; ')));
      }
      try {
        // A link's decision goes to the chain of runs the link was issued for, or nowhere.
        await reviewPersistence(client, workflowId.data, review.data, deadlineMs, who.historyIdentity, who.boundTo);
      } catch (err) {
        const problem = classifyTemporalError(err);
        if (who.boundTo !== undefined && problem.kind === 'not-found') {
          return html(reply, 403, messagePage('Not recorded', EARLIER_INCIDENT));
        }
        request.log.warn({ workflowId: workflowId.data, problem }, 'persistence review not recorded');
        return problemPage(reply, problem);
      }
      request.log.info(
        { workflowId: workflowId.data, decision, entries: review.data.entries ?? 'all', analyst: who.analyst },
        'persistence review recorded',
      );
      return backToIncident(reply, workflowId.data, token, `persistence=${decision}`);
    });

    scope.post('/review/:workflowId/restore', async (request, reply) => {
      const workflowId = WorkflowIdSchema.safeParse((request.params as { workflowId: string }).workflowId);
      if (!workflowId.success) return html(reply, 400, messagePage('Bad request', 'No such incident.'));
      const form = RestoreFormSchema.safeParse(request.body ?? {});
      if (!form.success) {
        return html(reply, 400, messagePage('Not recorded', form.error.issues.map((i) => i.message).join('; ')));
      }
      const { token, comment } = form.data;
      const who = decider(request, reply, workflowId.data, token, form.data.analyst);
      if (!who) return reply;
      const input = RestoreInputSchema.safeParse({
        incidentId: workflowId.data,
        files: 'all',
        persistence: 'all',
        analyst: who.analyst,
        ...(comment ? { comment } : {}),
        ...(who.identity ? { identity: who.identity } : {}),
        policy: options.policy,
      });
      if (!input.success) {
        return html(reply, 400, messagePage('Not started', input.error.issues.map((i) => i.message).join('; ')));
      }
      let restore: string;
      try {
        restore = await startRestore(client, input.data, {
          deadlineMs,
          ...(who.boundTo !== undefined ? { firstRunId: who.boundTo } : {}),
          ...(who.historyIdentity ? { historyIdentity: who.historyIdentity } : {}),
        });
      } catch (err) {
        if (err instanceof EarlierIncidentError) return html(reply, 403, messagePage('Not started', EARLIER_INCIDENT));
        return problemPage(reply, classifyTemporalError(err));
      }
      request.log.info({ workflowId: workflowId.data, restore, analyst: who.analyst }, 'restore started from the page');
      return backToIncident(reply, workflowId.data, token, `restore=${encodeURIComponent(restore)}`);
    });

    scope.post('/review/:workflowId', async (request, reply) => {
      const workflowId = WorkflowIdSchema.safeParse((request.params as { workflowId: string }).workflowId);
      if (!workflowId.success) return html(reply, 400, messagePage('Bad request', 'No such incident.'));
      const form = DecisionFormSchema.safeParse(request.body ?? {});
      if (!form.success) {
        return html(reply, 400, messagePage('Not recorded', form.error.issues.map((i) => i.message).join('; ')));
      }
      const { token, decision, comment } = form.data;
      const who = decider(request, reply, workflowId.data, token, form.data.analyst);
      if (!who) return reply;
      const { analyst, bearer, boundTo } = who;
      const signedInAnalyst = who.identity ? { identity: who.identity } : undefined;
      const review = ReviewUpdateSchema.safeParse({
        decision,
        analyst,
        ...(comment ? { comment } : {}),
        ...(signedInAnalyst ? { identity: signedInAnalyst.identity } : {}),
      });
      if (!review.success) {
        const message = review.error.issues.map((i) => i.message).join('; ');
        try {
          const status = await incidentStatus(client, workflowId.data, deadlineMs);
          return html(reply, 400, incidentPage(status, token, { analyst, comment, error: message }, viewerOf(request)));
        } catch {
          return html(reply, 400, messagePage('Not recorded', message));
        }
      }
      try {
        // A link's decision goes to the chain of runs the link was issued for, or nowhere.
        await reviewIncident(
          client,
          workflowId.data,
          review.data,
          deadlineMs,
          boundTo,
          signedInAnalyst ? historyIdentity(signedInAnalyst.identity) : undefined,
        );
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
      const location = `/review/${encodeURIComponent(workflowId.data)}${token ? `?token=${encodeURIComponent(token)}&decided=${decision}` : ''}`;
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
