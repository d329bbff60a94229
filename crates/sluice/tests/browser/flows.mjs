// Universal Login in headless Chromium, driven by playwright-core: one scenario per run,
// `node flows.mjs <signup|signin|errors|reset>`. crates/sluice/tests/browser.rs starts the
// server, seeds it, runs this script and checks what it reports: each time the browser reaches
// the application's callback the script prints `CALLBACK <url>` (the test exchanges the code),
// and it ends with `ok <scenario>` or exits non-zero with the failed check. Besides the flows it
// checks the accessibility basics: the first field has focus, every input is found by its label,
// errors are announced (role=alert), and a whole sign-in works from the keyboard. Full-page
// screenshots of each page go to $SLUICE_ARTIFACTS when $SLUICE_SHOTS is 1.
//
// Input (environment): SLUICE_CHROMIUM (browser binary), SLUICE_NODE_MODULES (directory holding
// node_modules/playwright-core; defaults to this directory), SLUICE_AUTHORIZE (the /authorize URL
// to start at), SLUICE_CALLBACK (the application's redirect URI, answered here and never fetched),
// SLUICE_EMAIL, SLUICE_PASSWORD, and per scenario: SLUICE_APP (application name shown),
// SLUICE_AUTHORIZE_AGAIN (signin: a second sign-in in a fresh profile),
// SLUICE_NEW_PASSWORD and SLUICE_OUTBOX (reset), SLUICE_LOCKED_EMAIL and SLUICE_LOCKED_MESSAGE
// (errors).

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(
  path.join(process.env.SLUICE_NODE_MODULES ?? import.meta.dirname, 'package.json'),
);
const { chromium } = require('playwright-core');

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const CALLBACK = env('SLUICE_CALLBACK');
const SHOTS = process.env.SLUICE_SHOTS === '1';

/// Problems the pages caused in the browser (script errors, CSP refusals, failed loads).
const problems = [];

