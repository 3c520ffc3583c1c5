/* harness.mjs: start and stop the real pushpull server for the real-client tests.
 *
 * Like tests/harness.c: the server binary (env PUSHPULL_SERVER, default the sanitizer
 * build build/asan/bin/pushpull-server) runs from the repository root on --port 0, so it
 * picks a free port and finds the page in servers/www; its first stdout line says where it
 * listens. It is stopped by pid with SIGTERM, and must exit 0 within a bound (under ASan a
 * leak makes it exit non-zero, and its stderr goes into the failure message).
 *
 * Every wait here is bounded, and every missing prerequisite (the binary, an npm package,
 * chromium) is an error that says how to get it: these tests fail, they never skip.
 * Not a test file itself: node --test only runs *.test.mjs.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const OUT_DIR = path.join(REPO_ROOT, 'tests', 'browser', 'out');

const START_TIMEOUT_MS = 10000; /* for the "listening on" line */
const STOP_TIMEOUT_MS = 10000;  /* from SIGTERM to exit */
const HTTP_TIMEOUT_MS = 5000;   /* any single request the tests make themselves */
const STDERR_KEEP = 64 * 1024;  /* the tail of the server's stderr kept for messages */

/* Import an npm package, or fail saying how to install it. */
export async function packageImport(name) {
  try {
    return await import(name);
  } catch (err) {
    throw new Error(`npm package '${name}' is missing from tests/browser/node_modules ` +
      `(${err.code || err.message}): run  npm ci --prefix tests/browser  ` +
      '(./run.sh test does this)');
  }
}

/* Start the server with extra flags. Resolves to a handle:
 *   url     "http://127.0.0.1:PORT"
 *   pid     the process id
 *   stderr  () => the tail of what it wrote to stderr so far
 *   stop    () => Promise of {code, signal}: SIGTERM, bounded wait (SIGKILL and throw
 *           when the bound passes). Calling stop twice is safe.
 * The caller owns the handle and must call stop(), also when the test fails. */
export async function serverStart(flags) {
  const bin = process.env.PUSHPULL_SERVER || 'build/asan/bin/pushpull-server';
  const binPath = path.resolve(REPO_ROOT, bin);
  if (!fs.existsSync(binPath)) {
    throw new Error(`server binary ${binPath} not found: build it (make test-build, or ` +
      './run.sh test), or point PUSHPULL_SERVER at one');
  }
  const child = spawn(binPath, ['--port', '0', ...flags], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s) => {
    stderr = (stderr + s).slice(-STDERR_KEEP);
  });
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const handle = {
    url: null,
    pid: child.pid,
    stderr: () => stderr,
    stop: () => serverStop(child, exited, () => stderr),
  };
  try {
    handle.url = await firstLineRead(child, exited, () => stderr);
  } catch (err) {
    await handle.stop().catch(() => {});
    throw err;
  }
  return handle;
}

