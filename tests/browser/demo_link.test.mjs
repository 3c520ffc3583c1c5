/* demo_link.test.mjs: the classroom demo as `pushpull-lab demo` runs it, in headless
 * Chromium: the server behind the link emulator (--delay 150ms each way), the page opened
 * at a second loopback address (--bind 127.0.0.2) as a student's machine would open the
 * presenter's address.
 *
 * One demo (--rate 10: updates come faster than long polling's round trip of 300 ms) and
 * one browser serve the steps below, in order. What is checked, each against a source the
 * page does not control:
 *  - every request of the page goes to 127.0.0.2 (the link); POST /publish, /control and
 *    /drop through that door answer 403, while /publish on the server's own 127.0.0.1
 *    answers 201 (so the 403 is the door, not a broken route);
 *  - delivery latency: every panel's mean is at least the link's one-way delay, long
 *    polling's worst at least its round trip (an update published just after an answer
 *    left waits for the next request to cross), and long polling's mean above SSE's;
 *  - staleness is the report's definition: sampled from the DOM at one instant, each
 *    value equals the sample's time minus the publish stamp of the first update after the
 *    shown one, which the test reads from the server's own /poll?since= on 127.0.0.1;
 *  - the page's counters agree in every sample (requests = answered + failed + waiting,
 *    nothing new within answered, short polling's received = answered - nothing new) and
 *    never go back between samples;
 *  - every strip chart has samples whose rate is its two totals over its two instants, the
 *    newest total no more than the server's own count read afterwards, and pixels drawn;
 *  - SIGINT (Ctrl-C) stops the demo, which stops the link and the server: it exits 0 (the
 *    sanitizer build: no leak) and neither port answers any more;
 *  - bad flags get one line naming the flag and status 2.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { OUT_DIR, REPO_ROOT, bounded, demoStart, jsonFetch, packageImport, waitFor } from './harness.mjs';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];
const WAIT_MS = 30000;  /* the bound on every wait for the page */
const DELAY_MS = 150;   /* the link's one-way delay */
const PANELS = ['sp', 'lp', 'sse', 'ws'];
const SAMPLES = 40;     /* DOM samples for the staleness and counter checks */

const run = { demo: null, profile: null, context: null, page: null, requests: [], pageErrors: [] };

/* Every panel's fields, read in one evaluate: one instant of the page (it renders in one
 * task, so no render falls between two reads). */
function sampleTake() {
  return run.page.evaluate((panels) => {
    const out = {};
    const attr = (testid, name) => document.querySelector(`[data-testid="${testid}"]`).getAttribute(name);
    const num = (testid, name = 'data-value') => Number(attr(testid, name));
    for (const p of panels) {
      out[p] = {
        tag: document.querySelector(`[data-testid="panel-${p}"]`).dataset.client,
        seq: num(`${p}-seq`),
        staleness: num(`${p}-staleness`),
        at: num(`${p}-staleness`, 'data-at'),
        behind: num(`${p}-staleness`, 'data-behind'),
        received: num(`${p}-received`),
        missed: num(`${p}-missed`),
        latency: num(`${p}-latency`),
        latencyMax: num(`${p}-latency`, 'data-max'),
        requests: num(`${p}-requests`),
        waiting: num(`${p}-requests`, 'data-waiting'),
        failed: num(`${p}-requests`, 'data-failed'),
        answered: num(`${p}-answered`),
        empty: num(`${p}-empty`),
        body: num(`${p}-body-bytes`),
      };
    }
    return out;
  }, PANELS);
}

/* The chart's data attributes and how many pixels of its lower half (below the labels)
 * are not the background. */
function chartRead(prefix) {
  return run.page.evaluate((p) => {
    const c = document.querySelector(`[data-testid="${p}-chart"]`);
    const d = { ...c.dataset };
    const half = Math.floor(c.height / 2);
    const px = c.getContext('2d').getImageData(0, half, c.width, c.height - half).data;
    let drawn = 0;
    for (let i = 0; i < px.length; i += 4) {
      if (px[i] !== 0xfa || px[i + 1] !== 0xfa || px[i + 2] !== 0xfa) drawn++;
    }
    return { ...d, drawn };
  }, prefix);
}

/* POST a short text body; returns {status, body}. */
async function post(url) {
  const res = await fetch(url, { method: 'POST', body: 'from the test', signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body };
}

/* Does anything accept a TCP connection at the URL's address? */
function portOpen(url) {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port) });
    s.setTimeout(2000);
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
    s.on('timeout', () => { s.destroy(); resolve(false); });
  });
}

