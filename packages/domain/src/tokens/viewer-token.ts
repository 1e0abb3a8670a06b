import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { UnauthenticatedError } from '../errors.js';

/**
 * What a viewer token grants: Poll Dashboard Status of one dashboard through one sharing link, with
 * that link's fixed parameters. It is never an API key and reaches no API-key route.
 */
export interface ViewerGrant {
  organizationId: string;
  dashboardId: string;
  linkId: string;
  /** Digest of the link's sharing token when the session opened (rotation ends the session). */
  tokenDigest: string;
  /** Version of the organization's sharing secret the session was opened with (secret links), else null. */
  secretVersion: number | null;
  /** Fixed parameters in the wire shape (`{"<variable>": [..], "aggregation": "..", "timerange": ".."}`), link and JWT combined. */
  fixedParameters: Record<string, unknown>;
}

interface ViewerClaims {
  org: string;
  dsh: string;
  lnk: string;
  ltd: string;
  sv: number | null;
  fp: Record<string, unknown>;
  exp: number;
}

/** The claims of a verified sharing-secret JWT (Cluvio's embedding format). */
export interface SharingSecretClaims {
  sharingToken: string;
  /** Unix seconds. */
  exp: number;
  /** The raw `fixed_parameters` claim (validated by the caller), or undefined. */
  fixedParameters: unknown;
}

const ISSUER = 'sightline-api';
const AUDIENCE = 'sightline-viewer';
const VIEWER_SCHEME = /^Viewer[ ]+([A-Za-z0-9_.-]{1,8192})$/;
const JWT_SHAPE = /^[A-Za-z0-9_-]{1,4096}\.[A-Za-z0-9_-]{1,8192}\.[A-Za-z0-9_-]{1,1024}$/;

/** Why a sharing secret was refused (the page names it; none of them reveals anything else). */
export type SharingSecretProblem = 'malformed' | 'invalid_signature' | 'expired' | 'missing_exp' | 'not_yet_valid';

/** Thrown by `verifySharingSecret`. */
export class SharingSecretError extends Error {
  constructor(readonly problem: SharingSecretProblem) {
    super(`sharing secret refused: ${problem}`);
    this.name = 'SharingSecretError';
  }
}

/**
 * Verifies a host application's sharing secret: an HS256 JWT signed with the organization's
 * sharing secret, carrying `sharing_token`, `exp` (required) and optional `fixed_parameters`.
 * Only HS256 is accepted (`alg: none` and asymmetric algorithms are refused); the JWT has no issuer
 * or audience in Cluvio's format, so the `sharing_token` claim binds it to one link.
 * @param now for `exp`/`nbf` (unix seconds come from this clock, not the system's)
 * @throws SharingSecretError
 */
export function verifySharingSecret(token: string, secret: string, now: Date): SharingSecretClaims {
  if (!JWT_SHAPE.test(token)) throw new SharingSecretError('malformed');
  let payload: unknown;
  try {
    payload = jwt.verify(token, secret, { algorithms: ['HS256'], clockTimestamp: Math.floor(now.getTime() / 1000) });
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'TokenExpiredError') throw new SharingSecretError('expired');
    if (name === 'NotBeforeError') throw new SharingSecretError('not_yet_valid');
    throw new SharingSecretError((err as Error).message === 'jwt malformed' ? 'malformed' : 'invalid_signature');
  }
  if (typeof payload !== 'object' || payload === null) throw new SharingSecretError('malformed');
  const claims = payload as Record<string, unknown>;
  if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) throw new SharingSecretError('missing_exp');
  if (typeof claims.sharing_token !== 'string') throw new SharingSecretError('malformed');
  return { sharingToken: claims.sharing_token, exp: claims.exp, fixedParameters: claims.fixed_parameters };
}

/**
 * Signs and verifies viewer tokens (HS256 JWTs with their own audience, under a key derived from the
 * data token secret so the two kinds can never stand in for each other).
 */
export class ViewerTokens {
  /** A KeyObject: jsonwebtoken would otherwise try (and fail) to parse raw bytes as a PEM key each time. */
  private readonly key: KeyObject;

  /**
   * @param secret the deployment's data token secret (a separate key is derived from it)
   * @param ttlSeconds lifetime of one viewer token; the page renews it while it polls
   */
  constructor(
    secret: string,
    readonly ttlSeconds: number,
  ) {
    this.key = createSecretKey(createHmac('sha256', secret).update('sightline viewer tokens v1').digest());
  }

  /**
   * A token for `grant`, valid for the TTL but never past `notAfter` (the link's expiry).
   * @returns the token and its expiry
   */
  sign(grant: ViewerGrant, now: Date, notAfter?: Date | null): { token: string; expiresAt: Date } {
    let exp = Math.floor(now.getTime() / 1000) + this.ttlSeconds;
    if (notAfter) exp = Math.min(exp, Math.floor(notAfter.getTime() / 1000));
    const claims: ViewerClaims = {
      org: grant.organizationId,
      dsh: grant.dashboardId,
      lnk: grant.linkId,
      ltd: grant.tokenDigest,
      sv: grant.secretVersion,
      fp: grant.fixedParameters,
      exp,
    };
    const token = jwt.sign(claims, this.key, { algorithm: 'HS256', issuer: ISSUER, audience: AUDIENCE });
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /**
   * Checks `Authorization: Viewer <token>`.
   * @returns the grant and the token's expiry
   * @throws UnauthenticatedError (401) for a missing, malformed, forged or expired token
   */
  verify(authorization: string | undefined, now: Date): { grant: ViewerGrant; expiresAt: Date } {
    if (!authorization)
      throw new UnauthenticatedError('Missing Authorization header; send "Authorization: Viewer <token>"', { source: { header: 'Authorization' } });
    const match = VIEWER_SCHEME.exec(authorization.trim());
    if (!match) throw new UnauthenticatedError('Malformed Authorization header; expected "Viewer <token>"', { source: { header: 'Authorization' } });
    let claims: ViewerClaims;
    try {
      claims = jwt.verify(match[1]!, this.key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        clockTimestamp: Math.floor(now.getTime() / 1000),
      }) as unknown as ViewerClaims;
    } catch (err) {
      const expired = (err as Error).name === 'TokenExpiredError';
      throw new UnauthenticatedError(expired ? 'The viewer token has expired; open the shared link again' : 'Invalid viewer token', {
        source: { header: 'Authorization' },
      });
    }
    if (
      typeof claims.org !== 'string' ||
      typeof claims.dsh !== 'string' ||
      typeof claims.lnk !== 'string' ||
      typeof claims.ltd !== 'string' ||
      typeof claims.fp !== 'object' ||
      claims.fp === null ||
      (claims.sv !== null && typeof claims.sv !== 'number')
    ) {
      throw new UnauthenticatedError('Invalid viewer token', { source: { header: 'Authorization' } });
    }
    return {
      grant: {
        organizationId: claims.org,
        dashboardId: claims.dsh,
        linkId: claims.lnk,
        tokenDigest: claims.ltd,
        secretVersion: claims.sv,
        fixedParameters: claims.fp,
      },
      expiresAt: new Date(claims.exp * 1000),
    };
  }
}
