/** `npm run docs`: writes docs/reference/ from the code (see pages.ts). A test fails when a committed page is stale. */
import { mkdir, writeFile } from 'node:fs/promises';
import { PAGES, REFERENCE_DIR } from './pages.ts';

await mkdir(REFERENCE_DIR, { recursive: true });
for (const [name, make] of Object.entries(PAGES)) {
  await writeFile(new URL(name, REFERENCE_DIR), make());
  console.log(`wrote docs/reference/${name}`);
}
