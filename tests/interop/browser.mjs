// One end-to-end login in a real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core): open $APP, click "Log in", sign in and allow access on the provider's
// pages, land on the protected /me, go home, log out and confirm at the provider.
// Prints one JSON line per checkpoint; tests/tests/browser.rs asserts on them.
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
try {
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(15000);

  await page.goto(`${app}/`);
  report('home', { text: await page.textContent('body') });

  await page.click('#login');
  await page.waitForURL(/\/interaction\//);
  report('provider_login_page', { url: page.url(), title: await page.textContent('h1') });
  await page.fill('#login', 'alice');
  await page.fill('#password', 'wonderland');
  await page.click('#sign-in');
  await page.waitForSelector('#allow');
  report('consent_page', { text: await page.textContent('body') });
  await page.click('#allow');

  await page.waitForURL(`${app}/me`);
  report('protected_page', { url: page.url(), body: JSON.parse(await page.textContent('body')) });
  const cookies = await context.cookies(app);
  report('cookies', { cookies: cookies.map(({ name, httpOnly, sameSite, secure }) => ({ name, httpOnly, sameSite, secure })) });

  await page.goto(`${app}/`);
  report('home_logged_in', { text: await page.textContent('body') });
  await page.click('#logout');
  await page.waitForSelector('button[value="yes"]');
  report('provider_logout_page', { url: page.url() });
  await page.click('button[value="yes"]');
  await page.waitForURL(`${app}/`);
  report('logged_out', { url: page.url(), text: await page.textContent('body') });

  const me = await page.goto(`${app}/me`);
  report('protected_after_logout', { url: page.url() });
} catch (e) {
  report('error', { message: String(e) });
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
