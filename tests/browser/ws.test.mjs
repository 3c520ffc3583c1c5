/* ws.test.mjs: the npm `ws` package, a WebSocket client nobody here wrote, held against
 * the server's GET /ws.
 *
 * `ws` is strict about what a server may send (RFC 6455): it fails the connection on a
 * masked server frame, an RSV bit it did not negotiate, a reserved opcode, a control frame
 * over 125 bytes or fragmented, and text that is not UTF-8 (close code 1002 or 1007 on its
 * side, an `error` event here). So every frame the server sends in these tests passes a
 * parser written without reference to ours. It answers pings by itself, as a browser does.
 *
 * The package has no reconnection of its own (the WebSocket API has none): the client
 * here does what a page would, reconnecting after a short pause with ?since=<the last seq
 * it received>, and the server replays what it missed from the ring.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import { bounded, exitCheck, jsonFetch, packageImport, serverStart, sleep, waitFor } from './harness.mjs';

const WAIT_MS = 10000;     /* the bound on every wait for frames */
const RECONNECT_MS = 200;  /* a client's pause before reconnecting */

function tagCreate() {
  return 'ws-' + crypto.randomBytes(4).toString('hex');
}

/* A WebSocket client that follows the feed from ?since=`since`, reconnecting after each
 * close with ?since=<last seq received> until stop(). Its log:
 *   seqs      every update's seq, in order of arrival
 *   updates   the updates themselves (only when keep is set)
 *   resets    reset frames ({"reset":true,...}), parsed
 *   opens     connections opened; closes [{code, reason, wasClean}]
 *   errors    error events (a frame the package refused, a failed handshake)
 *   pings     pings received (answered by the package)
 *   other     frames that were neither an update nor a reset */
async function followerOpen(base, since, keep = false) {
  const { WebSocket } = await packageImport('ws');
  const log = { seqs: [], updates: [], resets: [], opens: 0, closes: [], errors: [], pings: 0, other: [] };
  const tag = tagCreate();
  const f = { log, ws: null, stopped: false };
  const connect = () => {
    const from = log.seqs.length > 0 ? log.seqs.at(-1) : since;
    const url = `${base.replace(/^http/, 'ws')}/ws?client=${tag}` + (from !== null ? `&since=${from}` : '');
    const ws = new WebSocket(url);
    f.ws = ws;
    ws.on('open', () => log.opens++);
    ws.on('ping', () => log.pings++);
    ws.on('error', (e) => log.errors.push(e.message));
    ws.on('message', (data, isBinary) => {
      let m = null;
      try {
        m = isBinary ? null : JSON.parse(data.toString('utf8'));
      } catch {
        m = null;
      }
      if (m && m.reset === true) log.resets.push(m);
      else if (m && Number.isInteger(m.seq)) {
        log.seqs.push(m.seq);
        if (keep) log.updates.push(m);
      } else log.other.push(String(data).slice(0, 200));
    });
    ws.on('close', (code, reason) => {
      log.closes.push({ code, reason: reason.toString('utf8'), at: performance.now() });
      if (!f.stopped) setTimeout(() => { if (!f.stopped) connect(); }, RECONNECT_MS);
    });
  };
  connect();
  f.stop = () => {
    f.stopped = true;
    if (f.ws) f.ws.terminate();
  };
  return f;
}

/* The seqs are exactly first, first + 1, ..., last: no gap, no duplicate. */
function exactRun(seqs, first, last, who) {
  const dup = seqs.find((s, i) => i > 0 && s <= seqs[i - 1]);
  assert.equal(dup, undefined, `${who}: seq ${dup} came again or out of order`);
  assert.equal(seqs[0], first, `${who}: the first seq is ${seqs[0]}, expected ${first}`);
  assert.equal(seqs.at(-1), last, `${who}: the last seq is ${seqs.at(-1)}, expected ${last}`);
  assert.equal(seqs.length, last - first + 1,
    `${who}: ${seqs.length} updates for seqs ${first}..${last} (a gap is a missed update)`);
}

test('ws: 50 clients for 10 s, POST /drop mid-run: every client has every seq, no gap or duplicate', async () => {
  const server = await serverStart(['--rate', '20', '--heartbeat', '2s', '--buffer', '4096']);
  const followers = [];
  try {
    for (let i = 0; i < 50; i++) followers.push(await followerOpen(server.url, 0));
    await waitFor('50 connections open', () => followers.every((f) => f.log.opens >= 1), WAIT_MS);
    await sleep(5000);

    const drop = await jsonFetch(`${server.url}/drop`, 'POST');
    assert.equal(drop.status, 200, `POST /drop: ${JSON.stringify(drop.body)}`);
    assert.ok(drop.body.dropped >= 50, `POST /drop dropped ${drop.body.dropped} connections, expected >= 50`);
    await waitFor('every client to reconnect', () => followers.every((f) => f.log.opens >= 2), WAIT_MS);
    await sleep(5000);

    /* stop the feed, then every client must reach its newest update */
    const paused = await jsonFetch(`${server.url}/control?rate=0`, 'POST');
    assert.equal(paused.status, 200);
    const last = (await jsonFetch(`${server.url}/poll`)).body.seq;
    assert.ok(last >= 150, `the feed published ${last} updates in 10 s at 20 Hz`);
    await waitFor(`every client to reach seq ${last}`,
      () => followers.every((f) => f.log.seqs.at(-1) === last), WAIT_MS);
    const stats = (await jsonFetch(`${server.url}/stats`)).body;
    for (const f of followers) f.stop();

    for (const [i, f] of followers.entries()) {
      const who = `client ${i}`;
      assert.deepEqual(f.log.errors, [], `${who}: the ws package refused nothing`);
      assert.deepEqual(f.log.other, [], `${who}: every frame is an update`);
      assert.deepEqual(f.log.resets, [], `${who}: no reset (the ring held everything)`);
      assert.equal(f.log.opens, 2, `${who}: two connections, the first and one after the drop`);
      assert.equal(f.log.closes[0].code, 1006,
        `${who}: the drop cut the TCP connection without a close frame (1006 on the client), ` +
        `got ${JSON.stringify(f.log.closes[0])}`);
      exactRun(f.log.seqs, 1, last, who);
    }
    const row = stats.transports.ws;
    assert.equal(row.responses['101'], 100, `100 handshakes answered 101: ${JSON.stringify(row.responses)}`);
    assert.equal(row.open, 50, 'the 50 second connections are open');
    assert.equal(row.frames.cuts, 50, `the drop cut 50: ${JSON.stringify(row.frames)}`);
    assert.equal(stats.unaccounted_bytes, 0, 'every byte the kernel moved is accounted');
  } finally {
    for (const f of followers) f.stop();
    const result = await server.stop();
    exitCheck(assert, result, server);
  }
});

