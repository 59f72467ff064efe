// Swagger UI's "Authorize" in a real headless Chromium (Debian's /usr/bin/chromium, driven
// by playwright-core) against the `openapi` example at $APP and its embedded dev issuer:
// call /items without a token, authorize the `dev` scheme (the authorization-code flow
// with PKCE in a popup, as a user would), call /items and /me again with the token.
// Prints one JSON line per checkpoint; tests/tests/openapi.rs asserts on them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const app = process.env.APP;
const report = (step, data) => console.log(JSON.stringify({ step, ...data }));
const profile = mkdtempSync(join(tmpdir(), 'oauth2-chromium-'));

const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

// "Try it out" and "Execute" on an operation; the status code Swagger UI shows.
async function execute(page, operation) {
  const block = page.locator(`#operations-default-${operation}`);
  if (!(await block.locator('button.execute').isVisible())) {
    if (!(await block.locator('.try-out__btn').isVisible())) {
      await block.locator('.opblock-summary').click();
    }
    await block.locator('.try-out__btn').click();
  }
  await block.locator('button.execute').click();
  const status = block.locator('.live-responses-table .response .response-col_status');
  await status.first().waitFor();
  const code = (await status.first().textContent()).trim();
  const body = await block.locator('.live-responses-table .response-col_description pre').first().textContent();
  // Clear, so that the next call's answer is not this one.
  await block.locator('button.btn-clear').click();
  return { code, body };
}

try {
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(15000);
  await page.goto(`${app}/swagger-ui/`);
  await page.locator('#operations-default-items').waitFor();
  report('loaded', { title: await page.textContent('.info .title') });

  report('without_token', await execute(page, 'items'));

  await page.click('button.authorize');
  const modal = page.locator('.modal-ux');
  await modal.waitFor();
  const schemes = await modal.locator('.auth-container h4').allTextContents();
  report('schemes', { schemes: schemes.map((s) => s.replace(/\s+/g, ' ').trim()) });
  const dev = modal.locator('.auth-container').filter({ hasText: 'dev (OAuth2, authorization_code' });
  await dev.waitFor();
  // The popup signs in at the dev issuer and closes itself, maybe before a listener
  // for its closing could be added: watch the requests instead.
  const flow = [];
  context.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname === '/authorize' || url.pathname === '/token') {
      flow.push({ method: r.method(), path: url.pathname, query: Object.fromEntries(url.searchParams) });
    }
  });
  await dev.locator('button.authorize').click();
  await dev.locator('button[aria-label="Remove authorization"]').waitFor();
  report('authorized', { text: (await dev.textContent()).replace(/\s+/g, ' '), flow });
  await modal.locator('button.close-modal').click();

  report('items_with_token', await execute(page, 'items'));
  report('me_with_token', await execute(page, 'me'));
} catch (e) {
  report('error', { message: String(e) });
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
