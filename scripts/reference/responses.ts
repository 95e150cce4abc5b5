/** docs/reference/responses.md: every refusal code, from ERROR_SPECS (src/errors.ts). */
import { ERROR_SPECS, STAGES } from '../../src/errors.ts';
import { code, page, table } from './markdown.ts';

export function responsesPage(): string {
  const rows = Object.entries(ERROR_SPECS).map(([name, spec]) => [
    code(name),
    String(spec.status),
    'oauthError' in spec ? code(spec.oauthError) : spec.challenge ? '(none: no credentials)' : '—',
    spec.challenge ? 'yes' : 'no',
    spec.stage,
    spec.description,
    spec.when,
  ]);
  return page('Responses', '`ERROR_SPECS` in `src/errors.ts`', [
    'Every refusal has `Cache-Control: no-store` and an `application/problem+json` body whose `code` names it. A 400, 401 or 403 with a challenge carries exactly one `WWW-Authenticate` header (RFC 6750 §3; on a route that accepts DPoP, a `DPoP` challenge too, RFC 9449 §7.1) whose `error_description` is the fixed description below: nothing from the token is echoed.',
    `Stages, in the order a request goes through them: ${STAGES.map(code).join(', ')}. \`npm run explain\` reports the stages before a refusal's own as passed and none after.`,
    table(['code', 'status', 'challenge error', 'challenge', 'stage', 'description', 'when'], rows),
  ]);
}