test('ws: a message sent up comes back on the feed, as POST /publish would put it', async () => {
  const server = await serverStart(['--rate', '0']);
  const { WebSocket } = await packageImport('ws');
  let ws = null;
  try {
    const f = await followerOpen(server.url, null, true);
    await waitFor('the follower to open', () => f.log.opens >= 1, WAIT_MS);
    ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/ws?client=${tagCreate()}`);
    await bounded('the writer to open', new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    }), WAIT_MS);
    const text = 'hello from ws, with ünïcödé ✓';
    ws.send(text);
    await waitFor('the message on the feed', () => f.log.updates.length >= 1, WAIT_MS);
    const res = await fetch(`${server.url}/publish`, { method: 'POST', body: text });
    const published = await res.json();
    await waitFor('the POST /publish on the feed', () => f.log.updates.length >= 2, WAIT_MS);
    f.stop();
    assert.equal(f.log.updates[0].data, text, 'the text is the update\'s data');
    assert.equal(f.log.updates[0].seq, 1);
    assert.equal(published.seq, 2);
    const { seq: _a, ts_ns: _b, ...viaWs } = f.log.updates[0];
    const { seq: _c, ts_ns: _d, ...viaPost } = f.log.updates[1];
    assert.deepEqual(viaWs, viaPost, 'a frame sent up and a POST /publish make the same update');
    const stats = (await jsonFetch(`${server.url}/stats`)).body;
    assert.equal(stats.transports.ws.frames.messages_in, 1, JSON.stringify(stats.transports.ws.frames));
  } finally {
    if (ws) ws.terminate();
    const result = await server.stop();
    exitCheck(assert, result, server);
  }
});

test('ws: pings after --heartbeat of silence keep an idle connection; shutdown closes 1001', async () => {
  const server = await serverStart(['--rate', '0', '--heartbeat', '300ms', '--idle-timeout', '1s',
    '--request-timeout', '1s']);
  let f = null;
  let result = null;
  try {
    f = await followerOpen(server.url, null);
    await waitFor('the connection to open', () => f.log.opens >= 1, WAIT_MS);
    await sleep(2500); /* past both HTTP deadlines, and many heartbeats */
    assert.ok(f.log.pings >= 4, `${f.log.pings} pings in 2.5 s of silence at a 300 ms heartbeat`);
    assert.deepEqual(f.log.closes, [], 'the answered pings keep it open');
    const stats = (await jsonFetch(`${server.url}/stats`)).body;
    assert.equal(stats.transports.ws.frames.dead_peers, 0);
    assert.ok(stats.transports.ws.frames.pongs_in >= 4, JSON.stringify(stats.transports.ws.frames));
    f.stopped = true; /* no reconnection after the shutdown */
    const stopping = server.stop();
    await waitFor('the close', () => f.log.closes.length >= 1, WAIT_MS);
    assert.equal(f.log.closes[0].code, 1001, `closed with ${JSON.stringify(f.log.closes[0])}`);
    result = await bounded('the server stopping', stopping, WAIT_MS);
    assert.deepEqual(f.log.errors, []);
  } finally {
    if (f) f.stop();
    if (result === null) result = await server.stop();
    exitCheck(assert, result, server);
  }
});

test('ws: a ?since= the ring no longer holds gets a reset frame, then the oldest kept', async () => {
  const server = await serverStart(['--rate', '50', '--buffer', '16']);
  let f = null;
  try {
    await waitFor('the feed to pass seq 40', async () =>
      (await jsonFetch(`${server.url}/poll`)).body.seq > 40, WAIT_MS);
    f = await followerOpen(server.url, 1);
    await waitFor('the reset and 20 updates', () => f.log.resets.length >= 1 && f.log.seqs.length >= 20, WAIT_MS);
    f.stop();
    const reset = f.log.resets[0];
    assert.equal(reset.since, 1, `reset names the asked-for seq: ${JSON.stringify(reset)}`);
    assert.ok(reset.first > 2, `reset names the oldest kept update: ${JSON.stringify(reset)}`);
    assert.equal(f.log.seqs[0], reset.first, 'delivery resumes at the oldest kept update');
    exactRun(f.log.seqs, reset.first, f.log.seqs.at(-1), 'the client');
  } finally {
    if (f) f.stop();
    const result = await server.stop();
    exitCheck(assert, result, server);
  }
});
