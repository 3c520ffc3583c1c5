/* demo.test.mjs: the workshop demo in a real browser, headless Chromium driven by
 * playwright-core, against the real server.
 *
 * One server (--rate 5 --retry-ms 500 --heartbeat 2s) and one browser with a fresh
 * profile serve every step below, in order; each step is its own TAP line and the later
 * ones need the earlier ones. The page is read only through its data-testid elements and
 * their data-value attributes (raw numbers), and the server is asked directly, under the
 * page's own client tags, to confirm what the page shows. The browser's EventSource is the
 * judge of the SSE side, and its WebSocket (Chromium's own, as strict about frames as any)
 * of the WebSocket side: the test drops every connection (the page's button, POST /drop)
 * and checks that the stream reconnects with Last-Event-ID, the WebSocket with ?since=,
 * and that neither misses anything. The last step saves tests/browser/out/demo.png.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { OUT_DIR, bounded, exitCheck, jsonFetch, packageImport, serverStart, waitFor } from './harness.mjs';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];
const VIEWPORT = { width: 1600, height: 900 }; /* a 16:9 projector */
const WAIT_MS = 20000;                          /* the bound on every wait for the page */
const PANELS = ['sp', 'lp', 'sse', 'ws'];
const STREAMS = ['sse', 'ws']; /* the panels that count reconnects */

const run = {
  server: null,     /* harness handle */
  profile: null,    /* the fresh user-data dir */
  context: null,    /* playwright BrowserContext */
  page: null,
  requests: [],     /* every request the page made: {url, request (playwright's)} */
  sockets: [],      /* every WebSocket the page opened: {url, closed, framesIn, errors} */
  pageErrors: [],   /* uncaught exceptions in the page */
};

/* The raw value (data-value) of a data-testid element, as a number. */
async function valueRead(testid) {
  const v = await run.page.getAttribute(`[data-testid="${testid}"]`, 'data-value', { timeout: 5000 });
  return Number(v);
}

/* Every counter of one panel, by field name. */
async function panelRead(prefix) {
  const fields = ['seq', 'staleness', 'received', 'missed', 'requests', 'answered', 'empty', 'req-header-bytes',
    'resp-header-bytes', 'body-bytes', STREAMS.includes(prefix) ? 'reconnects' : 'errors'];
  const out = {};
  for (const f of fields) out[f] = await valueRead(`${prefix}-${f}`);
  return out;
}

/* The client tag the page uses for a panel. */
function tagRead(prefix) {
  return run.page.getAttribute(`[data-testid="panel-${prefix}"]`, 'data-client', { timeout: 5000 });
}

