// Browser check of the embedded GraphiQL page, in Debian's Chromium driven by
// playwright-core (no browser is ever downloaded).
//
//   node e2e.mjs URL [options]
//
// It loads the page, records every request (page and workers) and fails if
// any goes to another host, waits for the editors and Monaco's workers, fails
// on page errors and on console errors about workers or the CSP, and takes a
// screenshot. Optionally it types headers and an operation, runs it and waits
// for text in the response; and likewise for a subscription.
//
// Options:
//   --headers JSON              text for the headers editor, e.g. '{"Authorization":"Bearer …"}'
//   --query TEXT                operation to run over HTTP
//   --expect TEXT               text the query's response must contain
//   --subscription TEXT         subscription to run over WebSocket
//   --expect-subscription TEXT  text the subscription's response must contain
//   --screenshot PATH           where to save the final screenshot (default: $TMPDIR/graphiql-e2e.png)
//   --timeout MS                how long to wait for each step (default 30000)
//   --chromium PATH             browser executable (default /usr/bin/chromium)
//   --insecure                  accept a self-signed HTTPS certificate (local test servers)
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    headers: { type: 'string' },
    query: { type: 'string' },
    expect: { type: 'string' },
    subscription: { type: 'string' },
    'expect-subscription': { type: 'string' },
    screenshot: { type: 'string', default: path.join(os.tmpdir(), 'graphiql-e2e.png') },
    timeout: { type: 'string', default: '30000' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
    insecure: { type: 'boolean', default: false },
  },
});
if (positionals.length !== 1) {
  console.error('usage: node e2e.mjs URL [--headers JSON] [--query TEXT --expect TEXT] ' +
    '[--subscription TEXT --expect-subscription TEXT] [--screenshot PATH]');
  process.exit(2);
}
const pageURL = new URL(positionals[0]);
const timeout = Number(opt.timeout);

const failures = [];
const fail = (msg) => {
  if (failures.includes(msg)) return; // route and request events see the same request
  failures.push(msg);
  console.error(`FAIL ${msg}`);
};
const step = (msg) => console.log(`ok   ${msg}`);

// sameHost reports whether a request stays on the page's host (any scheme:
// http/https for assets and queries, ws/wss for subscriptions). data: and
// blob: URLs never leave the browser.
function sameHost(url) {
  const u = new URL(url);
  if (u.protocol === 'data:' || u.protocol === 'blob:') return true;
  return u.host === pageURL.host;
}

const browser = await chromium.launch({
  executablePath: opt.chromium,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

try {
  const context = await browser.newContext({
    viewport: { width: 1400, height: 900 },
    ignoreHTTPSErrors: opt.insecure,
  });
  const requests = [];
  // Any request to another host is recorded as a failure and aborted, so a
  // CDN dependency shows up here even on a machine that has internet access.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (sameHost(url)) return route.continue();
    fail(`request to another host: ${url}`);
    return route.abort();
  });
  context.on('request', (req) => {
    requests.push(`${req.method()} ${req.url()}`);
    if (!sameHost(req.url())) fail(`request to another host: ${req.url()}`);
  });

  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => fail(`page error: ${err.message}`));
  const sockets = [];
  page.on('websocket', (ws) => {
    sockets.push(ws.url());
    if (!sameHost(ws.url())) fail(`websocket to another host: ${ws.url()}`);
  });

  const resp = await page.goto(pageURL.href, { timeout });
  if (!resp || !resp.ok()) throw new Error(`GET ${pageURL.href}: ${resp && resp.status()}`);
  if (!resp.headers()['content-security-policy']) fail('page has no Content-Security-Policy header');

  await page.locator('.graphiql-query-editor .monaco-editor').waitFor({ timeout });
  await page.locator('.graphiql-response .monaco-editor').waitFor({ timeout });
  step('GraphiQL editors rendered');

  // Monaco starts its workers lazily; the query editor needs the graphql one
  // and every editor the generic one.
  await waitFor(() => workerNames(page).some((n) => n.startsWith('graphql.worker')), 'graphql worker');
  await waitFor(() => workerNames(page).some((n) => n.startsWith('editor.worker')), 'editor worker');
  for (const w of page.workers()) {
    await w.evaluate(() => typeof self.postMessage); // throws if the worker died
  }
  step(`workers running: ${workerNames(page).join(', ')}`);

  if (opt.headers !== undefined) {
    await page.getByRole('button', { name: 'Headers', exact: true }).click();
    await setEditor(page, '.graphiql-editor-tool .graphiql-editor:not(.hidden) .monaco-editor', opt.headers);
    step('headers typed');
  }
  if (opt.query !== undefined) {
    await run(page, opt.query, opt.expect, 'query');
  }
  if (opt.subscription !== undefined) {
    await run(page, opt.subscription, opt['expect-subscription'], 'subscription');
    if (!sockets.length) fail('subscription opened no WebSocket');
    // The socket's scheme must follow the page's: wss: on https:, ws: on http:.
    const wantScheme = pageURL.protocol === 'https:' ? 'wss:' : 'ws:';
    for (const url of sockets) {
      if (new URL(url).protocol !== wantScheme) fail(`websocket ${url} on a ${pageURL.protocol} page`);
    }
  }

  await page.screenshot({ path: opt.screenshot });
  step(`screenshot saved to ${opt.screenshot}`);

  for (const text of consoleErrors) {
    if (/worker|content.security.policy|refused to/i.test(text)) fail(`console error: ${text}`);
    else console.warn(`warn console error: ${text}`);
  }
  console.log(`requests (${requests.length}):\n  ${requests.join('\n  ')}`);
  if (sockets.length) console.log(`websockets:\n  ${sockets.join('\n  ')}`);
} catch (err) {
  fail(err.message);
} finally {
  await browser.close();
}

if (failures.length) {
  console.error(`\n${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('\nall checks passed');

function workerNames(page) {
  return page.workers().map((w) => path.basename(new URL(w.url()).pathname));
}

async function waitFor(cond, what) {
  const deadline = Date.now() + timeout;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// setEditor replaces a Monaco editor's text. insertText sends the text as one
// input event, so Monaco does not auto-close brackets as it would for typing.
async function setEditor(page, selector, text) {
  const editor = page.locator(selector).first();
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

async function responseText(page) {
  const text = await page.locator('.graphiql-response .view-lines').innerText();
  return text.replace(/\u00a0/g, ' ');
}

// run types an operation into the query editor, executes it and, if want is
// given, waits until the response shows it.
async function run(page, operation, want, what) {
  await setEditor(page, '.graphiql-query-editor .monaco-editor', operation);
  // GraphiQL re-parses the operation 100 ms after the last edit, and decides
  // between HTTP and WebSocket from that parse; a person never clicks that fast.
  await page.waitForTimeout(400);
  const before = await responseText(page);
  await page.getByRole('button', { name: /^Execute query/ }).click();
  step(`${what} executed`);
  try {
    await waitFor(async () => {
      const now = await responseText(page);
      return want !== undefined ? now.includes(want) : now !== before && now.trim() !== '';
    }, `${what} response${want !== undefined ? ` containing ${JSON.stringify(want)}` : ''}`);
    step(`${what} response: ${(await responseText(page)).replace(/\s+/g, ' ').slice(0, 300)}`);
  } catch (err) {
    fail(`${err.message}; response was: ${(await responseText(page)).replace(/\s+/g, ' ').slice(0, 300)}`);
  }
}
