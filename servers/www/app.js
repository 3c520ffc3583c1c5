/* app.js: the workshop demo's four clients of one feed, and the counters that show their cost.
 *
 * Four panels watch the same server feed. Short polling asks GET /poll on a timer with
 * If-None-Match, so it gets 304 while nothing changed and only ever sees the latest update:
 * whatever was published between two polls is missed. Long polling asks
 * GET /longpoll?since=N in a loop; the server holds each request until there is news, and
 * the cursor makes it lossless. Server-Sent Events use the browser's own EventSource on
 * GET /events: one response that never ends, reconnected by the browser after `retry` ms
 * with Last-Event-ID, so the server replays what the drop cost. WebSocket uses the
 * browser's own WebSocket on GET /ws: one upgraded connection that carries a frame per
 * update (and the server's pings, which the browser answers by itself). The WebSocket API
 * has no reconnection: the page does it, after a pause that doubles while attempts fail,
 * with ?since=<the last seq received>, and the server replays what it missed.
 *
 * Each panel runs under its own client tag (sp-, lp-, sse-, ws- plus random hex, new on every
 * page load and every "Reset counters"), sent as ?client=TAG, so the server accounts its
 * bytes apart from other panels and other browsers. The page reads them back from
 * /stats?client=TAG once a second: a browser cannot see header bytes, the server can
 * (reading a tag's stats is not itself counted under it, and control requests carry no
 * tag).
 *
 * Two sources, never mixed in one row. The counters above the line are the page's own,
 * each incremented at one place, so they agree at every instant: requests = answered +
 * failed + waiting (the one request still out), "nothing new" is a part of answered, and
 * updates received and missed are counted as updates arrive. (They used to mix: requests
 * came from /stats, a second late, while received was counted here.) The bytes and the
 * strip chart are the server's, all from one /stats answer, and "bytes per update" divides
 * them by the updates this page had received when that answer arrived. For the WebSocket
 * and SSE, a request is a connection attempt (a handshake; for EventSource, counted when
 * the browser says it will try again), answered when it opens; "body + framing" holds
 * every frame both ways for the WebSocket: updates, their headers, pings, pongs, closes.
 *
 * Staleness is the report's (docs/MODELS.md, "Freshness measures"): how long the panel's
 * view has been behind the server's newest update, 0 while it is up to date. The view
 * showing update N is behind from the publish stamp of the first update after N, so at
 * time t staleness = t - ts(N+1) once N+1 exists, else 0. Not the age of the shown value
 * (t - ts(N)), which grows while nothing changes. Which updates exist the page learns from
 * all four panels together (page.feed): an update still on its way to every panel is not
 * known yet, so the time it spends in flight shows up in the delivery latency (receipt -
 * publish stamp, per update) rather than in staleness.
 *
 * State lives in one plain object per panel; the loops only change that state, and one
 * timer renders every panel ten times a second, all at one instant (that also keeps
 * staleness live). Numbers go into the DOM twice: formatted text for people, the raw value
 * in data-value for tests (staleness adds data-at, the instant, and data-behind, the seq it
 * counts from).
 *
 * Simplifications: staleness and latency compare this machine's clock with the server's
 * publish stamp, so they are only exact when both run on one machine (the presenter's
 * screen). Missed counts gaps in seq; a gap after the server said "reset" (its ring no
 * longer had those updates) is counted apart, as lost to a reset, and a seq going backwards
 * means a restarted server.
 */
'use strict';

const STATS_PERIOD_MS = 1000;     /* how often the page reads /stats */
const RENDER_PERIOD_MS = 100;     /* how often the panels are redrawn */
const LONGPOLL_TIMEOUT_S = 25;    /* ?timeout= of each long poll */
const RETRY_FIRST_MS = 250;       /* a failed poll is retried after this, doubling... */
const RETRY_MAX_MS = 5000;        /* ...up to this */
const STALENESS_FULL_MS = 2000;   /* staleness that fills the bar */
const FEED_KEEP = 4096;           /* updates page.feed remembers (seq and publish stamp) */

