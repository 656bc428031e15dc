/**
 * Analyst sign-in with OpenID Connect (openid-client): the authorization code flow with PKCE for the
 * review page, and access-token checks (at the provider's userinfo endpoint) for the HTTP review API.
 * What comes out is a verified identity — issuer, subject, name, email, groups — and whether it may
 * approve: members of the approver group decide, everyone else signed in only views.
 */
import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import type { AnalystIdentity } from '../../common/playbook';

export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Where the provider sends the browser back: `<public URL>/review/callback`. */
  redirectUri: string;
  /** The claim that lists an analyst's groups (default `groups`). */
  groupsClaim: string;
  /** Members of this group may approve and reject; other signed-in analysts only view. */
  approverGroup: string;
}

/** A signed-in analyst, as the provider vouches for them. */
export interface SignedInAnalyst {
  identity: AnalystIdentity;
  groups: string[];
  canApprove: boolean;
}

/** What the browser carries (signed) between leaving for the provider and coming back. */
export interface PendingSignIn {
  state: string;
  nonce: string;
  verifier: string;
  /** The review page path to return to (always under /review). */
  returnTo: string;
}

const TOKEN_CACHE_MS = 60_000;
const TOKEN_CACHE_ENTRIES = 1_000;

/** http is accepted only for a provider on this machine (tests, a local trial); anything else needs https. */
function isLoopback(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

export class OidcSignIn {
  private configuration?: Promise<oidc.Configuration>;
  private readonly tokens = new Map<string, { analyst: SignedInAnalyst; expiresAt: number }>();

  constructor(readonly settings: OidcSettings) {
    const issuer = new URL(settings.issuer);
    if (issuer.protocol !== 'https:' && !(issuer.protocol === 'http:' && isLoopback(issuer))) {
      throw new Error(`SPAWNGUARD_OIDC_ISSUER must be an https URL (http only on this machine): ${settings.issuer}`);
    }
  }

  /** The provider's metadata, discovered on first use (and again after a failure). */
  private config(): Promise<oidc.Configuration> {
    const issuer = new URL(this.settings.issuer);
    this.configuration ??= oidc
      .discovery(
        issuer,
        this.settings.clientId,
        this.settings.clientSecret,
        undefined,
        issuer.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : undefined,
      )
      .catch((err: unknown) => {
        this.configuration = undefined;
        throw new Error(`the sign-in provider ${this.settings.issuer} cannot be reached: ${(err as Error).message}`);
      });
    return this.configuration;
  }

  /** The provider's sign-in URL, and what must come back with the browser. */
  async begin(returnTo: string): Promise<{ url: string; pending: PendingSignIn }> {
    const config = await this.config();
    const verifier = oidc.randomPKCECodeVerifier();
    const pending: PendingSignIn = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier, returnTo };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUri,
      scope: `openid profile email ${this.settings.groupsClaim}`,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    return { url: url.href, pending };
  }

  /** The provider's answer (the callback URL) exchanged for a verified identity. */
  async complete(callback: URL, pending: PendingSignIn): Promise<SignedInAnalyst> {
    const config = await this.config();
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: pending.verifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (!claims) throw new Error('the provider returned no ID token');
    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    return this.analyst({ ...claims, ...info });
  }

  /**
   * An access token presented to the HTTP API, checked at the provider's userinfo endpoint (which
   * refuses expired and revoked tokens). Answers are kept for a minute per token.
   */
  async verifyAccessToken(token: string): Promise<SignedInAnalyst> {
    const key = createHash('sha256').update(token).digest('hex');
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > Date.now()) return cached.analyst;
    const config = await this.config();
    const info = await oidc.fetchUserInfo(config, token, oidc.skipSubjectCheck);
    const analyst = this.analyst(info);
    this.tokens.set(key, { analyst, expiresAt: Date.now() + TOKEN_CACHE_MS });
    for (const old of this.tokens.keys()) {
      if (this.tokens.size <= TOKEN_CACHE_ENTRIES) break;
      this.tokens.delete(old);
    }
    return analyst;
  }

  private analyst(claims: Record<string, unknown>): SignedInAnalyst {
    const text = (value: unknown, max: number) =>
      typeof value === 'string' && value.trim() ? value.trim().slice(0, max) : undefined;
    const subject = text(claims.sub, 256);
    if (!subject) throw new Error('the provider named no subject');
    const raw = claims[this.settings.groupsClaim];
    const groups = (Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [])
      .filter((g): g is string => typeof g === 'string')
      .slice(0, 200);
    const name = text(claims.name, 256);
    const email = text(claims.email, 320);
    return {
      identity: {
        issuer: this.settings.issuer,
        subject,
        ...(name ? { name } : {}),
        ...(email ? { email } : {}),
      },
      groups,
      canApprove: groups.includes(this.settings.approverGroup),
    };
  }
}

/** How a verified analyst is named in the incident: their name, else email, else subject. */
export function analystName(identity: AnalystIdentity): string {
  return identity.name ?? identity.email ?? identity.subject;
}

/** The client identity Temporal records with the decision in the workflow history. */
export function historyIdentity(identity: AnalystIdentity): string {
  return `${analystName(identity)}${identity.email ? ` <${identity.email}>` : ''} (oidc ${identity.subject} @ ${identity.issuer})`.slice(
    0,
    512,
  );
}
