// GET /docs in a real browser (Debian's chromium through playwright-core): the Scalar reference page
// renders the OpenAPI document with every byte from this server. Requests anywhere else are blocked
// and recorded, CSP violations and page errors too.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createApiApp } from '@sightline/api-server';
import { createDomainServices, createLogger } from '@sightline/domain';
import { listen, type RunningServer } from '@sightline/http';
import { startBrowser, testOutputPath, type TestBrowser } from './support/browser.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { TEST_ENCRYPTION_KEY } from './support/context.js';

// page callbacks run in the browser; this program has no DOM types
declare const document: any;
declare const window: any;

let database: TestDatabase;
let server: RunningServer;
let browser: TestBrowser;

beforeAll(async () => {
  database = await createTestDatabase();
  const services = createDomainServices({ db: database.db, encryptionKey: TEST_ENCRYPTION_KEY });
  server = await listen(
    createApiApp({ db: database.db, logger: createLogger('silent', 'test'), services, maxBodyBytes: 64 * 1024, dataBaseUrl: 'http://127.0.0.1:9' }),
    '127.0.0.1',
    0,
  );
  browser = await startBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await database?.drop();
});

describe('the API reference page', () => {
  it('renders the operations from /openapi.json with nothing loaded from elsewhere', async () => {
    const page = await browser.context.newPage();
    const foreign: string[] = [];
    const local: string[] = [];
    const errors: string[] = [];
    await page.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith(server.url) || url.startsWith('data:') || url.startsWith('blob:')) {
        local.push(url);
        await route.continue();
      } else {
        foreign.push(url);
        await route.abort();
      }
    });
    page.on('pageerror', (err) => errors.push(String(err)));
    await page.addInitScript(() => {
      window.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e: any) => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });

    const response = await page.goto(`${server.url}/docs`);
    expect(response?.status()).toBe(200);
    // Scalar renders the document's title and, in the sidebar, the tags and the first tag's operations
    try {
      await page.getByText('List API keys').first().waitFor({ timeout: 60_000 });
    } catch (err) {
      await page.screenshot({ path: testOutputPath('api-docs-page-failed.png') });
      const csp = await page.evaluate(() => window.cspViolations);
      throw new Error(
        `${String(err)}\nforeign: ${foreign.join(' ')}\nerrors: ${errors.join(' | ')}\ncsp: ${csp.join(' | ')}\nlocal: ${local.join(' ')}\nbody: ${(await page.content()).slice(0, 1500)}`,
        { cause: err },
      );
    }
    await page.getByRole('heading', { name: 'Sightline API' }).first().waitFor({ timeout: 10_000 });
    await page.getByText('Dashboard schedules').first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: testOutputPath('api-docs-page.png') });
    const text = (await page.evaluate(() => document.body.innerText)) as string;
    for (const tag of ['Reports', 'Executions', 'Data server', 'Dashboard data']) expect(text).toContain(tag);

    expect(local).toEqual(
      expect.arrayContaining([`${server.url}/docs`, `${server.url}/docs/scalar.js`, `${server.url}/docs/init.js`, `${server.url}/openapi.json`]),
    );
    expect(foreign).toEqual([]);
    // zod (inside Scalar) probes `Function('')` once to choose its JIT; the CSP refuses, zod falls back
    const violations = (await page.evaluate(() => window.cspViolations)) as string[];
    expect(violations.filter((v) => v !== 'script-src eval')).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
