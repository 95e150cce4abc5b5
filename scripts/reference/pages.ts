/** The generated reference: each page's file name under docs/reference/ and how it is made. */
import { libraryPage } from './library.ts';
import { limitsPage } from './limits.ts';
import { logEventsPage } from './log-events.ts';
import { policyPage } from './policy.ts';
import { responsesPage } from './responses.ts';
import { variablesPage } from './variables.ts';

export const REFERENCE_DIR = new URL('../../docs/reference/', import.meta.url);

export const PAGES: Readonly<Record<string, () => string>> = {
  'policy.md': policyPage,
  'variables.md': variablesPage,
  'responses.md': responsesPage,
  'log-events.md': logEventsPage,
  'limits.md': limitsPage,
  'library.md': libraryPage,
};
