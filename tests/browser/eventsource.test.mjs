/* eventsource.test.mjs: Node's `eventsource` package, an SSE client nobody here wrote,
 * held against the server's GET /events.
 *
 * The package follows the WHATWG EventSource model: it parses the stream, takes `retry:`
 * as its reconnection delay, and after a lost connection fires `error`, waits that delay
 * and fetches again with Last-Event-ID. It has no reconnect counter, but it takes a
 * `fetch` option, so every request it makes passes through our wrapper: we record when it
 * was made and which Last-Event-ID it carried. Together with the ids and seqs of the
 * messages that proves the resume: ids contiguous, none twice, the reconnect asking for
 * the last id seen, and the updates published while it was away replayed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import { bounded, exitCheck, jsonFetch, packageImport, serverStart, waitFor } from './harness.mjs';

const RETRY_MS = 500;            /* the server's --retry-ms; the package's own default is 3000 */
const WAIT_MS = 10000;           /* the bound on every wait for the stream */

/* Open an EventSource on url that records everything into a log:
 *   fetches   [{at, wallMs, lastEventId}]: each request the package made
 *   opens     [at]; errors [{at, message}]
 *   messages  [{id, update, at, connection}]: connection is the number of opens so far
 *   named     [{type, data, after}]: `reset` and `end` events, after = messages before it
 * firstLastEventId, when given, is sent on the first request (the package only sends one
 * once it has seen an id). The caller closes the returned EventSource. */
async function clientOpen(url, firstLastEventId = null) {
  const { EventSource } = await packageImport('eventsource');
  const log = { fetches: [], opens: [], errors: [], messages: [], named: [] };
  const es = new EventSource(url, {
    fetch: (input, init) => {
      const headers = { ...init.headers };
      if (log.fetches.length === 0 && firstLastEventId !== null) {
        headers['Last-Event-ID'] = firstLastEventId;
      }
      log.fetches.push({
        at: performance.now(),
        wallMs: Date.now(),
        lastEventId: headers['Last-Event-ID'] ?? null,
      });
      return fetch(input, { ...init, headers });
    },
  });
  es.addEventListener('open', () => log.opens.push(performance.now()));
  es.addEventListener('error', (e) => log.errors.push({ at: performance.now(), message: e.message }));
  es.addEventListener('message', (e) => {
    log.messages.push({
      id: e.lastEventId,
      update: JSON.parse(e.data),
      at: performance.now(),
      connection: log.opens.length,
    });
  });
  for (const type of ['reset', 'end']) {
    es.addEventListener(type, (e) => log.named.push({ type, data: e.data, after: log.messages.length }));
  }
  return { es, log };
}

/* Every message's id is its update's seq, and the seqs go up by exactly one. */
function contiguityCheck(messages) {
  for (const [i, m] of messages.entries()) {
    assert.equal(m.id, String(m.update.seq), `message ${i}: the SSE id is the update's seq`);
    if (i > 0) {
      const prev = messages[i - 1].update.seq;
      assert.equal(m.update.seq, prev + 1,
        `message ${i}: seq ${m.update.seq} follows ${prev} (a gap is a missed update, ` +
        'a repeat a duplicate)');
    }
  }
}

function tagCreate() {
  return 'es-' + crypto.randomBytes(4).toString('hex');
}

test('eventsource: after POST /drop it reconnects after retry ms with Last-Event-ID and misses nothing', async () => {
  const server = await serverStart(['--rate', '20', '--retry-ms', String(RETRY_MS), '--heartbeat', '2s']);
  let client = null;
  try {
    client = await clientOpen(`${server.url}/events?client=${tagCreate()}`);
    const { log } = client;
    await waitFor('10 updates before the drop', () => log.messages.length >= 10, WAIT_MS);

    const drop = await jsonFetch(`${server.url}/drop`, 'POST');
    assert.equal(drop.status, 200, `POST /drop: ${JSON.stringify(drop.body)}`);
    assert.ok(drop.body.dropped >= 1, `POST /drop dropped ${drop.body.dropped} connections, expected >= 1`);

    await waitFor('the reconnect to open', () => log.opens.length >= 2, WAIT_MS);
    const atReconnect = log.messages.length;
    await waitFor('20 updates after the reconnect', () => log.messages.length >= atReconnect + 20, WAIT_MS);
    client.es.close();

    contiguityCheck(log.messages);
    assert.equal(log.errors.length, 1, `one error event (the drop): ${JSON.stringify(log.errors)}`);
    assert.equal(log.fetches.length, 2, 'two requests: the first connection and one reconnect');
    assert.equal(log.fetches[0].lastEventId, null, 'the first request has no Last-Event-ID');

    const before = log.messages.filter((m) => m.connection === 1);
    const after = log.messages.filter((m) => m.connection === 2);
    assert.ok(before.length >= 10 && after.length >= 1, 'updates arrived on both connections');
    assert.equal(log.fetches[1].lastEventId, before.at(-1).id,
      'the reconnect carries Last-Event-ID: the last id received before the drop');
    assert.ok(after[0].update.ts_ns / 1e6 < log.fetches[1].wallMs,
      'the first update after the reconnect was published while the client was away ' +
      '(replayed from the ring, not merely the next one)');

    const delay = log.fetches[1].at - log.errors[0].at;
    assert.ok(delay >= RETRY_MS * 0.8 && delay < 2000,
      `the reconnect came ${delay.toFixed(0)} ms after the drop; the server's retry: ` +
      `${RETRY_MS} should be honoured (the package's default is 3000 ms)`);
  } finally {
    if (client) client.es.close();
    const result = await server.stop();
    exitCheck(assert, result, server);
  }
});