const APPROACHES = [
  {
    prefix: 'sp',
    title: 'Short polling',
    how: (ms) => `asks “anything new?” every ${formatSeconds(ms)}`,
    errorsLabel: 'failed requests',
    run: shortPollRun,
  },
  {
    prefix: 'lp',
    title: 'Long polling',
    how: () => 'asks, and the server holds the answer until there is news',
    errorsLabel: 'failed requests',
    run: longPollRun,
  },
  {
    prefix: 'sse',
    title: 'Server-Sent Events',
    how: () => 'one response that never ends; each update is written into it',
    errorsLabel: 'reconnects',
    errorsField: 'reconnects',
    run: sseRun,
  },
  {
    prefix: 'ws',
    title: 'WebSocket',
    how: () => 'one upgraded connection, both ways; each update is a frame',
    errorsLabel: 'reconnects',
    errorsField: 'reconnects',
    run: wsRun,
  },
];

const page = {
  panels: [],          /* one per approach, see panelCreate() */
  feed: { seqs: [], ts: [] }, /* every update any panel received, by seq: its ts_ns */
  intervalMs: 1000,    /* the short polling interval */
  rateHz: null,        /* the server's generator rate, from /stats */
};

/* ---- small helpers ------------------------------------------------------------------ */

/* A client tag: the prefix and 8 random hex digits (getRandomValues works on plain http). */
function tagCreate(prefix) {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return prefix + '-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/* A path on this server with the panel's client tag added to its query. */
function panelUrl(panel, path, params = {}) {
  const query = new URLSearchParams({ ...params, client: panel.tag });
  return `${path}?${query}`;
}

/* Resolve after ms, or earlier when the panel is woken (a new interval, a stop). */
function panelSleep(panel, ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      panel.wake = null;
      resolve();
    }
    panel.wake = done;
  });
}

function formatSeconds(ms) {
  return ms < 1000 ? `${ms / 1000} s` : `${Math.round(ms / 100) / 10} s`;
}

function formatBytes(n) {
  if (n < 10000) return `${n} B`;
  if (n < 10e6) return `${(n / 1e3).toFixed(1)} kB`;
  return `${(n / 1e6).toFixed(1)} MB`;
}

/* An update's publish stamp in ms. ts_ns exceeds 2^53, so JSON.parse rounds it to the
 * nearest double; near 1.8e18 doubles are 256 ns apart, an error of at most 128 ns, far
 * below the millisecond resolution of Date.now(). We accept it rather than parse digits
 * into BigInt. */
function updateStampMs(update) {
  return update.ts_ns / 1e6;
}

