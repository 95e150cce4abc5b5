/** One structured line per event, so logs can be queried by field in Workers Logs. */
export type Logger = (event: string, fields?: Record<string, unknown>) => void;

export const consoleLogger: Logger = (event, fields) => {
  console.log(JSON.stringify({ event, ...fields }));
};

/** `LOG_LEVEL`, least to most: each level keeps the events of the ones before it. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The level of each event the verifier logs; a `request` line's level comes with it (by its status). */
const EVENT_LEVELS: Readonly<Record<string, LogLevel>> = {
  config_invalid: 'error',
  jwks_unavailable: 'error',
  jwks_refresh_failed: 'warn',
  jwks_key_skipped: 'warn',
  jwks_key_import_failed: 'warn',
  jwks_tier_error: 'warn',
  jwks_fetched: 'info',
  introspection_unauthorized: 'error',
  introspection_refused: 'error',
  introspection_unavailable: 'warn',
};

/** A logger that drops what is below `level`. `fields.level` (a `request` line's own level) wins over the table. */
export function levelledLogger(log: Logger, level: LogLevel): Logger {
  const keep = LOG_LEVELS.indexOf(level);
  return (event, fields) => {
    const own = fields?.level as LogLevel | undefined;
    if (LOG_LEVELS.indexOf(own ?? EVENT_LEVELS[event] ?? 'info') <= keep) log(event, fields);
  };
}