test('eventsource: the server accounts the stream to its client tag', async () => {
  const server = await serverStart(['--rate', '20', '--retry-ms', String(RETRY_MS), '--heartbeat', '2s']);
  const tag = tagCreate();
  let client = null;
  try {
    const unseen = await jsonFetch(`${server.url}/stats?client=never-used`);
    assert.equal(unseen.status, 200);
    assert.equal(unseen.body.requests, 0,
      `an unseen tag reads all zero (GET /stats?client= must not count itself): ${JSON.stringify(unseen.body)}`);

    client = await clientOpen(`${server.url}/events?client=${tag}`);
    await waitFor('5 updates', () => client.log.messages.length >= 5, WAIT_MS);
    const first = (await jsonFetch(`${server.url}/stats?client=${tag}`)).body;
    await waitFor('5 more updates', () => client.log.messages.length >= 10, WAIT_MS);
    const second = (await jsonFetch(`${server.url}/stats?client=${tag}`)).body;

    assert.equal(first.client, tag);
    assert.equal(first.open, 1, `one open stream under ${tag}: ${JSON.stringify(first)}`);
    assert.equal(first.requests, 1,
      `one request (the stream) under ${tag}; reading /stats?client= must not add to it: ${JSON.stringify(first)}`);
    assert.equal(second.requests, 1, `still one request after a second read: ${JSON.stringify(second)}`);
    assert.ok(first.req_header_bytes > 0 && first.resp_header_bytes > 0,
      `header bytes are counted when the stream starts: ${JSON.stringify(first)}`);
    assert.ok(second.resp_body_bytes > first.resp_body_bytes,
      `body bytes grow live while the stream is open: ${first.resp_body_bytes} then ${second.resp_body_bytes}`);

    client.es.close();
    await waitFor(`the closed stream to leave ${tag}'s open count`, async () =>
      (await jsonFetch(`${server.url}/stats?client=${tag}`)).body.open === 0, WAIT_MS);
  } finally {
    if (client) client.es.close();
    const result = await server.stop();
    exitCheck(assert, result, server);
  }
});

test('eventsource: a Last-Event-ID the ring no longer holds gets event: reset, then the oldest kept', async () => {
  const server = await serverStart(['--rate', '50', '--buffer', '16', '--retry-ms', String(RETRY_MS)]);
  let client = null;
  try {
    await waitFor('the feed to pass seq 40', async () =>
      (await jsonFetch(`${server.url}/poll`)).body.seq > 40, WAIT_MS);
    client = await clientOpen(`${server.url}/events?client=${tagCreate()}`, '1');
    const { log } = client;
    await waitFor('the reset and 20 updates', () => log.named.length >= 1 && log.messages.length >= 20, WAIT_MS);
    client.es.close();

    const reset = log.named[0];
    assert.equal(reset.type, 'reset', 'the first named event is reset');
    assert.equal(reset.after, 0, 'reset comes before any update');
    const info = JSON.parse(reset.data);
    assert.equal(info.since, 1, `reset names the asked-for id: ${reset.data}`);
    assert.ok(info.first > 2, `reset names the oldest kept update: ${reset.data}`);
    assert.equal(log.messages[0].update.seq, info.first, 'the stream resumes at the oldest kept update');
    contiguityCheck(log.messages);
  } finally {
    if (client) client.es.close();
    const result = await server.stop();
    exitCheck(assert, result, server);
  }
});

test('eventsource: on SIGTERM the server ends the stream with event: end', async () => {
  const server = await serverStart(['--rate', '20', '--retry-ms', String(RETRY_MS)]);
  let client = null;
  let result = null;
  try {
    client = await clientOpen(`${server.url}/events?client=${tagCreate()}`);
    const { log } = client;
    await waitFor('3 updates', () => log.messages.length >= 3, WAIT_MS);
    const stopping = server.stop();
    await waitFor('event: end', () => log.named.some((n) => n.type === 'end'), WAIT_MS);
    client.es.close();
    result = await bounded('the server stopping', stopping, WAIT_MS);
    contiguityCheck(log.messages);
  } finally {
    if (client) client.es.close();
    if (result === null) result = await server.stop();
    exitCheck(assert, result, server);
  }
});