/* The URL from the server's first stdout line, "listening on http://ADDR:PORT". */
function firstLineRead(child, exited, stderr) {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      reject(new Error(`the server did not say where it listens within ${START_TIMEOUT_MS} ms; ` +
        `stderr: ${stderr()}`));
    }, START_TIMEOUT_MS);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s) => {
      if (out.includes('\n')) return; /* already answered; keep draining */
      out += s;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(out.slice(0, nl));
      if (m) resolve(m[1]);
      else reject(new Error(`unexpected first line from the server: ${out.slice(0, nl)}`));
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (code ${code}, signal ${signal}) before listening; ` +
        `stderr: ${stderr()}`));
    });
  });
}

/* SIGTERM (or signal), then wait at most STOP_TIMEOUT_MS; past that, SIGKILL and throw. */
async function serverStop(child, exited, stderr, signal = 'SIGTERM') {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve(null), STOP_TIMEOUT_MS);
  });
  const result = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (result === null) {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`the server (pid ${child.pid}) did not stop within ${STOP_TIMEOUT_MS} ms ` +
      `of SIGTERM; killed. stderr: ${stderr()}`);
  }
  return result;
}

/* Check that a stopped server exited cleanly; the message carries its stderr. */
export function exitCheck(assert, result, server) {
  assert.deepEqual(result, { code: 0, signal: null },
    `the server should exit 0 on SIGTERM; stderr:\n${server.stderr()}`);
}

/* Poll fn (sync or async) every 50 ms until it returns a truthy value, which is returned;
 * after timeoutMs throw, naming what was awaited and the last value seen. */
export async function waitFor(what, fn, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} ` +
        `(last seen: ${JSON.stringify(last)})`);
    }
    await sleep(50);
  }
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/* Bound a promise: reject with a message naming what took too long. */
export function bounded(what, promise, ms) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/* GET or POST a JSON endpoint; returns {status, body}. */
export async function jsonFetch(url, method = 'GET') {
  const res = await fetch(url, { method, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  const text = await res.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

/* Start the classroom demo (pushpull-lab demo, from the directory of PUSHPULL_SERVER, the
 * sanitizer build's by default, with PUSHPULL_BIN pointing there so it runs that build's
 * server and link) with extra flags, from the repository root. Resolves to a handle:
 *   url        the page's URL from its first stdout line ("open http://ADDR:PORT/ ...")
 *   serverUrl  the server's own address from the second ("server http://127.0.0.1:PORT ...")
 *   stderr     () => the tail of what it wrote to stderr so far
 *   stop       (signal = 'SIGINT') => Promise of {code, signal}, bounded as serverStop.
 * The caller owns the handle and must call stop(). */
export async function demoStart(flags) {
  const server = process.env.PUSHPULL_SERVER || 'build/asan/bin/pushpull-server';
  const binDir = path.dirname(path.resolve(REPO_ROOT, server));
  const lab = path.join(binDir, 'pushpull-lab');
  if (!fs.existsSync(lab)) {
    throw new Error(`${lab} not found: build it (make test-build, or ./run.sh test), or point ` +
      'PUSHPULL_SERVER at a server with pushpull-lab beside it');
  }
  const child = spawn(lab, ['demo', ...flags], {
    cwd: REPO_ROOT,
    env: { ...process.env, PUSHPULL_BIN: binDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s) => {
    stderr = (stderr + s).slice(-STDERR_KEEP);
  });
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const handle = {
    url: null,
    serverUrl: null,
    pid: child.pid,
    stderr: () => stderr,
    stop: (signal = 'SIGINT') => serverStop(child, exited, () => stderr, signal),
  };
  try {
    const lines = await linesRead(child, exited, 2, () => stderr);
    const page = /^open (http:\/\/[0-9.]+:\d+)\/ /.exec(lines[0]);
    const srv = /^server (http:\/\/127\.0\.0\.1:\d+) /.exec(lines[1]);
    if (!page || !srv) throw new Error(`unexpected first lines from the demo: ${JSON.stringify(lines)}`);
    handle.url = page[1];
    handle.serverUrl = srv[1];
  } catch (err) {
    await handle.stop('SIGTERM').catch(() => {});
    throw err;
  }
  return handle;
}

/* The first n lines of a child's stdout, bounded by START_TIMEOUT_MS (the demo starts
 * two programs: twice the bound). */
function linesRead(child, exited, n, stderr) {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      reject(new Error(`no ${n} lines on stdout within ${2 * START_TIMEOUT_MS} ms; stderr: ${stderr()}`));
    }, 2 * START_TIMEOUT_MS);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s) => {
      out += s;
      const lines = out.split('\n');
      if (lines.length > n) {
        clearTimeout(timer);
        resolve(lines.slice(0, n));
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`it exited (code ${code}, signal ${signal}) first; stderr: ${stderr()}`));
    });
  });
}
