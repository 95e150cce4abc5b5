import { DEFAULT_LOG_SUCCESS_SAMPLE } from '../constants.ts';
import type { Vars } from '../env.ts';
import { ConfigError } from '../errors.ts';
import { LOG_LEVELS, type LogLevel } from './log.ts';

/** What the operator chose to see: log detail and Server-Timing. Beside POLICY or the flat variables alike. */
export interface ObservabilitySettings {
  /** Default `info`: a line per refusal or failure, and per sampled success. */
  readonly logLevel: LogLevel;
  /** Default `false`. */
  readonly serverTiming: boolean;
  /** The share of successes whose decision line is written at `info`, 0 to 1. Default `DEFAULT_LOG_SUCCESS_SAMPLE`. */
  readonly successSample: number;
}

export const DEFAULT_OBSERVABILITY: ObservabilitySettings = {
  logLevel: 'info',
  serverTiming: false,
  successSample: DEFAULT_LOG_SUCCESS_SAMPLE,
};

export function parseObservability(
  vars: Pick<Vars, 'LOG_LEVEL' | 'SERVER_TIMING' | 'LOG_SUCCESS_SAMPLE'>,
): ObservabilitySettings {
  const level = vars.LOG_LEVEL?.trim() || DEFAULT_OBSERVABILITY.logLevel;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const timing = vars.SERVER_TIMING?.trim() || 'false';
  if (timing !== 'true' && timing !== 'false') throw new ConfigError('SERVER_TIMING', 'must be true or false');
  const sample = vars.LOG_SUCCESS_SAMPLE?.trim();
  const successSample = sample ? Number(sample) : DEFAULT_OBSERVABILITY.successSample;
  if (sample !== undefined && sample !== '' && !(/^\d+(\.\d+)?$/.test(sample) && successSample <= 1)) {
    throw new ConfigError('LOG_SUCCESS_SAMPLE', 'must be a number from 0 to 1');
  }
  return { logLevel: level as LogLevel, serverTiming: timing === 'true', successSample };
}
