import { VerifierError } from '../errors.ts';
import { type ClaimPath, claimAt } from '../shared/claim-path.ts';

/** The placeholder an accepted `iss` may hold once, as a whole path segment or host label. */
export const TENANT_PLACEHOLDER = '{tenantid}';

/** One accepted `iss`: an exact value, or a template around one tenant id. */
export type IssuerPattern =
  | { readonly exact: string }
  | { readonly prefix: string; readonly suffix: string; readonly template: string };

/**
 * An accepted value as a pattern, or why it cannot be one: the placeholder at most once, and
 * bounded by `/` or `.` on each side (or the end), so it takes exactly one segment or label.
 */
export function parseIssuerPattern(value: string): IssuerPattern | string {
  const at = value.indexOf(TENANT_PLACEHOLDER);
  if (at < 0) return { exact: value };
  if (value.indexOf(TENANT_PLACEHOLDER, at + 1) >= 0) return `holds ${TENANT_PLACEHOLDER} more than once`;
  const prefix = value.slice(0, at);
  const suffix = value.slice(at + TENANT_PLACEHOLDER.length);
  if (!/[/.]$/.test(prefix) || !(suffix === '' || /^[/.]/.test(suffix))) {
    return `must hold ${TENANT_PLACEHOLDER} as a whole path segment or host label`;
  }
  return { prefix, suffix, template: value };
}

/** What matching reads of an issuer's config (its accepted values, tenants and tenant claim). */
export interface AcceptedIssuers {
  readonly accepted: readonly IssuerPattern[];
  readonly tenants: readonly string[] | 'any' | undefined;
  readonly tenantClaim: ClaimPath;
}

/** A tenant id as the placeholder takes it: one segment or label, never `/` or `.`. */
const TENANT_ID = /^[^/.\s]+$/;

/**
 * Which of the issuer's accepted values `iss` is: `undefined` for none; the tenant id the
 * placeholder took, or `''` for an exact value. A template's tenant must be one of the issuer's
 * `tenants` (unless they are `*`); the caller has fetched nothing yet.
 */
export function matchIssuer(issuer: AcceptedIssuers, iss: unknown): string | undefined {
  if (typeof iss !== 'string') return undefined;
  for (const pattern of issuer.accepted) {
    if ('exact' in pattern) {
      if (iss === pattern.exact) return '';
      continue;
    }
    if (iss.length <= pattern.prefix.length + pattern.suffix.length) continue;
    if (!iss.startsWith(pattern.prefix) || !iss.endsWith(pattern.suffix)) continue;
    const tenant = iss.slice(pattern.prefix.length, iss.length - pattern.suffix.length);
    if (!TENANT_ID.test(tenant)) continue;
    if (issuer.tenants !== 'any' && !issuer.tenants?.includes(tenant)) continue;
    return tenant;
  }
  return undefined;
}

/**
 * After the signature: the token's `iss` is one the issuer accepts, and, for a template, the
 * token's tenant claim (`tid` for Microsoft Entra) is the tenant its `iss` names, as Microsoft's
 * multi-tenant guidance asks. Returns the tenant (`undefined` for an exact `iss`).
 */
export function checkIssuerClaims(claims: Record<string, unknown>, issuer: AcceptedIssuers): string | undefined {
  const tenant = matchIssuer(issuer, claims.iss);
  if (tenant === undefined) throw new VerifierError('wrong_issuer');
  if (tenant === '') return undefined;
  if (claimAt(claims, issuer.tenantClaim) !== tenant) throw new VerifierError('wrong_issuer');
  return tenant;
}

/**
 * A JWKS key that names its own `issuer` (Microsoft Entra's do, with the placeholder) verifies
 * only tokens of that issuer, the placeholder read as the token's tenant.
 */
export function keyIssuerAllows(keyIssuer: unknown, iss: string, tenant: string | undefined): boolean {
  if (keyIssuer === undefined) return true;
  if (typeof keyIssuer !== 'string') return false;
  return keyIssuer.replace(TENANT_PLACEHOLDER, tenant ?? TENANT_PLACEHOLDER) === iss;
}