before(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium; ` +
      './run.sh test does this)');
  }
  const { chromium } = await packageImport('playwright-core');
  run.demo = await demoStart(['--port', '0', '--delay', `${DELAY_MS}ms`, '--bind', '127.0.0.2', '--rate', '10']);
  run.profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pushpull-chromium-'));
  run.context = await chromium.launchPersistentContext(run.profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1600, height: 900 },
    timeout: 30000,
  });
  run.page = run.context.pages()[0] ?? (await run.context.newPage());
  run.page.setDefaultTimeout(WAIT_MS);
  run.page.on('request', (r) => run.requests.push(r.url()));
  run.page.on('pageerror', (err) => run.pageErrors.push(err.message));
});

after(async () => {
  if (run.context) await bounded('closing chromium', run.context.close(), 15000).catch(() => {});
  if (run.profile) fs.rmSync(run.profile, { recursive: true, force: true });
  if (run.demo) await run.demo.stop('SIGTERM').catch(() => {});
});

test('demo --bind 127.0.0.2: the page loads through the link, and every request goes there', async () => {
  assert.match(run.demo.url, /^http:\/\/127\.0\.0\.2:\d+$/, 'the demo prints the page\'s URL at --bind');
  const res = await run.page.goto(`${run.demo.url}/`, { timeout: WAIT_MS });
  assert.equal(res.status(), 200, 'GET / through the link answers 200');
  await waitFor('every panel to receive updates', async () => {
    const s = await sampleTake();
    return s.sp.received >= 2 && s.lp.received >= 10 && s.sse.received >= 10 && s.ws.received >= 10;
  }, WAIT_MS);
  const elsewhere = run.requests.filter((u) => !u.startsWith(`${run.demo.url}/`) &&
    !u.startsWith(run.demo.url.replace(/^http/, 'ws') + '/'));
  assert.deepEqual(elsewhere, [], 'every request goes to the link at 127.0.0.2');
  assert.deepEqual(run.pageErrors, [], 'no uncaught errors in the page');
});

test('demo --bind 127.0.0.2: /publish, /control and /drop through it are refused; the server\'s own 127.0.0.1 may publish', async () => {
  const pub = await post(`${run.demo.url}/publish`);
  assert.equal(pub.status, 403, `POST /publish through 127.0.0.2 is refused: ${JSON.stringify(pub.body)}`);
  assert.equal((await post(`${run.demo.url}/control?rate=1`)).status, 403, 'POST /control is refused');
  assert.equal((await post(`${run.demo.url}/drop`)).status, 403, 'POST /drop is refused');
  const rate = (await jsonFetch(`${run.demo.serverUrl}/stats`)).body.config.rate_hz;
  assert.equal(rate, 10, 'the refused /control changed nothing');
  const own = await post(`${run.demo.serverUrl}/publish`);
  assert.equal(own.status, 201, `POST /publish on 127.0.0.1 itself is allowed: ${JSON.stringify(own.body)}`);
  await run.page.click('[data-testid="drop"]');
  const message = await waitFor('the page to report the refusal', async () => {
    const text = await run.page.textContent('[data-testid="message"]');
    return /cannot drop connections/.test(text) ? text : null;
  }, WAIT_MS);
  assert.match(message, /only loopback clients/, 'the page says why');
});

test('demo --delay 150ms: latency is at least the delay, long polling\'s worst at least the round trip', async () => {
  const s = await waitFor('20 more updates on every push panel', async () => {
    const x = await sampleTake();
    return x.lp.received >= 30 && x.sse.received >= 30 && x.ws.received >= 30 ? x : null;
  }, WAIT_MS);
  for (const p of PANELS) {
    assert.ok(s[p].latency >= DELAY_MS, `${p}: mean delivery latency ${s[p].latency} ms >= the one-way ${DELAY_MS} ms`);
  }
  assert.ok(s.lp.latencyMax >= 2 * DELAY_MS,
    `long polling's worst latency ${s.lp.latencyMax} ms >= the round trip ${2 * DELAY_MS} ms`);
  assert.ok(s.lp.latency > s.sse.latency,
    `long polling's mean latency (${s.lp.latency} ms) above SSE's (${s.sse.latency} ms)`);
});