/* The index of the first seq in the sorted array above seq (seqs.length when none). */
function feedAfter(seqs, seq) {
  let lo = 0;
  let hi = seqs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (seqs[mid] <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* Note that update exists (any panel received it), keeping seqs sorted; a seq far below
 * the newest with a later stamp means a restarted server: start over. */
function feedNote(update) {
  const f = page.feed;
  const n = f.seqs.length;
  if (n > 0 && update.seq < f.seqs[0] && update.ts_ns > f.ts[n - 1]) {
    f.seqs = [];
    f.ts = [];
  }
  const i = feedAfter(f.seqs, update.seq);
  if (i > 0 && f.seqs[i - 1] === update.seq) return;
  f.seqs.splice(i, 0, update.seq);
  f.ts.splice(i, 0, update.ts_ns);
  if (f.seqs.length > FEED_KEEP) {
    f.seqs.shift();
    f.ts.shift();
  }
}

/* Staleness of a view showing seq, at page time now (ms): {ms, behind}, behind being the
 * first update after seq that the page knows of (0 when none: up to date). */
function stalenessAt(seq, now) {
  const f = page.feed;
  const i = feedAfter(f.seqs, seq);
  if (i >= f.seqs.length) return { ms: 0, behind: 0 };
  const since = f.ts[i] / 1e6;
  if (since > now) return { ms: 0, behind: 0 }; /* clocks apart: not behind yet */
  return { ms: now - since, behind: f.seqs[i] };
}

/* Set a field's raw value (data-value) and its text, touching the DOM only on change. */
function fieldSet(el, value, text) {
  const v = String(value);
  if (el.dataset.value !== v) el.dataset.value = v;
  if (el.textContent !== text) el.textContent = text;
}

/* ---- one panel: its state, its counters, its rendering ------------------------------ */

/* Clone the template into a panel for approach a. The page keeps it for its lifetime. */
function panelCreate(a, template) {
  const el = template.content.firstElementChild.cloneNode(true);
  el.classList.add(a.prefix);
  el.dataset.testid = `panel-${a.prefix}`;
  el.querySelector('.title').textContent = a.title;
  el.querySelector('[data-label="errors"]').textContent = a.errorsLabel;
  if (a.errorsField) el.querySelector('[data-field="errors"]').dataset.field = a.errorsField;
  const fields = {};
  for (const f of el.querySelectorAll('[data-field]')) {
    fields[f.dataset.field] = f;
    f.dataset.testid = `${a.prefix}-${f.dataset.field}`;
  }
  const chart = chartCreate(fields.chart);
  return { approach: a, el, fields, chart, gen: 0, wake: null, abort: null, source: null };
}

/* Forget everything the panel counted and take a fresh client tag. */
function panelReset(panel) {
  panel.tag = tagCreate(panel.approach.prefix);
  panel.el.dataset.client = panel.tag;
  panel.latest = null;        /* the newest update received: {seq, ts_ns, data} */
  panel.lastSeq = 0;          /* its seq, 0 before the first */
  panel.resetPending = false; /* the server said some updates are gone */
  panel.etag = null;          /* short polling: the ETag of the latest update seen */
  panel.state = 'starting';
  /* The page's own counts, each incremented at one place: requests in requestBegin,
   * answered and failed in requestEnd, the rest in panelAccept and the loops. A new object
   * on reset, so a request of the old tag still finishing counts into the old one. */
  panel.count = {
    requests: 0, answered: 0, failed: 0, waiting: 0, /* requests = answered + failed + waiting */
    empty: 0,                                        /* answered with nothing new */
    received: 0, missed: 0, lost: 0,
    latencySumMs: 0, latencyMaxMs: 0,                /* receipt - publish stamp, per update */
  };
  /* From one /stats?client= answer; received: this page's count when it arrived. */
  panel.server = { requests: 0, req: 0, resp: 0, body: 0, received: 0 };
  chartReset(panel.chart);
}

/* A request (a fetch, a stream or WebSocket attempt) leaves. Returns the count it goes
 * into, for requestEnd. */
function requestBegin(panel) {
  const c = panel.count;
  c.requests++;
  c.waiting++;
  return c;
}

/* That request was answered (ok: a whole 2xx or 304 answer, or an opened stream) or
 * failed. */
function requestEnd(c, ok) {
  c.waiting--;
  if (ok) c.answered++;
  else c.failed++;
}

/* Start the panel's client loop under a new generation; older loops see it and end. */
function panelStart(panel) {
  panel.gen++;
  panel.abort = new AbortController();
  panel.approach.run(panel, panel.gen);
}

/* Stop the panel's client: its loop ends, its request is aborted, its stream closed. */
function panelStop(panel) {
  panel.gen++;
  if (panel.abort) panel.abort.abort();
  if (panel.source) panel.source.close();
  panel.source = null;
  if (panel.socket) panel.socket.close(1000);
  panel.socket = null;
  if (panel.wake) panel.wake();
}

/* Take one update into the panel: count it, or the gap before it, and show it. */
function panelAccept(panel, update) {
  if (update.seq < panel.lastSeq) {
    panel.lastSeq = 0; /* the seq went back: a new run of the server, not a loss */
  } else if (update.seq === panel.lastSeq) {
    return; /* already seen */
  }
  const gap = panel.lastSeq > 0 ? update.seq - panel.lastSeq - 1 : 0;
  if (panel.resetPending) panel.count.lost += gap;
  else panel.count.missed += gap;
  panel.resetPending = false;
  panel.lastSeq = update.seq;
  panel.latest = update;
  panel.count.received++;
  const latency = Math.max(0, Date.now() - updateStampMs(update));
  panel.count.latencySumMs += latency;
  panel.count.latencyMaxMs = Math.max(panel.count.latencyMaxMs, latency);
  feedNote(update);
}

/* Draw the panel's state into its fields, as of page time now (one instant for all). */
function panelRender(panel, now) {
  const f = panel.fields;
  const c = panel.count;
  const s = panel.server;
  const u = panel.latest;
  fieldSet(f.seq, u ? u.seq : 0, u ? `#${u.seq}` : '–');
  fieldSet(f.data, u ? u.data.length : 0, u ? u.data.slice(0, 16) + '…' : 'waiting for an update');
  if (u) {
    const st = stalenessAt(u.seq, now);
    const ms = Math.round(st.ms);
    f.staleness.dataset.at = String(now);
    f.staleness.dataset.behind = String(st.behind);
    fieldSet(f.staleness, ms, `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`);
    f['staleness-bar'].style.width = `${Math.min(100, (100 * ms) / STALENESS_FULL_MS)}%`;
  }
  fieldSet(f.received, c.received, String(c.received));
  const lost = c.lost > 0 ? ` (+${c.lost} lost to reset)` : '';
  fieldSet(f.missed, c.missed, `${c.missed}${lost}`);
  const mean = c.received > 0 ? Math.round(c.latencySumMs / c.received) : 0;
  f.latency.dataset.max = String(Math.round(c.latencyMaxMs));
  fieldSet(f.latency, mean, c.received > 0 ? `${mean} (${Math.round(c.latencyMaxMs)}) ms` : '–');
  f.requests.dataset.waiting = String(c.waiting);
  f.requests.dataset.failed = String(c.failed);
  fieldSet(f.requests, c.requests, c.waiting > 0 ? `${c.requests} (${c.waiting} out)` : String(c.requests));
  fieldSet(f.answered, c.answered, String(c.answered));
  if (panel.approach.errorsField === 'reconnects') {
    fieldSet(f.empty, 0, '–');
    const again = Math.max(0, c.answered - 1);
    fieldSet(f.reconnects, again, String(again));
  } else {
    fieldSet(f.empty, c.empty, String(c.empty));
    fieldSet(f.errors, c.failed, String(c.failed));
  }
  fieldSet(f['req-header-bytes'], s.req, formatBytes(s.req));
  fieldSet(f['resp-header-bytes'], s.resp, formatBytes(s.resp));
  fieldSet(f['body-bytes'], s.body, formatBytes(s.body));
  const total = s.req + s.resp + s.body;
  const per = s.received > 0 ? Math.round(total / s.received) : 0;
  fieldSet(f['bytes-per-update'], per, s.received > 0 ? formatBytes(per) : '–');
  fieldSet(f.state, panel.state, panel.state);
  const how = panel.el.querySelector('.how');
  const text = panel.approach.how(page.intervalMs);
  if (how.textContent !== text) how.textContent = text;
}

/* ---- short polling: GET /poll on a timer, If-None-Match ----------------------------- */

/* One request of a polling panel, counted: the answer's status and its JSON body (null
 * for a 304), both whole before it counts as answered. Throws on a failure, counted. */
async function panelFetch(panel, path, init) {
  const c = requestBegin(panel);
  try {
    const res = await fetch(path, { ...init, cache: 'no-store', signal: panel.abort.signal });
    if (res.status !== 304 && !res.ok) throw new Error(`GET ${path.split('?')[0]}: HTTP ${res.status}`);
    const body = res.status === 304 ? null : await res.json();
    requestEnd(c, true);
    return { res, body };
  } catch (err) {
    requestEnd(c, false);
    throw err;
  }
}

/* One poll. 304 and an unchanged seq count as "nothing new". The browser's cache stays
 * out (no-store): we hold the ETag ourselves. */
async function shortPollOnce(panel) {
  const headers = panel.etag ? { 'If-None-Match': panel.etag } : {};
  const { res, body: update } = await panelFetch(panel, panelUrl(panel, '/poll'), { headers });
  if (res.status === 304) {
    panel.count.empty++;
    return;
  }
  panel.etag = res.headers.get('ETag');
  if (!update.seq || update.seq === panel.lastSeq) panel.count.empty++;
  else panelAccept(panel, update);
}

/* Poll every page.intervalMs, measured from the start of one poll to the next. */
async function shortPollRun(panel, gen) {
  while (panel.gen === gen) {
    const started = performance.now();
    try {
      await shortPollOnce(panel);
      panel.state = `polling every ${formatSeconds(page.intervalMs)}`;
    } catch (err) {
      if (panel.gen !== gen) return;
      panel.state = `request failed: ${err.message}`;
    }
    if (panel.gen !== gen) return;
    await panelSleep(panel, Math.max(0, page.intervalMs - (performance.now() - started)));
  }
}

/* ---- long polling: GET /longpoll?since=N in a loop ---------------------------------- */

/* One long poll from cursor since (null: wait for the next update). Returns the next cursor. */
async function longPollOnce(panel, since) {
  const params = { timeout: LONGPOLL_TIMEOUT_S };
  if (since !== null) params.since = since;
  panel.state = 'held by the server';
  const { body } = await panelFetch(panel, panelUrl(panel, '/longpoll', params), {});
  if (body.reset) panel.resetPending = true;
  if (body.events.length === 0) panel.count.empty++;
  for (const update of body.events) panelAccept(panel, update);
  return body.next;
}

/* Ask again as soon as an answer arrives; after a failure (a dropped connection) ask again
 * with the same cursor, after a short pause that doubles while failures repeat. */
async function longPollRun(panel, gen) {
  let since = null;
  let pause = RETRY_FIRST_MS;
  while (panel.gen === gen) {
    try {
      since = await longPollOnce(panel, since);
      pause = RETRY_FIRST_MS;
    } catch (err) {
      if (panel.gen !== gen) return;
      panel.state = `request failed, asking again in ${formatSeconds(pause)}`;
      await panelSleep(panel, pause);
      pause = Math.min(RETRY_MAX_MS, pause * 2);
    }
  }
}

/* ---- Server-Sent Events: the browser's EventSource on GET /events ------------------- */

/* The browser does the work: it parses the stream, honours `retry:`, and on a lost
 * connection reconnects with Last-Event-ID. We only count opens and take the updates. */
function sseRun(panel, gen) {
  const c = requestBegin(panel);
  const source = new EventSource(panelUrl(panel, '/events'));
  panel.source = source;
  source.onopen = () => {
    requestEnd(c, true);
    panel.state = c.answered > 1 ? 'stream open again (resumed)' : 'stream open';
  };
  source.onmessage = (ev) => {
    if (panel.gen === gen) panelAccept(panel, JSON.parse(ev.data));
  };
  source.addEventListener('reset', () => {
    panel.resetPending = true;
  });
  source.addEventListener('end', () => {
    panel.state = 'the server is shutting down';
  });
  /* An attempt that had not opened failed; CONNECTING means the browser tries again. */
  source.onerror = () => {
    if (c.waiting > 0) requestEnd(c, false);
    if (panel.gen !== gen) return;
    if (source.readyState === EventSource.CONNECTING) {
      requestBegin(panel);
      panel.state = 'lost, reconnecting…';
    } else {
      panel.state = 'closed by the browser';
    }
  };
}

/* ---- WebSocket: the browser's WebSocket on GET /ws ---------------------------------- */

/* Open one connection, from the last seq received when there is one; on its close
 * (a drop, the server going away, a failed handshake) open another after a pause that
 * starts at RETRY_FIRST_MS and doubles while attempts fail, up to RETRY_MAX_MS. */
function wsRun(panel, gen) {
  let pause = RETRY_FIRST_MS;
  const connect = () => {
    if (panel.gen !== gen) return;
    const params = panel.lastSeq > 0 ? { since: panel.lastSeq } : {};
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const c = requestBegin(panel);
    let waiting = true;
    const socket = new WebSocket(`${scheme}//${location.host}${panelUrl(panel, '/ws', params)}`);
    panel.socket = socket;
    socket.onopen = () => {
      waiting = false;
      requestEnd(c, true);
      if (panel.gen !== gen) return;
      pause = RETRY_FIRST_MS;
      panel.state = c.answered > 1 ? 'connection open again (resumed)' : 'connection open';
    };
    socket.onmessage = (ev) => {
      if (panel.gen !== gen) return;
      const msg = JSON.parse(ev.data);
      if (msg.reset) panel.resetPending = true;
      else panelAccept(panel, msg);
    };
    socket.onclose = (ev) => {
      if (waiting) requestEnd(c, false); /* the handshake never completed */
      waiting = false;
      if (panel.gen !== gen) return;
      panel.socket = null;
      panel.state = ev.code === 1001
        ? 'the server is shutting down'
        : `closed (${ev.code}), reconnecting in ${formatSeconds(pause)}…`;
      panelSleep(panel, pause).then(connect);
      pause = Math.min(RETRY_MAX_MS, pause * 2);
    };
  };
  connect();
}

/* ---- the server's side: /stats per tag, controls ------------------------------------ */

/* Read the bytes the server counted for one panel's tag. */
async function panelStatsRead(panel) {
  const tag = panel.tag;
  const res = await fetch(`/stats?client=${encodeURIComponent(tag)}`, { cache: 'no-store' });
  if (!res.ok) throw new Error(`GET /stats: HTTP ${res.status}`);
  const s = await res.json();
  if (s.client !== tag || panel.tag !== tag) return; /* a reset came in between */
  panel.server = {
    requests: s.requests,
    req: s.req_header_bytes,
    resp: s.resp_header_bytes,
    /* req_body_bytes: a WebSocket's frames up (the browser's pongs); 0 for a GET */
    body: s.resp_body_bytes + s.framing_bytes + s.req_body_bytes,
    received: panel.count.received,
  };
  const p = panel.server;
  chartPush(panel.chart, { t: Date.now(), bytes: p.req + p.resp + p.body, requests: p.requests });
}

/* Read the server's generator rate and mark it among the rate choices. */
async function rateRead() {
  const res = await fetch('/stats', { cache: 'no-store' });
  if (!res.ok) throw new Error(`GET /stats: HTTP ${res.status}`);
  const s = await res.json();
  page.rateHz = s.config.rate_hz;
  const el = document.querySelector('[data-testid="rate-now"]');
  fieldSet(el, page.rateHz, `server: ${page.rateHz} updates/s`);
  for (const input of document.querySelectorAll('input[name="rate"]')) {
    input.checked = Number(input.value) === page.rateHz;
  }
}

/* Once a second, forever: every panel's bytes and the rate. Failures show in the status
 * line, which is cleared again once /stats answers. */
async function statsLoop() {
  let failing = false;
  for (;;) {
    try {
      await Promise.all([rateRead(), ...page.panels.map(panelStatsRead)]);
      if (failing) messageShow('the server answers again');
      failing = false;
    } catch (err) {
      messageShow(`cannot read /stats: ${err.message}`);
      failing = true;
    }
    await new Promise((resolve) => setTimeout(resolve, STATS_PERIOD_MS));
  }
}

function messageShow(text) {
  const el = document.querySelector('[data-testid="message"]');
  fieldSet(el, text, text);
}

/* POST a control request; returns the JSON answer or throws with the server's error. */
async function controlPost(path) {
  const res = await fetch(path, { method: 'POST', cache: 'no-store' });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error || `${path}: HTTP ${res.status}`); /* the error names the path */
  return body;
}

async function rateSet(hz) {
  try {
    const body = await controlPost(`/control?rate=${hz}`);
    messageShow(`rate set to ${body.rate_hz} updates/s`);
    await rateRead();
  } catch (err) {
    messageShow(`cannot set the rate: ${err.message}`);
  }
}

async function connectionsDrop() {
  try {
    const body = await controlPost('/drop');
    const when = new Date().toLocaleTimeString();
    messageShow(`dropped ${body.dropped} connections at ${when}: watch them come back`);
  } catch (err) {
    messageShow(`cannot drop connections: ${err.message}`);
  }
}

function intervalSet(ms) {
  page.intervalMs = ms;
  const sp = page.panels.find((p) => p.approach.prefix === 'sp');
  if (sp.wake) sp.wake(); /* poll now, then on the new interval */
}

function countersRestart() {
  for (const panel of page.panels) {
    panelStop(panel);
    panelReset(panel);
    panelStart(panel);
  }
  messageShow('counters reset (new client tags)');
}

/* ---- start ------------------------------------------------------------------------- */

function controlsBind() {
  for (const input of document.querySelectorAll('input[name="rate"]')) {
    input.addEventListener('change', () => rateSet(Number(input.value)));
  }
  for (const input of document.querySelectorAll('input[name="interval"]')) {
    if (input.checked) page.intervalMs = Number(input.value);
    input.addEventListener('change', () => intervalSet(Number(input.value)));
  }
  document.getElementById('drop').addEventListener('click', connectionsDrop);
  document.getElementById('restart').addEventListener('click', countersRestart);
}

function main() {
  const template = document.getElementById('panel-template');
  const container = document.querySelector('main');
  for (const a of APPROACHES) {
    const panel = panelCreate(a, template);
    panelReset(panel);
    container.appendChild(panel.el);
    page.panels.push(panel);
  }
  controlsBind();
  for (const panel of page.panels) panelStart(panel);
  setInterval(() => {
    const now = Date.now();
    for (const panel of page.panels) panelRender(panel, now);
  }, RENDER_PERIOD_MS);
  window.addEventListener('resize', () => page.panels.forEach((p) => chartDraw(p.chart)));
  messageShow('');
  statsLoop();
}

main();
