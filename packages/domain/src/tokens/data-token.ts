import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ForbiddenError, UnauthenticatedError } from '../errors.js';

/** CSV options the contract lets Get Report Data choose (defaults come from organization settings). */
export interface CsvOptions {
  columnSeparator: ',' | ';' | '\t';
  decimalSeparator: '.' | ',' | '/';
  quoteStyle: 'necessary' | 'always';
}

/**
 * What a token opens: `result` data (Get Result Data, `/results/…`) or `schema` data (Get Schema
 * Data, `/schemas/…`). A token of one kind is refused by the other route.
 */
export type DataTokenKind = 'result' | 'schema';

const KINDS: readonly DataTokenKind[] = ['result', 'schema'];

/** What a data access token grants: one data key of one organization, of one kind, in one format. */
export interface DataTokenGrant {
  organizationId: string;
  dataKey: string;
  kind: DataTokenKind;
  format: 'json' | 'csv';
  csv?: CsvOptions;
}

interface Claims {
  org: string;
  dk: string;
  kind: DataTokenKind;
  fmt: 'json' | 'csv';
  csv?: [string, string, string];
  iat: number;
  exp: number;
}

const ISSUER = 'sightline-api';
const AUDIENCE = 'sightline-data';

/**
 * Signs and verifies data access tokens (HS256 JWTs). The data server needs no database lookup to
 * authorize: everything it checks is in the token.
 */
