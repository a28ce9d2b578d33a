// Small helpers shared by the views: DOM building (text only, never HTML from data), the API
// client (token, CSRF header), formatting of times, durations and schedules.
'use strict';

// h('a', {href: '/x', class: 'c'}, 'text', child, ...): an element; strings become text nodes.
function h(tag, attrs, ...children) {
  const ns = ['svg', 'rect', 'line', 'text', 'g', 'path', 'title', 'circle'].includes(tag);
  const el = ns ? document.createElementNS('http://www.w3.org/2000/svg', tag)
                : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
  return el;
}

function link(href, ...children) {
  return h('a', {href: href, 'data-link': true}, ...children);
}

const num = (x) => Number(x || 0);

const TOKEN_KEY = 'de.token';
const token = () => sessionStorage.getItem(TOKEN_KEY) || '';

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function request(method, path, body) {
  const headers = {};
  if (token()) headers['Authorization'] = 'Bearer ' + token();
  const init = {method: method, headers: headers, cache: 'no-store'};
  if (method === 'POST') {
    headers['X-De-Csrf'] = '1';
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body || {});
  }
  const res = await fetch(path, init);
  let doc = null;
  try { doc = await res.json(); } catch (e) { doc = null; }
  if (!res.ok) {
    const err = (doc && doc.error) || {};
    throw new ApiError(res.status, err.code || String(res.status),
                       err.message || res.statusText);
  }
  return doc || {};
}
const apiGet = (path) => request('GET', path);
const apiPost = (path, body) => request('POST', path, body);
const enc = encodeURIComponent;

function pad(n) { return String(n).padStart(2, '0'); }
// "2026-12-02 18:31" (UTC); '' for 0.
function fmtTime(ms, seconds) {
  ms = num(ms);
  if (!ms) return '';
  const d = new Date(ms);
  let s = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
          `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  if (seconds) s += ':' + pad(d.getUTCSeconds());
  return s;
}
function fmtDate(ms) {
  const d = new Date(num(ms));
  return `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:` +
         pad(d.getUTCMinutes());
}
function fmtDuration(ms) {
  ms = Math.max(0, Math.round(ms));
  if (ms < 1000) return ms + 'ms';
  const s = ms / 1000;
  if (s < 60) return (s < 10 ? s.toFixed(1) : Math.round(s)) + 's';
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${pad(Math.round(s % 60))}s`;
  const hr = Math.floor(m / 60);
  if (hr < 48) return `${hr}h ${pad(m % 60)}m`;
  return `${Math.floor(hr / 24)}d ${hr % 24}h`;
}
function fmtAgo(ms) {
  ms = num(ms);
  if (!ms) return 'never';
  const d = Date.now() - ms;
  return d >= 0 ? fmtDuration(d) + ' ago' : 'in ' + fmtDuration(-d);
}
// Duration of something that started at `start` and ended at `end` (now while running).
function span(start, end) {
  start = num(start);
  if (!start) return 0;
  return (num(end) || Date.now()) - start;
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
// A cron expression or preset in words (the common shapes; otherwise the expression itself).
function scheduleWords(expr) {
  if (!expr) return 'manual only';
  const presets = {'@hourly': 'every hour', '@daily': 'every day at 00:00',
                   '@midnight': 'every day at 00:00', '@weekly': 'every Sunday at 00:00',
                   '@monthly': 'on the 1st of every month', '@yearly': 'every 1 January',
                   '@annually': 'every 1 January', '@quarterly': 'every quarter'};
  if (presets[expr]) return presets[expr];
  const f = expr.trim().split(/\s+/);
  if (f.length !== 5) return expr;
  const [mi, hr, dom, mon, dow] = f;
  const isNum = (x) => /^\d+$/.test(x);
  const at = isNum(mi) && isNum(hr) ? `at ${pad(hr)}:${pad(mi)}` : null;
  if (mon === '*' && dom === '*' && dow === '*') {
    if (/^\*\/\d+$/.test(mi) && hr === '*') return `every ${mi.slice(2)} minutes`;
    if (mi === '*' && hr === '*') return 'every minute';
    if (isNum(mi) && hr === '*') return mi === '0' ? 'every hour' : `every hour at :${pad(mi)}`;
    if (isNum(mi) && /^\*\/\d+$/.test(hr)) return `every ${hr.slice(2)} hours at :${pad(mi)}`;
    if (at) return 'every day ' + at;
  }
  if (at && mon === '*' && dom === '*' && /^[0-6](,[0-6])*$/.test(dow)) {
    return 'every ' + dow.split(',').map((d) => DAYS[+d]).join(', ') + ' ' + at;
  }
  if (at && mon === '*' && dom === '*' && dow === '1-5') return 'weekdays ' + at;
  if (at && mon === '*' && isNum(dom) && dow === '*') return `on day ${dom} of every month ${at}`;
  return expr;
}

const ACTIVE = ['waiting', 'queued', 'running', 'scheduled', 'up_for_retry'];
function stateBadge(state) {
  return h('span', {class: 'badge s-' + (state || 'none')}, state || 'none');
}

// A for_each task's instances by state, worst first after success: "50 instances: 48 success,
// 2 failed" (byState: {state: count}).
const MAP_STATE_ORDER = ['success', 'running', 'queued', 'scheduled', 'up_for_retry', 'failed',
                         'upstream_failed', 'cancelled', 'skipped'];
function mapSummary(instances, byState) {
  const known = MAP_STATE_ORDER.filter((s) => byState[s]);
  const other = Object.keys(byState).filter((s) => !MAP_STATE_ORDER.includes(s) && byState[s]);
  const parts = known.concat(other).map((s) => `${byState[s]} ${s}`);
  return `${instances} instance${instances === 1 ? '' : 's'}` +
         (parts.length ? ': ' + parts.join(', ') : '');
}
// The worst state among `states` (a mapped task's colour), as the grid API orders them.
const BADNESS = ['success', 'skipped', 'cancelled', 'scheduled', 'queued', 'running',
                 'up_for_retry', 'upstream_failed', 'failed'];
function worstState(states) {
  return states.reduce((w, s) => (BADNESS.indexOf(s) > BADNESS.indexOf(w) ? s : w), states[0]);
}
// "convert[3]" -> "convert"; null for a task that is not a for_each instance.
function mapParent(taskId) {
  const m = /^(.*)\[\d+\]$/.exec(taskId || '');
  return m ? m[1] : null;
}