before(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium; ` +
      './run.sh test does this)');
  }
  const { chromium } = await packageImport('playwright-core');
  run.server = await serverStart(['--rate', '5', '--retry-ms', '500', '--heartbeat', '2s']);
  run.profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pushpull-chromium-'));
  run.context = await chromium.launchPersistentContext(run.profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: VIEWPORT,
    timeout: 30000,
  });
  run.page = run.context.pages()[0] ?? (await run.context.newPage());
  run.page.setDefaultTimeout(WAIT_MS);
  run.page.on('request', (r) => run.requests.push({ url: r.url(), request: r }));
  run.page.on('pageerror', (err) => run.pageErrors.push(err.message));
  run.page.on('websocket', (ws) => {
    const s = { url: ws.url(), closed: false, framesIn: 0, errors: [] };
    run.sockets.push(s);
    ws.on('framereceived', () => s.framesIn++);
    ws.on('socketerror', (e) => s.errors.push(String(e)));
    ws.on('close', () => { s.closed = true; });
  });
});

after(async () => {
  if (run.context) await bounded('closing chromium', run.context.close(), 15000).catch(() => {});
  if (run.profile) fs.rmSync(run.profile, { recursive: true, force: true });
  if (run.server) {
    const result = await run.server.stop();
    exitCheck(assert, result, run.server);
  }
});

test('demo: GET / serves the page, and it loads nothing from elsewhere', async () => {
  const res = await run.page.goto(`${run.server.url}/`, { timeout: WAIT_MS });
  assert.equal(res.status(), 200, 'GET / answers 200');
  assert.match(res.headers()['content-type'], /^text\/html/, 'the page is text/html');
  await run.page.waitForSelector('[data-testid="panel-sse"]', { timeout: WAIT_MS });
  for (const name of ['app.js', 'style.css']) {
    const r = await jsonFetch(`${run.server.url}/www/${name}`);
    assert.equal(r.status, 200, `GET /www/${name} answers 200`);
  }
  const foreign = run.requests.filter((r) => !r.url.startsWith(run.server.url + '/'));
  assert.deepEqual(foreign.map((r) => r.url), [], 'every request goes to the server itself');
  await waitFor('the page to open its WebSocket', () => run.sockets.length >= 1, WAIT_MS);
  const wsBase = run.server.url.replace(/^http/, 'ws') + '/ws?';
  assert.deepEqual(run.sockets.map((s) => s.url).filter((u) => !u.startsWith(wsBase)), [],
    'the WebSocket goes to the server\'s /ws');
});

test('demo: all four panels receive updates', async () => {
  await waitFor('every panel to receive updates', async () => {
    const [sp, lp, sse, ws] = await Promise.all(PANELS.map(panelRead));
    return sp.received >= 2 && lp.received >= 5 && sse.received >= 5 && ws.received >= 5;
  }, WAIT_MS);
  for (const prefix of PANELS) {
    const p = await panelRead(prefix);
    assert.ok(p.seq > 0, `${prefix}: shows an update (seq ${p.seq})`);
    assert.ok(Number.isFinite(p.staleness) && p.staleness >= 0 && p.staleness < 5000,
      `${prefix}: staleness is live and sane (${p.staleness} ms)`);
  }
  assert.deepEqual(run.pageErrors, [], 'no uncaught errors in the page');
});

test('demo: counters grow, and the bytes are the server\'s count for each panel\'s tag', async () => {
  const before = {};
  for (const prefix of PANELS) before[prefix] = await panelRead(prefix);
  await waitFor('requests and bytes to grow on every panel', async () => {
    const now = {};
    for (const prefix of PANELS) now[prefix] = await panelRead(prefix);
    const grew = (p, f) => now[p][f] > before[p][f];
    return grew('sp', 'requests') && grew('lp', 'requests') && grew('sp', 'req-header-bytes') &&
      grew('lp', 'resp-header-bytes') && grew('sp', 'body-bytes') && grew('lp', 'body-bytes') &&
      grew('sse', 'body-bytes') && grew('ws', 'body-bytes');
  }, WAIT_MS);

  const tags = {};
  for (const prefix of PANELS) {
    tags[prefix] = await tagRead(prefix);
    assert.match(tags[prefix], new RegExp(`^${prefix}-[0-9a-f]{8}$`), `${prefix}: a client tag of its own`);
    const shown = await panelRead(prefix);
    const s = (await jsonFetch(`${run.server.url}/stats?client=${tags[prefix]}`)).body;
    assert.equal(s.client, tags[prefix]);
    assert.ok(s.requests >= shown.answered && s.requests > 0,
      `${prefix}: the server counted ${s.requests} requests, the page ${shown.answered} answered`);
    assert.ok(s.resp_body_bytes + s.framing_bytes >= shown['body-bytes'] && shown['body-bytes'] > 0,
      `${prefix}: the page's body bytes (${shown['body-bytes']}) come from the server's count`);
  }
  const sse = (await jsonFetch(`${run.server.url}/stats?client=${tags.sse}`)).body;
  assert.equal(sse.requests, 1, `SSE: one request, one stream: ${JSON.stringify(sse)}`);
  assert.equal(sse.open, 1, 'SSE: the stream is open');
  const ws = (await jsonFetch(`${run.server.url}/stats?client=${tags.ws}`)).body;
  assert.equal(ws.requests, 1, `WebSocket: one handshake, one connection: ${JSON.stringify(ws)}`);
  assert.equal(ws.open, 1, 'WebSocket: the connection is open');
  assert.equal(ws.responses['101'], 1, `WebSocket: 101 Switching Protocols: ${JSON.stringify(ws.responses)}`);
  assert.ok(ws.frames.data_frames_out >= 5 && ws.frames.payload_bytes_out === ws.resp_body_bytes,
    `WebSocket: a frame per update, its payload the body bytes: ${JSON.stringify(ws.frames)}`);

  const [sp, lp, ssePanel, wsPanel] = await Promise.all(PANELS.map(panelRead));
  assert.ok(sp.missed > 0, `short polling at 1 s against 5 updates/s misses updates (missed ${sp.missed})`);
  assert.equal(lp.missed, 0, 'long polling misses none');
  assert.equal(ssePanel.missed, 0, 'SSE misses none');
  assert.equal(wsPanel.missed, 0, 'WebSocket misses none');
});

test('demo: "Drop connections" makes EventSource reconnect with Last-Event-ID and WebSocket with ?since=, missing none', async () => {
  const sse0 = await panelRead('sse');
  const ws0 = await panelRead('ws');
  assert.equal(sse0.reconnects, 0, 'no reconnect before the drop');
  assert.equal(ws0.reconnects, 0, 'no WebSocket reconnect before the drop');
  const socketsBefore = run.sockets.length;
  const eventsBefore = run.requests.filter((r) => new URL(r.url).pathname === '/events').length;

  await run.page.click('[data-testid="drop"]');
  const message = await waitFor('the page to report the drop', async () => {
    const text = await run.page.textContent('[data-testid="message"]');
    return /dropped \d+ connections/.test(text) ? text : null;
  }, WAIT_MS);
  const dropped = Number(/dropped (\d+)/.exec(message)[1]);
  assert.ok(dropped >= 1, `the server dropped ${dropped} connections (message: ${message})`);

  await waitFor('the SSE panel to reconnect', async () => (await valueRead('sse-reconnects')) >= 1, WAIT_MS);
  await waitFor('the WebSocket panel to reconnect', async () => (await valueRead('ws-reconnects')) >= 1, WAIT_MS);
  await waitFor('10 more updates over the new stream and connection', async () =>
    (await valueRead('sse-received')) >= sse0.received + 10 &&
    (await valueRead('ws-received')) >= ws0.received + 10, WAIT_MS);

  const [lp, sse, ws] = await Promise.all(['lp', 'sse', 'ws'].map(panelRead));
  assert.equal(sse.reconnects, 1, 'exactly one reconnect');
  assert.equal(sse.missed, 0, 'SSE missed nothing across the drop');
  assert.equal(lp.missed, 0, 'long polling missed nothing across the drop');
  assert.equal(ws.reconnects, 1, 'exactly one WebSocket reconnect');
  assert.equal(ws.missed, 0, 'WebSocket missed nothing across the drop');

  const newSockets = run.sockets.slice(socketsBefore);
  assert.equal(newSockets.length, 1, `one new WebSocket: ${JSON.stringify(newSockets)}`);
  assert.ok(run.sockets[socketsBefore - 1].closed, 'the dropped WebSocket closed');
  const since = Number(new URL(newSockets[0].url).searchParams.get('since'));
  assert.ok(since > 0 && since <= ws.seq, `the reconnect asked for ?since= the last seq seen (${newSockets[0].url})`);
  assert.deepEqual(run.sockets.flatMap((s) => s.errors), [], 'Chromium found no fault in any frame');
  const wsStats = (await jsonFetch(`${run.server.url}/stats?client=${await tagRead('ws')}`)).body;
  assert.equal(wsStats.requests, 2, `two handshakes under the WebSocket tag: ${JSON.stringify(wsStats)}`);
  assert.equal(wsStats.frames.cuts, 1, `the drop cut it without a close frame: ${JSON.stringify(wsStats.frames)}`);

  const again = run.requests.filter((r) => new URL(r.url).pathname === '/events').slice(eventsBefore);
  assert.ok(again.length >= 1, 'the browser asked for /events again');
  /* allHeaders(): the headers as sent, including those the network stack adds (the
   * browser adds Last-Event-ID below the page, so headers() does not show it). */
  const sent = await bounded('reading the reconnect\'s headers', again[0].request.allHeaders(), 5000);
  const lastId = Number(sent['last-event-id']);
  assert.ok(lastId > 0 && lastId <= sse.seq,
    `the reconnect carried Last-Event-ID (${sent['last-event-id']}; headers ${JSON.stringify(sent)})`);
  const stats = (await jsonFetch(`${run.server.url}/stats?client=${await tagRead('sse')}`)).body;
  assert.equal(stats.requests, 2, `the server saw two SSE requests under the tag: ${JSON.stringify(stats)}`);
  assert.deepEqual(run.pageErrors, [], 'no uncaught errors in the page');
});

test('demo: screenshot saved to tests/browser/out/demo.png', async () => {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const file = path.join(OUT_DIR, 'demo.png');
  await run.page.waitForTimeout(1200); /* let /stats refresh the byte counters once more */
  await run.page.screenshot({ path: file, timeout: WAIT_MS });
  assert.ok(fs.statSync(file).size > 10000, `${file} holds a picture`);
});

test('demo: the controls set the server\'s rate and the short polling interval; 304 when idle', async () => {
  await run.page.click('label:has([data-testid="rate-20"])');
  await waitFor('the server to run at 20 updates/s', async () =>
    (await jsonFetch(`${run.server.url}/stats`)).body.config.rate_hz === 20, WAIT_MS);
  await waitFor('the page to show the new rate', async () => (await valueRead('rate-now')) === 20, WAIT_MS);

  const before = await valueRead('sp-requests');
  await run.page.click('label:has([data-testid="interval-250"])');
  await waitFor('short polling every 0.25 s (8 requests in a few seconds)', async () =>
    (await valueRead('sp-requests')) >= before + 8, 5000);

  await run.page.click('label:has([data-testid="rate-0"])');
  await waitFor('the generator to stop', async () =>
    (await jsonFetch(`${run.server.url}/stats`)).body.config.rate_hz === 0, WAIT_MS);
  const empty = await valueRead('sp-empty');
  await waitFor('short polls answered 304 (If-None-Match)', async () =>
    (await valueRead('sp-empty')) >= empty + 4, WAIT_MS);
  const s = (await jsonFetch(`${run.server.url}/stats?client=${await tagRead('sp')}`)).body;
  assert.ok(s.responses['304'] >= 4, `the server answered 304 to the page: ${JSON.stringify(s.responses)}`);
  assert.deepEqual(run.pageErrors, [], 'no uncaught errors in the page');
});

test('demo: "Reset counters" starts over under new client tags', async () => {
  await run.page.click('label:has([data-testid="rate-5"])');
  const old = {};
  for (const prefix of PANELS) old[prefix] = await tagRead(prefix);
  await run.page.click('[data-testid="restart"]');
  for (const prefix of PANELS) {
    const tag = await tagRead(prefix);
    assert.notEqual(tag, old[prefix], `${prefix}: a new tag`);
  }
  // The DOM is redrawn on the page's own tick, so wait for the reset to show rather than
  // reading it once right after the click (a stale read made this test flaky).
  await waitFor('the SSE panel to start over (reconnects 0, few received)', async () => {
    const p = await panelRead('sse');
    return p.reconnects === 0 && p.received < 10 ? p : null;
  }, WAIT_MS);
  await waitFor('updates under the new tags', async () => {
    const [sp, lp, ssePanel, wsPanel] = await Promise.all(PANELS.map(panelRead));
    return sp.received >= 1 && lp.received >= 3 && ssePanel.received >= 3 && ssePanel['body-bytes'] > 0 &&
      wsPanel.received >= 3 && wsPanel['body-bytes'] > 0;
  }, WAIT_MS);
  await waitFor('the old SSE stream to close', async () =>
    (await jsonFetch(`${run.server.url}/stats?client=${old.sse}`)).body.open === 0, WAIT_MS);
  const closed = await waitFor('the old WebSocket to close', async () => {
    const s = (await jsonFetch(`${run.server.url}/stats?client=${old.ws}`)).body;
    return s.open === 0 ? s : null;
  }, WAIT_MS);
  assert.equal(closed.frames.closes_in, 1, `the page closed it with a close frame: ${JSON.stringify(closed.frames)}`);
  assert.deepEqual(closed.frames.closes_sent, { 1000: 1 }, 'the server answered 1000');
  assert.deepEqual(run.pageErrors, [], 'no uncaught errors in the page');
});
