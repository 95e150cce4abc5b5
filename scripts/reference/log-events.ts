/** docs/reference/log-events.md: every log event and its level, from LOG_EVENTS (src/observe/events.ts). */
import { LOG_EVENTS, LOG_LEVELS } from '../../src/observe/events.ts';
import { code, page, table } from './markdown.ts';

export function logEventsPage(): string {
  const rows = Object.entries(LOG_EVENTS).map(([name, spec]) => [code(name), spec.level, spec.when]);
  return page('Log events', '`LOG_EVENTS` in `src/observe/events.ts`', [
    `One JSON line per event (\`{"event": …, …}\`). \`LOG_LEVEL\` (${LOG_LEVELS.map(code).join(', ')}, least to most) keeps the events at its level and the ones before it.`,
    table(['event', 'level', 'when'], rows),
  ]);
}
