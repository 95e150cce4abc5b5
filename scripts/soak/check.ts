/**
 * After the run: what the origin recorded, request by request, against what was sent. A valid
 * request must have reached it exactly once, with its own method, path, body and identity; a
 * refused one must never have reached it; and nothing else may have arrived.
 */
import type { Sent } from './client.ts';
import type { OriginRecord } from './origin.ts';

/** Problems found, by request id (the client's and these together). */
export type Problems = Map<string, string[]>;

export function checkOrigin(
  sent: readonly Sent[],
  origin: { records: ReadonlyMap<string, OriginRecord>; cutShort: ReadonlySet<string>; strays: number },
  problems: Problems,
): void {
  const { records, cutShort, strays } = origin;
  const note = (id: string, problem: string) => problems.set(id, [...(problems.get(id) ?? []), problem]);
  const ids = new Set<string>();
  for (const request of sent) {
    ids.add(request.id);
    const seen = records.get(request.id);
    if (request.kind !== 'valid') {
      if (seen || cutShort.has(request.id)) note(request.id, `a ${request.kind} request reached the origin`);
      continue;
    }
    if (cutShort.has(request.id)) note(request.id, 'its body to the origin stopped short (connection closed)');
    if (!seen) {
      note(request.id, 'never reached the origin');
      continue;
    }
    if (seen.count !== 1) note(request.id, `reached the origin ${seen.count} times`);
    if (seen.method !== request.method) note(request.id, `origin saw method ${seen.method}`);
    if (seen.target !== request.target) note(request.id, `origin saw ${seen.target}, not ${request.target}`);
    if (seen.bodyBytes !== request.bodyBytes || seen.bodySha256 !== request.bodySha256)
      note(
        request.id,
        `origin got ${seen.bodyBytes} body bytes (sha256 ${seen.bodySha256}), not the ${request.bodyBytes} sent`,
      );
    if (seen.subject !== request.credentials.subject)
      note(
        request.id,
        `origin saw x-auth-subject ${String(seen.subject)}, token's sub is ${request.credentials.subject}`,
      );
    if (seen.claims !== request.credentials.claims)
      note(request.id, "origin's x-auth-claims is not the token's payload segment");
  }
  for (const id of [...records.keys(), ...cutShort])
    if (!ids.has(id)) note(id, 'the origin got a request id the soak never sent');
  if (strays > 0) note('(no id)', `${strays} request(s) reached the origin without a request id`);
}