test('demo: staleness is the report\'s (time behind the newest update), and the counters agree in every sample', async () => {
  const samples = [];
  for (let i = 0; i < SAMPLES; i++) {
    samples.push(await sampleTake());
    await run.page.waitForTimeout(150);
  }
  const stamps = new Map(); /* seq -> ts_ns of the update after it, from the server itself */
  const nextOf = async (seq) => {
    if (!stamps.has(seq)) {
      const r = (await jsonFetch(`${run.demo.serverUrl}/poll?since=${seq}&limit=1`)).body;
      stamps.set(seq, r.events && r.events.length > 0 && !r.reset ? r.events[0] : null);
    }
    return stamps.get(seq);
  };
  const behindSeen = Object.fromEntries(PANELS.map((p) => [p, 0]));
  let prev = null;
  for (const s of samples) {
    const newest = Math.max(...PANELS.map((p) => s[p].seq));
    for (const p of PANELS) {
      const v = s[p];
      const where = `${p} sample ${JSON.stringify(v)}`;
      /* counters, one instant */
      assert.equal(v.requests, v.answered + v.failed + v.waiting, `requests = answered + failed + waiting: ${where}`);
      assert.ok(v.waiting >= 0 && v.waiting <= 1, `at most one request out: ${where}`);
      assert.ok(v.requests >= v.answered, `requests >= answered: ${where}`);
      if (p === 'sp' || p === 'lp') assert.ok(v.empty <= v.answered, `nothing new is within answered: ${where}`);
      if (p === 'sp') assert.equal(v.received, v.answered - v.empty, `a short poll with news brings one update: ${where}`);
      if (prev) {
        for (const f of ['requests', 'answered', 'failed', 'empty', 'received', 'missed', 'body']) {
          assert.ok(v[f] >= prev[p][f], `${p}: ${f} never goes back (${prev[p][f]} then ${v[f]})`);
        }
      }
      /* staleness, the report's definition */
      const next = await nextOf(v.seq);
      if (v.behind > 0) {
        behindSeen[p]++;
        assert.equal(v.behind, v.seq + 1, `behind from the first update after the shown one: ${where}`);
        assert.ok(next && next.seq === v.seq + 1, `the server has update ${v.seq + 1}`);
        const truth = v.at - next.ts_ns / 1e6;
        assert.ok(Math.abs(v.staleness - truth) <= 1,
          `${p}: staleness ${v.staleness} ms = its instant - publish stamp of #${v.seq + 1} (${truth.toFixed(1)} ms)`);
      } else {
        assert.equal(v.staleness, 0, `up to date, staleness 0: ${where}`);
        assert.ok(v.seq >= newest, `${p}: shown as up to date only when no panel has a newer update: ${where}`);
      }
    }
    prev = s;
  }
  assert.ok(behindSeen.sp >= SAMPLES / 2,
    `short polling (1 s against 10 updates/s) is behind in most samples: ${behindSeen.sp} of ${SAMPLES}`);
  assert.deepEqual(run.pageErrors, [], 'no uncaught errors in the page');
});

test('demo: every panel\'s strip chart has rates from the server\'s totals, and draws them', async () => {
  await waitFor('three rates on every chart', async () => {
    for (const p of PANELS) {
      if (Number((await chartRead(p)).samples) < 3) return false;
    }
    return true;
  }, WAIT_MS);
  for (const p of PANELS) {
    const c = await chartRead(p);
    const dt = (Number(c.t1) - Number(c.t0)) / 1000;
    const bytes = (Number(c.b1) - Number(c.b0)) / dt;
    const reqs = (Number(c.r1) - Number(c.r0)) / dt;
    assert.ok(dt > 0 && Math.abs(Number(c.bytesPerS) - bytes) < 1e-6 * Math.max(1, bytes),
      `${p}: bytes/s is the totals' difference over the instants': ${JSON.stringify(c)}`);
    assert.ok(Math.abs(Number(c.requestsPerS) - reqs) < 1e-9 + 1e-6 * reqs, `${p}: requests/s likewise`);
    assert.ok(Number(c.bytesPerS) > 0, `${p}: bytes flow (${c.bytesPerS} B/s)`);
    const tag = await run.page.getAttribute(`[data-testid="panel-${p}"]`, 'data-client');
    const s = (await jsonFetch(`${run.demo.serverUrl}/stats?client=${tag}`)).body;
    const total = s.req_header_bytes + s.resp_header_bytes + s.resp_body_bytes + s.framing_bytes + s.req_body_bytes;
    assert.ok(Number(c.b1) <= total && Number(c.r1) <= s.requests,
      `${p}: the chart's newest totals (${c.b1} B, ${c.r1} requests) are the server's, read before (${total} B, ${s.requests})`);
    assert.ok(c.drawn > 200, `${p}: the chart is drawn (${c.drawn} pixels)`);
  }
  fs.mkdirSync(OUT_DIR, { recursive: true });
  await run.page.screenshot({ path: path.join(OUT_DIR, 'demo_link.png'), timeout: WAIT_MS });
  const lp = await chartRead('lp');
  assert.ok(Number(lp.requestsPerS) > 1, `long polling asks about once per round trip (${lp.requestsPerS}/s)`);
});

test('demo: SIGINT (Ctrl-C) stops the demo, the link and the server together', async () => {
  await bounded('closing chromium', run.context.close(), 15000);
  run.context = null;
  const result = await run.demo.stop('SIGINT');
  assert.deepEqual(result, { code: 0, signal: null }, `the demo exits 0; stderr:\n${run.demo.stderr()}`);
  assert.equal(await portOpen(run.demo.url), false, 'the link no longer listens');
  assert.equal(await portOpen(run.demo.serverUrl), false, 'the server no longer listens');
  run.demo = null;
});

test('demo: a bad flag gets one line naming it, and status 2', () => {
  const lab = path.join(path.dirname(path.resolve(REPO_ROOT,
    process.env.PUSHPULL_SERVER || 'build/asan/bin/pushpull-server')), 'pushpull-lab');
  for (const [flag, value] of [['--delay', '150'], ['--delay', 'soon'], ['--bind', '198.51.100.254'],
    ['--rate', '-1'], ['--port', '70000']]) {
    const r = spawnSync(lab, ['demo', flag, value], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 2, `${flag} ${value}: status 2 (stderr ${r.stderr})`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${flag} ${value}: one line: ${r.stderr}`);
    assert.ok(lines[0].includes(flag), `${flag} ${value}: the line names the flag: ${lines[0]}`);
    assert.equal(r.stdout, '', 'nothing started, nothing printed');
  }
});
