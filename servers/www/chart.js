/* chart.js: a strip chart on a canvas: the last minute of a panel's bytes per second and
 * requests per second, drawn by hand (no library, nothing fetched from elsewhere).
 *
 * The page gives it one sample per /stats read: the page's clock when the answer came and
 * the server's running totals for the panel's tag (bytes of headers, bodies and framing
 * both ways; requests). A rate is the difference of two consecutive samples over the time
 * between them, so both series come from the same two instants of the same counter set.
 * Bytes per second is an area in the panel's colour on its own scale, requests per second
 * a dark line on another; each scale is the largest value in view, printed at the top.
 *
 * For tests, the canvas carries the newest rate's inputs and result as data attributes:
 * data-samples (rates in view), data-t0/data-t1 (page ms), data-b0/data-b1 and
 * data-r0/data-r1 (the server's totals), data-bytes-per-s and data-requests-per-s.
 */
'use strict';

const CHART_SAMPLES = 60; /* rates in view: a minute at one /stats read a second */

/* A chart on canvas; the page keeps it for the panel's lifetime. */
function chartCreate(canvas) {
  const chart = { canvas, last: null, rates: [] };
  chartReset(chart);
  return chart;
}

/* Forget every sample (the panel took a new client tag). */
function chartReset(chart) {
  chart.last = null; /* the previous sample: {t, bytes, requests} */
  chart.rates = [];  /* {bytesPerS, requestsPerS}, oldest first */
  const d = chart.canvas.dataset;
  d.samples = '0';
  for (const k of ['t0', 't1', 'b0', 'b1', 'r0', 'r1', 'bytesPerS', 'requestsPerS']) delete d[k];
  chartDraw(chart);
}

/* Take one sample: t in page ms, bytes and requests the server's totals for the tag. */
function chartPush(chart, sample) {
  const prev = chart.last;
  chart.last = sample;
  if (!prev || sample.t <= prev.t || sample.bytes < prev.bytes || sample.requests < prev.requests) {
    return; /* the first sample, or totals that started over: no rate yet */
  }
  const dt = (sample.t - prev.t) / 1000;
  const rate = {
    bytesPerS: (sample.bytes - prev.bytes) / dt,
    requestsPerS: (sample.requests - prev.requests) / dt,
  };
  chart.rates.push(rate);
  if (chart.rates.length > CHART_SAMPLES) chart.rates.shift();
  const d = chart.canvas.dataset;
  d.samples = String(chart.rates.length);
  d.t0 = String(prev.t);
  d.t1 = String(sample.t);
  d.b0 = String(prev.bytes);
  d.b1 = String(sample.bytes);
  d.r0 = String(prev.requests);
  d.r1 = String(sample.requests);
  d.bytesPerS = String(rate.bytesPerS);
  d.requestsPerS = String(rate.requestsPerS);
  chartDraw(chart);
}

function chartFormatBytes(v) {
  if (v < 1000) return `${Math.round(v)} B/s`;
  if (v < 1e6) return `${(v / 1e3).toFixed(1)} kB/s`;
  return `${(v / 1e6).toFixed(1)} MB/s`;
}

/* The x of rate i of n, right-aligned: the newest at the right edge. */
function chartX(i, n, w) {
  return w - ((n - 1 - i) * w) / (CHART_SAMPLES - 1);
}

/* Redraw the whole chart (60 points: cheaper than keeping a scrolled bitmap right). */
function chartDraw(chart) {
  const canvas = chart.canvas;
  const ratio = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth * ratio));
  const h = Math.max(1, Math.round(canvas.clientHeight * ratio));
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  const ctx = canvas.getContext('2d');
  const style = getComputedStyle(canvas);
  const colour = style.getPropertyValue('--colour').trim() || '#888';
  const ink = style.getPropertyValue('--ink').trim() || '#111';
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = '#fafafa';
  ctx.fillRect(0, 0, w, h);
  const rates = chart.rates;
  const n = rates.length;
  const font = Math.round(11 * ratio);
  const top = font + 4 * ratio; /* room for the scale labels */
  const plotH = h - top;
  const bytesMax = Math.max(1, ...rates.map((r) => r.bytesPerS));
  const reqMax = Math.max(1, ...rates.map((r) => r.requestsPerS));
  const y = (v, max) => h - (v / max) * plotH;
  if (n >= 1) {
    ctx.beginPath();
    ctx.moveTo(chartX(0, n, w), h);
    rates.forEach((r, i) => ctx.lineTo(chartX(i, n, w), y(r.bytesPerS, bytesMax)));
    ctx.lineTo(chartX(n - 1, n, w), h);
    ctx.closePath();
    ctx.globalAlpha = 0.45;
    ctx.fillStyle = colour;
    ctx.fill();
    ctx.globalAlpha = 1;
    ctx.beginPath();
    rates.forEach((r, i) => {
      const x = chartX(i, n, w);
      const yy = y(r.requestsPerS, reqMax);
      if (i === 0) ctx.moveTo(x, yy);
      else ctx.lineTo(x, yy);
    });
    ctx.strokeStyle = ink;
    ctx.lineWidth = 1.5 * ratio;
    ctx.stroke();
  }
  ctx.font = `${font}px system-ui, sans-serif`;
  ctx.textBaseline = 'top';
  ctx.fillStyle = ink;
  const newest = n > 0 ? rates[n - 1] : null;
  ctx.textAlign = 'left';
  ctx.fillText(newest ? `bytes ${chartFormatBytes(newest.bytesPerS)} (top ${chartFormatBytes(bytesMax)})`
    : 'bytes/s: waiting for two /stats reads', 2 * ratio, 2 * ratio);
  ctx.textAlign = 'right';
  if (newest) {
    ctx.fillText(`requests ${newest.requestsPerS.toFixed(1)}/s (top ${reqMax.toFixed(1)})`, w - 2 * ratio,
      2 * ratio);
  }
}