async function launch() {
  return chromium.launch({
    executablePath: env('SLUICE_CHROMIUM'),
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/// A fresh browser profile (no cookies) with the application's callback answered locally.
async function newPage(browser) {
  const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-US' });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(15_000);
  await context.route(
    (url) => url.href.startsWith(CALLBACK),
    (route) =>
      route.fulfill({
        status: 200,
        contentType: 'text/html',
        body: '<!doctype html><title>App</title><h1>Back in the application</h1>',
      }),
  );
  const page = await context.newPage();
  watch(page);
  return page;
}

function watch(page) {
  page.on('pageerror', (e) => problems.push(`page error on ${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    // A page answered with an error status is logged as a failed load: that is expected.
    const own = m.location().url === page.url() && m.text().startsWith('Failed to load resource');
    if (m.type() === 'error' && !own && !m.text().includes('favicon')) {
      problems.push(`console error on ${page.url()}: ${m.text()}`);
    }
  });
}

async function shot(page, name) {
  if (!SHOTS) return;
  const dir = env('SLUICE_ARTIFACTS');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

/// The same page at a phone's viewport, then back to the desktop one.
async function phoneShot(page, name) {
  if (!SHOTS) return;
  await page.setViewportSize(PHONE);
  await shot(page, `${name}-phone`);
  await page.setViewportSize(DESKTOP);
}

/// Runs `action` (a click or a key press that submits a form) and waits for the next page.
async function submitting(page, action) {
  const next = page.waitForEvent('framenavigated', (f) => f === page.mainFrame());
  await action();
  await next;
  await page.waitForLoadState('load');
}

async function expectPath(page, wanted) {
  assert.equal(new URL(page.url()).pathname, wanted, `on ${page.url()}`);
}

async function expectHeading(page, text) {
  const h = page.getByRole('heading', { level: 1 });
  assert.equal((await h.textContent()).trim(), text);
  assert.equal(await page.title(), `${text} · default`, 'the title names the page');
}

async function expectFocused(locator, what) {
  assert.ok(
    await locator.evaluate((el) => el === document.activeElement),
    `${what} has the focus`,
  );
}

/// The page's one alert, announced to assistive technology; returns its text.
async function alertText(page) {
  const alert = page.getByRole('alert');
  await alert.waitFor();
  return (await alert.textContent()).trim();
}

/// Arriving back at the application: reports the callback URL to the Rust test.
async function backInApplication(page) {
  await page.waitForURL((u) => u.href.startsWith(CALLBACK));
  console.log(`CALLBACK ${page.url()}`);
}

/// The newest link to `linkPath` in the development outbox (the "email" the user opens).
async function emailedLink(linkPath) {
  const dir = env('SLUICE_OUTBOX');
  const pattern = new RegExp(`https?://\\S+${linkPath.replace(/[/?]/g, '\\$&')}\\?ticket=[^\\s"<>]+`);
  for (let i = 0; i < 50; i++) {
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.eml')).sort() : [];
    for (const f of files.reverse()) {
      // Undo quoted-printable soft breaks and `=3D` in case a mailer encoded the body.
      const mail = readFileSync(path.join(dir, f), 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '=');
      const m = mail.match(pattern);
      if (m) return m[0];
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no email with a ${linkPath} link in ${dir}`);
}

/// Sign up through `screen_hint=signup`: the policy is shown, a weak password is refused with
/// the entered email kept, then a good one signs the new user in and returns to the application.
async function signup(browser) {
  const page = await newPage(browser);
  await page.goto(env('SLUICE_AUTHORIZE'));
  await expectPath(page, '/u/signup');
  await expectHeading(page, 'Create your account');
  await page.getByText(`Sign up to continue to ${env('SLUICE_APP')}.`).waitFor();
  const email = page.getByLabel('Email address');
  const password = page.getByLabel('Password');
  await expectFocused(email, 'the email field');
  const rules = page.locator('#password-rules');
  assert.match(await rules.textContent(), /^At least 8 characters/);
  assert.equal(await password.getAttribute('aria-describedby'), 'password-rules');
  await shot(page, 'signup');

  await email.fill(env('SLUICE_EMAIL'));
  await password.fill('abc');
  await submitting(page, () => page.getByRole('button', { name: 'Continue' }).click());
  await expectPath(page, '/u/signup');
  assert.equal(await alertText(page), 'This password is too weak.');
  assert.equal(await email.inputValue(), env('SLUICE_EMAIL'), 'the email is kept');
  assert.equal(await password.inputValue(), '', 'the password is not sent back');
  assert.equal(await password.getAttribute('aria-invalid'), 'true');
  assert.match(await rules.textContent(), /^At least 8 characters/, 'the policy stays in view');
  await shot(page, 'signup-error');

  await password.fill(env('SLUICE_PASSWORD'));
  await submitting(page, () => page.getByRole('button', { name: 'Continue' }).click());
  await backInApplication(page);
}

/// Sign in with the keyboard alone: focus starts in the identifier field, Tab moves to the
/// password, Enter submits.
/// Signs in at SLUICE_AUTHORIZE; with SLUICE_AUTHORIZE_AGAIN, then again there in a fresh
/// browser profile (no cookies, so no SSO session): a second, independent sign-in.
async function signin(browser) {
  await signinAt(browser, env('SLUICE_AUTHORIZE'));
  if (process.env.SLUICE_AUTHORIZE_AGAIN) {
    await signinAt(browser, process.env.SLUICE_AUTHORIZE_AGAIN);
  }
}

async function signinAt(browser, authorize) {
  const page = await newPage(browser);
  await page.goto(authorize);
  await expectPath(page, '/u/login');
  await expectHeading(page, 'Welcome');
  if (process.env.SLUICE_APP) {
    await page.getByText(`Log in to continue to ${process.env.SLUICE_APP}.`).waitFor();
  }
  const email = page.getByLabel('Email address');
  const password = page.getByLabel('Password');
  assert.equal(await email.getAttribute('type'), 'email');
  assert.equal(await email.getAttribute('autocomplete'), 'username');
  assert.equal(await password.getAttribute('autocomplete'), 'current-password');
  await page.getByRole('link', { name: 'Forgot password?' }).waitFor();
  await page.getByRole('link', { name: 'Sign up' }).waitFor();
  await expectFocused(email, 'the email field');
  await shot(page, 'login');
  await phoneShot(page, 'login');

  await page.keyboard.type(env('SLUICE_EMAIL'));
  await page.keyboard.press('Tab');
  await expectFocused(password, 'the password field after Tab');
  await page.keyboard.type(env('SLUICE_PASSWORD'));
  await submitting(page, () => page.keyboard.press('Enter'));
  await backInApplication(page);
}

/// Failed sign-ins: the wrong password, a script's own error message (shown as text, never as
/// markup), and an identifier that tries to inject markup into the re-rendered form.
async function errors(browser) {
  const page = await newPage(browser);
  await page.goto(env('SLUICE_AUTHORIZE'));
  await expectPath(page, '/u/login');
  const email = page.getByLabel('Email address');
  const password = page.getByLabel('Password');
  const login = () => submitting(page, () => page.getByRole('button', { name: 'Continue' }).click());

  await email.fill(env('SLUICE_EMAIL'));
  await password.fill('not-the-password');
  await login();
  await expectPath(page, '/u/login');
  assert.equal(await alertText(page), 'Wrong email or password.');
  assert.equal(await email.inputValue(), env('SLUICE_EMAIL'), 'the identifier is kept');
  assert.equal(await password.inputValue(), '', 'the password is not sent back');
  assert.equal(await email.getAttribute('aria-invalid'), 'true');
  assert.equal(
    await email.getAttribute('aria-describedby'),
    await page.getByRole('alert').getAttribute('id'),
    'the field points at the error',
  );
  // The identifier is kept, so the user continues at the password.
  await expectFocused(password, 'the password field');
  await shot(page, 'login-error');
  await phoneShot(page, 'login-error');

  await email.fill(env('SLUICE_LOCKED_EMAIL'));
  await password.fill('whatever-it-is');
  await login();
  assert.equal(await alertText(page), env('SLUICE_LOCKED_MESSAGE'));
  assert.equal(
    await page.getByRole('alert').evaluate((el) => el.children.length),
    0,
    "the script's message is text, not markup",
  );

  const hostile = '"><img src=x onerror="window.pwned=1">';
  await email.fill(hostile);
  await password.fill('x');
  await login();
  assert.equal(await alertText(page), 'Wrong email or password.');
  assert.equal(await email.inputValue(), hostile, 'the identifier comes back as a value');
  assert.equal(await page.evaluate(() => window.pwned), undefined, 'no injected script ran');
  assert.equal(await page.locator('img').count(), 0, 'no injected element');
}

/// Forgot password from the login page, the email's link opened in a new tab, a weak new
/// password refused, a good one accepted; back on the login page the old password fails and
/// the new one signs in.
async function reset(browser) {
  const page = await newPage(browser);
  await page.goto(env('SLUICE_AUTHORIZE'));
  await expectPath(page, '/u/login');
  await submitting(page, () => page.getByRole('link', { name: 'Forgot password?' }).click());
  await expectPath(page, '/u/reset-password/request');
  await expectHeading(page, 'Forgot your password?');
  const email = page.getByLabel('Email address');
  await expectFocused(email, 'the email field');
  await shot(page, 'forgot');
  await email.fill(env('SLUICE_EMAIL'));
  await submitting(page, () => page.getByRole('button', { name: 'Send reset link' }).click());
  const status = page.getByRole('status');
  assert.match(await status.textContent(), new RegExp(`If ${env('SLUICE_EMAIL')} belongs to an account`));
  await shot(page, 'forgot-sent');

  const tab = await page.context().newPage();
  watch(tab);
  await tab.goto(await emailedLink('/lo/reset'));
  await expectHeading(tab, 'Change your password');
  await tab.getByText(`Enter a new password for ${env('SLUICE_EMAIL')}.`).waitFor();
  const fresh = tab.getByLabel('New password', { exact: true });
  const confirm = tab.getByLabel('Confirm new password');
  await expectFocused(fresh, 'the new password field');
  await shot(tab, 'reset');
  await fresh.fill('abc');
  await confirm.fill('abc');
  await submitting(tab, () => tab.getByRole('button', { name: 'Reset password' }).click());
  assert.equal(await alertText(tab), 'This password is too weak.');
  await fresh.fill(env('SLUICE_NEW_PASSWORD'));
  await confirm.fill(env('SLUICE_NEW_PASSWORD'));
  await submitting(tab, () => tab.getByRole('button', { name: 'Reset password' }).click());
  await expectHeading(tab, 'Password changed');
  assert.match(await tab.getByRole('status').textContent(), /Your password has been changed/);
  await shot(tab, 'password-changed');
  await tab.close();

  await submitting(page, () => page.getByRole('link', { name: 'Back to log in' }).click());
  await expectPath(page, '/u/login');
  await page.getByLabel('Email address').fill(env('SLUICE_EMAIL'));
  await page.getByLabel('Password').fill(env('SLUICE_PASSWORD'));
  await submitting(page, () => page.getByRole('button', { name: 'Continue' }).click());
  assert.equal(await alertText(page), 'Wrong email or password.', 'the old password is gone');
  await page.getByLabel('Password').fill(env('SLUICE_NEW_PASSWORD'));
  await submitting(page, () => page.getByRole('button', { name: 'Continue' }).click());
  await backInApplication(page);
}

const scenarios = { signup, signin, errors, reset };
const name = process.argv[2];
const run = scenarios[name];
if (!run) {
  console.error(`usage: node flows.mjs <${Object.keys(scenarios).join('|')}>`);
  process.exit(2);
}
const browser = await launch();
try {
  await run(browser);
  assert.deepEqual(problems, [], 'the pages ran without errors in the browser');
  console.log(`ok ${name}`);
} catch (e) {
  if (problems.length) console.error(`in the browser:\n${problems.join('\n')}`);
  throw e;
} finally {
  await browser.close();
}
