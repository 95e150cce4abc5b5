import { LOG_EVENTS, LOG_LEVELS, type LogEvent, type LogLevel } from './events.ts';

export { LOG_LEVELS, type LogEvent, type LogLevel } from './events.ts';

/** One structured line per event, so logs can be queried by field in Workers Logs. */
export type Logger = (event: LogEvent, fields?: Record<string, unknown>) => void;

export const consoleLogger: Logger = (event, fields) => {
  console.log(JSON.stringify({ event, ...fields }));
};

/** A logger that drops what is below `level`. `fields.level` (a `request` line's own level) wins over the table. */
export function levelledLogger(log: Logger, level: LogLevel): Logger {
  const keep = LOG_LEVELS.indexOf(level);
  return (event, fields) => {
    const own = fields?.level as LogLevel | undefined;
    if (LOG_LEVELS.indexOf(own ?? LOG_EVENTS[event].level) <= keep) log(event, fields);
  };
}
