import type { TokenSourceConfig } from '../config.ts';
import { authorizationSource } from './authorization.ts';
import { cookieSource } from './cookie.ts';
import { headerSource } from './header.ts';
import { querySource } from './query.ts';
import type { TokenSource } from './token-source.ts';

/** A route's token sources as the pipeline reads them, compiled once per list. */
export interface CompiledSources {
  /** In the policy's order. */
  readonly sources: readonly TokenSource[];
  /** The cookie sources: a token only they carried is held to the cross-site rule. */
  readonly cookies: ReadonlySet<TokenSource>;
  /** Query parameters that carry tokens: never in the URL the origin receives. */
  readonly queryNames: readonly string[];
  /** Whether `access_token` is one of them (then it is a source, not a second way to send a token). */
  readonly readsAccessTokenParameter: boolean;
}

const compiled = new WeakMap<readonly TokenSourceConfig[], CompiledSources>();

/** The sources of a list, built once per list so the verifier and the proxy share them. */
export function compileTokenSources(configs: readonly TokenSourceConfig[]): CompiledSources {
  let entry = compiled.get(configs);
  if (entry) return entry;
  const sources = configs.map(sourceOf);
  const queryNames = configs.flatMap((config) => (config.kind === 'query' ? [config.name] : []));
  entry = {
    sources,
    cookies: new Set(sources.filter((_, i) => configs[i]?.kind === 'cookie')),
    queryNames,
    readsAccessTokenParameter: queryNames.includes('access_token'),
  };
  compiled.set(configs, entry);
  return entry;
}

function sourceOf(config: TokenSourceConfig): TokenSource {
  switch (config.kind) {
    case 'authorization':
      return authorizationSource;
    case 'header':
      return headerSource(config.name);
    case 'cookie':
      return cookieSource(config.name);
    case 'query':
      return querySource(config.name);
  }
}
