/**
 * The review page's HTML: server-rendered, no script (the CSP forbids it), every value escaped.
 * Pure functions from incident data to markup.
 */
import { displayText } from '../../common/display-text';
import { displayValues } from '../../common/display-text';
import { reviewerText, type IncidentStatus } from '../../common/incident-status';
import { sectionHtml, type Section } from '../../activities/notification/document';
import { actionsSection, quarantineSection } from '../../activities/notification/report';
import {
  alertSection,
  persistenceRemovalSection,
  processTreeSection,
  relatedSection,
  reputationSection,
  temporalUiLink,
  type IncidentLinks,
} from '../../activities/notification/sections';
import type { PendingReview } from '../ingest/incidents';
import type { RestoreStatus } from '../../common/restore';

/** Markup-safe only: for what the analyst typed, given back in the form as typed. */
function escapeMarkup(value: unknown): string {
  return String(value ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/** Markup-safe, and with hidden characters (line breaks, bidi overrides, zero-width) shown as escapes. */
export function escapeHtml(value: unknown): string {
  return escapeMarkup(displayText(String(value ?? '')));
}

const STYLE = `
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem 1.5rem;color:#1d232a}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #d5dbe1;padding:.35rem .5rem;text-align:left;vertical-align:top}
code{font-size:.9em;overflow-wrap:anywhere}table.reasons td:nth-child(2) code{white-space:nowrap}.muted{color:#5b6670}.error{background:#fde8e8;border:1px solid #e0a0a0;padding:.6rem .8rem}
.notice{background:#e8f3fd;border:1px solid #9cc4e4;padding:.6rem .8rem}
.verdict-malicious{color:#a30000;font-weight:600}.verdict-suspicious{color:#8a5a00;font-weight:600}.verdict-benign{color:#1d6b2a;font-weight:600}
form.review{border:1px solid #d5dbe1;padding:.8rem;margin-top:.6rem}form.review label{display:block;margin:.4rem 0}
input[type=text],input[type=password],textarea{width:100%;max-width:30rem;box-sizing:border-box;padding:.3rem}
button{margin-right:.6rem;padding:.35rem .9rem}`;

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${escapeHtml(title)} · spawnguard</title><style>${STYLE}</style></head>
<body><main><h1>${escapeHtml(title)}</h1>
${body}
</main></body></html>`;
}

export function messagePage(title: string, message: string, kind: 'error' | 'notice' = 'error'): string {
  return page(title, `<p class="${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${escapeHtml(message)}</p>`);
}

function verdictText(status: IncidentStatus): string {
  const decision = status.decision;
  if (!decision) return '<span class="muted">not decided yet</span>';
  return `<span class="verdict-${escapeHtml(decision.verdict)}" data-field="verdict">${escapeHtml(decision.verdict)}</span>, score <strong data-field="score">${decision.score}</strong>/100 (confidence ${escapeHtml(decision.confidence)})`;
}

/**
 * The email's own sections (alert with hashes, signatures, session and its caveat; files and each
 * reputation source; actions with their validation; quarantine), so the page has everything the
 * report has. Alert-derived text is shown with hidden characters escaped.
 */
function emailSections(
  builders: ((status: IncidentStatus) => Section | Section[] | undefined)[],
  status: IncidentStatus,
): string {
  const shown = displayValues(status);
  return builders
    .flatMap((build) => [build(shown)].flat())
    .filter((section): section is NonNullable<typeof section> => section !== undefined)
    .map(sectionHtml)
    .join('\n');
}

function reasonsSection(status: IncidentStatus): string {
  const reasons = status.decision?.reasons ?? [];
  if (reasons.length === 0) return '<p class="muted">No reasons recorded.</p>';
  return `<table class="reasons"><tr><th>weight</th><th>code</th><th>ATT&amp;CK</th><th>evidence</th></tr>${reasons
    .map(
      (r) =>
        `<tr><td>${r.weight > 0 ? '+' : ''}${r.weight}</td><td><code>${escapeHtml(r.code)}</code></td><td>${escapeHtml(r.attack?.join(' ') ?? '')}</td><td>${escapeHtml(r.evidence)}</td></tr>`,
    )
    .join('')}</table>`;
}

function planSection(status: IncidentStatus): string {
  const plan = status.decision?.plan ?? [];
  if (plan.length === 0) return '<p class="muted">No host action is planned.</p>';
  return `<ul class="plan">${plan
    .map(
      (step) =>
        `<li><strong>${escapeHtml(step.action)}</strong>${step.d3fend ? ` <span class="muted">[D3FEND ${escapeHtml(step.d3fend.id)} ${escapeHtml(step.d3fend.name)}]</span>` : ''} ${escapeHtml(step.target.description)}${step.skipped ? ` <span class="muted">(skipped: ${escapeHtml(step.skipped)})</span>` : ''}</li>`,
    )
    .join('')}</ul>`;
}

function reviewStateLine(status: IncidentStatus): string {
  const review = status.review;
  if (review.status === 'pending') {
    return `Waiting for an analyst${review.deadline ? ` until ${escapeHtml(review.deadline)}` : ''}.`;
  }
  if (review.status === 'approved' || review.status === 'rejected') {
    return `${review.status === 'approved' ? 'Approved' : 'Rejected'} by <strong>${escapeHtml(reviewerText(review))}</strong> at ${escapeHtml(review.decidedAt)}${review.comment ? ` — “${escapeHtml(review.comment)}”` : ''}.`;
  }
  return `Review ${escapeHtml(review.status)}.`;
}

export interface FormState {
  analyst?: string;
  comment?: string;
  error?: string;
  /** The decision just recorded (after the form's redirect): a confirmation at the top. */
  decided?: 'approve' | 'reject';
  /** A persistence review just recorded. */
  persistenceDecided?: 'remove' | 'keep';
  /** A restore started from this page: its status (or why it could not be read). */
  restore?: RestoreStatus | { workflowId: string; error: string };
}

/** Who looks at the page: signed in through the identity provider, or the zero-setup mode. */
export type Viewer =
  | { mode: 'zero-setup' }
  | { mode: 'signed-in'; name: string; email?: string; canApprove: boolean; approverGroup: string };

/** Who the page is for, at the top of every page: sign-in state, and whether decisions are possible. */
function viewerLine(viewer: Viewer): string {
  if (viewer.mode === 'zero-setup') {
    return '<p class="notice" data-field="sign-in">Sign-in is off (zero-setup mode): anyone with a link or the ingest token can decide, and the analyst name is what is typed. Production sets up sign-in (README “Analyst sign-in”).</p>';
  }
  const who = `${escapeHtml(viewer.name)}${viewer.email ? ` &lt;${escapeHtml(viewer.email)}&gt;` : ''}`;
  return `<p class="muted" data-field="sign-in">Signed in as <strong>${who}</strong> — ${
    viewer.canApprove
      ? 'may approve and reject'
      : `view only (deciding takes membership of ${escapeHtml(viewer.approverGroup)})`
  } · <a href="/review/logout">sign out</a></p>`;
}

/** Approve / reject form; `token` authorizes the POST (the page never acts on a GET). */
export function reviewForm(
  workflowId: string,
  token: string,
  state: Omit<FormState, 'error'> = {},
  viewer: Viewer = { mode: 'zero-setup' },
): string {
  const id = escapeHtml(workflowId);
  if (viewer.mode === 'signed-in' && !viewer.canApprove) {
    return `<p class="muted">You may view this incident; an analyst in ${escapeHtml(viewer.approverGroup)} decides.</p>`;
  }
  const analystField =
    viewer.mode === 'signed-in'
      ? `<p>Deciding as <strong data-field="decider">${escapeHtml(viewer.name)}</strong> (from your sign-in).</p>`
      : `<label>Analyst (required) <input type="text" name="analyst" required maxlength="256" autocomplete="name" value="${escapeMarkup(state.analyst ?? '')}" aria-label="Analyst for ${id}"></label>`;
  return `<form class="review" method="post" action="/review/${encodeURIComponent(workflowId)}">
<input type="hidden" name="token" value="${escapeHtml(token)}">
${analystField}
<label>Comment (optional) <textarea name="comment" rows="2" maxlength="4096" aria-label="Comment for ${id}">${escapeMarkup(state.comment ?? '')}</textarea></label>
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="reject">Reject</button>
</form>`;
}

/** The analyst's name field, or who decides from their sign-in. */
function deciderField(id: string, viewer: Viewer, analyst: string | undefined, purpose: string): string {
  return viewer.mode === 'signed-in'
    ? `<p>Deciding as <strong>${escapeHtml(viewer.name)}</strong> (from your sign-in).</p>`
    : `<label>Analyst (required) <input type="text" name="analyst" required maxlength="256" autocomplete="name" value="${escapeMarkup(analyst ?? '')}" aria-label="Analyst for ${purpose} of ${id}"></label>`;
}

/** The proposed persistence entries to tick, with Remove and Keep (nothing ticked: every one). */
function persistenceForm(status: IncidentStatus, token: string, viewer: Viewer): string {
  const removal = status.persistenceRemoval;
  const pending = removal?.proposals.filter((p) => p.state === 'proposed') ?? [];
  if (!removal || removal.status !== 'pending' || pending.length === 0) return '';
  if (viewer.mode === 'signed-in' && !viewer.canApprove) return '';
  const id = escapeHtml(status.workflowId);
  const boxes = pending
    .map(
      (p) =>
        `<label><input type="checkbox" name="entry" value="${escapeHtml(p.id)}"> ${escapeHtml(p.id)}: ${escapeHtml(p.kind)} ${escapeHtml(p.location)} <code>${escapeHtml(p.name)}</code></label>`,
    )
    .join('\n');
  return `<h2>Remove persistence</h2>
<form class="review" method="post" action="/review/${encodeURIComponent(status.workflowId)}/persistence" data-form="persistence">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<p>Each entry is backed up on the host before it is removed, and can be put back with Restore. Tick entries, or none for every one proposed (until ${escapeHtml(removal.deadline)}).</p>
${boxes}
${deciderField(id, viewer, undefined, 'persistence removal')}
<label>Comment (optional) <textarea name="comment" rows="2" maxlength="4096" aria-label="Comment for persistence removal of ${id}"></textarea></label>
<button type="submit" name="decision" value="remove">Remove</button>
<button type="submit" name="decision" value="keep">Keep</button>
</form>`;
}

/** Restore (undo) once the incident quarantined a file or removed an entry. */
function restoreForm(status: IncidentStatus, token: string, viewer: Viewer): string {
  const quarantined = status.actions.some((a) => a.quarantine && (a.status === 'done' || a.status === 'already-done'));
  const removed = status.persistenceRemoval?.proposals.some(
    (p) => p.result?.backup && (p.state === 'removed' || p.state === 'gone'),
  );
  if (!quarantined && !removed) return '';
  if (viewer.mode === 'signed-in' && !viewer.canApprove) return '';
  const id = escapeHtml(status.workflowId);
  return `<h2>Undo</h2>
<form class="review" method="post" action="/review/${encodeURIComponent(status.workflowId)}/restore" data-form="restore">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<p>A false positive? Restore puts back every file this incident quarantined (to its original path, with its original permissions; refused where another file is there now) and every persistence entry it removed, verifies each on the host and emails a report.</p>
${deciderField(id, viewer, undefined, 'restore')}
<label>Comment (optional) <textarea name="comment" rows="2" maxlength="4096" aria-label="Comment for restore of ${id}"></textarea></label>
<button type="submit">Restore</button>
</form>`;
}

/** A restore started from this page: where it stands, and what it put back. */
function restoreLine(restore: NonNullable<FormState['restore']>): string {
  if ('error' in restore) {
    return `<p class="notice" role="status" data-field="restore">Restore <code>${escapeHtml(restore.workflowId)}</code> started; its status is not available yet (${escapeHtml(restore.error)}). Reload in a moment.</p>`;
  }
  const actions = restore.actions
    .map(
      (a) =>
        `<li>${escapeHtml(a.action)} — ${escapeHtml(a.target)}: ${escapeHtml(a.status)}${a.reason ? ` (${escapeHtml(a.reason)})` : ''}${a.message ? ` — ${escapeHtml(a.message)}` : ''}${a.validated === true ? '; verified on the host' : a.validated === false ? '; NOT verified' : ''}</li>`,
    )
    .join('');
  return `<div class="notice" role="status" data-field="restore"><p>Restore <code>${escapeHtml(restore.workflowId)}</code>: ${escapeHtml(restore.outcome ?? restore.phase)}${restore.message ? ` — ${escapeHtml(restore.message)}` : ''}</p>${actions ? `<ul>${actions}</ul>` : ''}</div>`;
}

/** One incident: the evidence, what approval would do, and the form while a review is pending. */
export function incidentPage(
  status: IncidentStatus,
  token: string | undefined,
  state: FormState = {},
  viewer: Viewer = { mode: 'zero-setup' },
  links?: IncidentLinks,
): string {
  const pending = status.review.status === 'pending';
  const confirmation = state.decided
    ? `<p class="notice" role="status" data-field="confirmation">Recorded: you ${state.decided === 'approve' ? 'approved' : 'rejected'} this incident.</p>`
    : state.persistenceDecided
      ? `<p class="notice" role="status" data-field="confirmation">Recorded: ${state.persistenceDecided === 'remove' ? 'removal approved; the host backs each entry up, removes it and verifies it (reload for the result)' : 'the entries are kept'}.</p>`
      : '';
  const body = `${viewerLine(viewer)}${confirmation}${state.error ? `<p class="error" role="alert">Not recorded: ${escapeHtml(state.error)}</p>` : ''}
<p class="muted">Incident <code>${escapeHtml(status.workflowId)}</code> · phase ${escapeHtml(status.phase)}${status.outcome ? ` · outcome ${escapeHtml(status.outcome)}` : ''}${status.lab ? ' · LAB' : ''}</p>
<p>Verdict: ${verdictText(status)}</p>
<p class="${pending ? 'notice' : 'muted'}" data-field="review">${reviewStateLine(status)}</p>
${links ? `<p><a href="${escapeHtml(temporalUiLink(links, status.workflowId))}" data-field="temporal-link">This incident in the Temporal UI</a> (its audit trail)</p>` : ''}
${state.restore ? restoreLine(state.restore) : ''}
${emailSections([alertSection, processTreeSection, relatedSection], status)}
<h2>Reasons</h2>${reasonsSection(status)}
${emailSections([reputationSection], status)}
${
  status.actions.length > 0
    ? `${emailSections([actionsSection, quarantineSection], status)}<h2>The plan</h2>${planSection(status)}`
    : `<h2>${pending || status.review.status === 'not-needed' ? 'What approval will do' : 'The plan'}</h2>${planSection(status)}`
}
${emailSections([persistenceRemovalSection], status)}
${pending && token ? `<h2>Decision</h2>${reviewForm(status.workflowId, token, state, viewer)}` : ''}
${token ? persistenceForm(status, token, viewer) : ''}
${token ? restoreForm(status, token, viewer) : ''}`;
  return page(
    `Review: ${status.alert.parent.name} → ${status.alert.child.name} on ${status.alert.host.hostname}`,
    body,
  );
}

export function loginPage(error?: string): string {
  return page(
    'Pending reviews — sign in',
    `${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/review/login"><label>Ingest token <input type="password" name="token" required autocomplete="current-password"></label>
<button type="submit">Sign in</button></form>
<p class="muted">Review links from email open one incident without signing in.</p>`,
  );
}

/** The pending-review list; `tokenFor` mints the per-incident token each row's form posts with. */
export function listPage(
  reviews: PendingReview[],
  tokenFor: (workflowId: string) => string,
  viewer: Viewer = { mode: 'zero-setup' },
): string {
  if (reviews.length === 0)
    return page(
      'Pending reviews',
      `${viewerLine(viewer)}<p class="notice" role="status">No incident is waiting for an analyst.</p>`,
    );
  const items = reviews
    .map((review) => {
      const status = review.status;
      // The alert's own names when the status is known (the search attributes hold them lowercased).
      const title = status
        ? `${status.alert.parent.name} → ${status.alert.child.name} on ${status.alert.host.hostname}`
        : `${review.parentProcessName ?? '?'} → ${review.processName ?? '?'} on ${review.hostname ?? '?'}`;
      const token = tokenFor(review.workflowId);
      const link = `/review/${encodeURIComponent(review.workflowId)}?token=${encodeURIComponent(token)}`;
      const details = status
        ? `<p>Verdict: ${verdictText(status)}</p>${reasonsSection(status)}<p><strong>What approval will do</strong></p>${planSection(status)}${status.review.status === 'pending' ? reviewForm(review.workflowId, token, {}, viewer) : `<p class="muted">${reviewStateLine(status)}</p>`}`
        : `<p class="error">Status unavailable: ${escapeHtml(review.statusError ?? 'unknown error')}</p>`;
      return `<section class="incident" data-workflow-id="${escapeHtml(review.workflowId)}">
<h2><a href="${escapeHtml(link)}">${escapeHtml(title)}</a></h2>
<p class="muted"><code>${escapeHtml(review.workflowId)}</code> · started ${escapeHtml(review.startTime)}</p>
${details}</section>`;
    })
    .join('\n');
  return page(
    'Pending reviews',
    `${viewerLine(viewer)}<p>${reviews.length} incident(s) waiting for an analyst.</p>${items}`,
  );
}
