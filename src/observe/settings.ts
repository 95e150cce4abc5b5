import type { Vars } from '../env.ts';
import { ConfigError } from '../errors.ts';
import { LOG_LEVELS, type LogLevel } from './log.ts';

/** What the operator chose to see: log detail and Server-Timing. Beside POLICY or the flat variables alike. */
export interface ObservabilitySettings {
  /** Default `info`: one line per request decision. */
  readonly logLevel: LogLevel;
  /** Default `false`. */
  readonly serverTiming: boolean;
}

export const DEFAULT_OBSERVABILITY: ObservabilitySettings = { logLevel: 'info', serverTiming: false };

export function parseObservability(vars: Pick<Vars, 'LOG_LEVEL' | 'SERVER_TIMING'>): ObservabilitySettings {
  const level = vars.LOG_LEVEL?.trim() || DEFAULT_OBSERVABILITY.logLevel;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const timing = vars.SERVER_TIMING?.trim() || 'false';
  if (timing !== 'true' && timing !== 'false') throw new ConfigError('SERVER_TIMING', 'must be true or false');
  return { logLevel: level as LogLevel, serverTiming: timing === 'true' };
}