export class DataTokens {
  /**
   * The HMAC key as a KeyObject: given a string, jsonwebtoken first tries to parse it as a PEM key
   * (a thrown and caught error on every sign and verify, measured at a third of a status poll's CPU).
   */
  private readonly secret: KeyObject;
  /** Tokens signed during `memoSecond`, by claims: the same claims within one second give the same token. */
  private memo = new Map<string, string>();
  private memoSecond = 0;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.secret = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  /** A token for `grant`, valid for the configured TTL. */
  sign(grant: DataTokenGrant): string {
    const claims: Omit<Claims, 'iat' | 'exp'> = { org: grant.organizationId, dk: grant.dataKey, kind: grant.kind, fmt: grant.format };
    if (grant.csv) claims.csv = [grant.csv.columnSeparator, grant.csv.decimalSeparator, grant.csv.quoteStyle];
    // `iat` is whole seconds (jsonwebtoken reads Date.now() the same way): a token signed again
    // within the same second would be byte-for-byte the same, so it is reused (a status poll signs
    // one token per data key; many polls of one dashboard share them).
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.memoSecond) {
      this.memo = new Map();
      this.memoSecond = second;
    }
    const memoKey = JSON.stringify(claims);
    const known = this.memo.get(memoKey);
    if (known) return known;
    // `iat` last, where jsonwebtoken would put it
    const token = jwt.sign({ ...claims, iat: second }, this.secret, { algorithm: 'HS256', expiresIn: this.ttlSeconds, issuer: ISSUER, audience: AUDIENCE });
    if (this.memo.size < 10_000) this.memo.set(memoKey, token);
    return token;
  }

  /**
   * Checks `Authorization: Data <token>` for `dataKey` on the route serving `kind`. A token must be
   * signed with this deployment's key and carry issuer, audience, `iat`, `exp` and its kind.
   * @throws UnauthenticatedError (401) for a missing, malformed, forged, incomplete or expired token;
   *   ForbiddenError (403) for a valid token issued for another data key or another kind of data
   */
  verify(authorization: string | undefined, dataKey: string, kind: DataTokenKind): DataTokenGrant {
    if (!authorization)
      throw new UnauthenticatedError('Missing Authorization header; send "Authorization: Data <token>"', { source: { header: 'Authorization' } });
    const match = /^Data[ ]+([A-Za-z0-9_.-]{1,4096})$/.exec(authorization.trim());
    if (!match) throw new UnauthenticatedError('Malformed Authorization header; expected "Data <token>"', { source: { header: 'Authorization' } });
    let claims: Partial<Claims>;
    try {
      claims = jwt.verify(match[1]!, this.secret, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE }) as Partial<Claims>;
    } catch (err) {
      const expired = (err as Error).name === 'TokenExpiredError';
      throw new UnauthenticatedError(expired ? 'The data access token has expired; request a new one from the API server' : 'Invalid data access token', {
        source: { header: 'Authorization' },
      });
    }
    // Every token this server issues has all of these; a token without them was not made by it.
    if (
      typeof claims.org !== 'string' ||
      typeof claims.dk !== 'string' ||
      !Number.isInteger(claims.iat) ||
      !Number.isInteger(claims.exp) ||
      !KINDS.includes(claims.kind as DataTokenKind)
    ) {
      throw new UnauthenticatedError('Invalid data access token', { source: { header: 'Authorization' } });
    }
    if (claims.dk !== dataKey) throw new ForbiddenError('The data access token was issued for another data key');
    if (claims.kind !== kind) {
      throw new ForbiddenError(
        claims.kind === 'schema'
          ? 'This data access token is for schema data: fetch it from /schemas/<data key>'
          : 'This data access token is for result data: fetch it from /results/<data key>',
      );
    }
    const grant: DataTokenGrant = { organizationId: claims.org, dataKey: claims.dk, kind: claims.kind!, format: claims.fmt === 'csv' ? 'csv' : 'json' };
    if (claims.csv)
      grant.csv = {
        columnSeparator: claims.csv[0] as CsvOptions['columnSeparator'],
        decimalSeparator: claims.csv[1] as CsvOptions['decimalSeparator'],
        quoteStyle: claims.csv[2] as CsvOptions['quoteStyle'],
      };
    return grant;
  }

  /**
   * A token for one export job's file (`kind: "export"`), carried in the file URL's `token`
   * parameter; `ttlSeconds` overrides the data token lifetime (file URLs live longer).
   */
  signExportFile(grant: ExportFileGrant, ttlSeconds: number): string {
    const claims: ExportClaims = { org: grant.organizationId, dk: `exports/${grant.exportJobId}`, kind: 'export' };
    return jwt.sign(claims, this.secret, { algorithm: 'HS256', expiresIn: ttlSeconds, issuer: ISSUER, audience: AUDIENCE });
  }

  /**
   * Checks an export file token for `exportJobId`. Result and schema tokens are refused here, and an
   * export token opens no result or schema (its data key `exports/<id>` names none).
   * @throws UnauthenticatedError (401) for a missing, forged, expired or other-kind token;
   *   ForbiddenError (403) for a token of another export job
   */
  verifyExportFile(token: string | undefined, exportJobId: string): ExportFileGrant {
    if (!token || !/^[A-Za-z0-9_.-]{1,4096}$/.test(token))
      throw new UnauthenticatedError('Missing or malformed file token; request a new file URL with Get Export Job', { source: { parameter: 'token' } });
    let claims: Partial<ExportClaims>;
    try {
      claims = jwt.verify(token, this.secret, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE }) as Partial<ExportClaims>;
    } catch (err) {
      const expired = (err as Error).name === 'TokenExpiredError';
      throw new UnauthenticatedError(expired ? 'The file URL has expired; request a new one with Get Export Job' : 'Invalid file token', {
        source: { parameter: 'token' },
      });
    }
    if (claims.kind !== 'export' || typeof claims.org !== 'string' || typeof claims.dk !== 'string')
      throw new UnauthenticatedError('Invalid file token', { source: { parameter: 'token' } });
    if (claims.dk !== `exports/${exportJobId}`) throw new ForbiddenError('The file token was issued for another export job');
    return { organizationId: claims.org, exportJobId };
  }
}

/** What an export file token grants: the file of one export job of one organization. */
export interface ExportFileGrant {
  organizationId: string;
  exportJobId: string;
}

interface ExportClaims {
  org: string;
  dk: string;
  kind: 'export';
}
