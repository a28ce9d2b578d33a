// The page's shell: client-side routing (shareable URLs; the server answers index.html for every
// page path), polling every 2 s, the health strip, the token box and read-only mode.
'use strict';

const POLL_MS = 2000;
let current = null;     // {update} of the view on screen
let generation = 0;     // bumps on navigation so a stale poll does not paint
let readOnly = false;

function toast(msg, bad) {
  const t = document.getElementById('toast');
  t.textContent = msg;
  t.className = 'toast' + (bad ? ' bad' : '');
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 4000);
}

function setMode() {
  const m = document.getElementById('mode');
  m.textContent = readOnly ? 'read-only' : (token() ? 'token set' : '');
  m.className = 'mode' + (readOnly ? ' ro' : '');
  document.body.classList.toggle('read-only', readOnly);
}

// Runs an action (a POST); refusals (401/403) switch the page to read-only.
async function act(label, path, body) {
  try {
    const out = await apiPost(path, body);
    toast(label + ': done');
    refresh();
    return out;
  } catch (e) {
    if (e.status === 401 || e.status === 403) {
      readOnly = true;
      setMode();
      toast(label + ' refused: read-only (' + e.message + ')', true);
    } else {
      toast(label + ' failed: ' + e.message, true);
    }
    return null;
  }
}

function route(path) {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return [viewDags, {}];
  if (parts[0] === 'dags' && parts.length === 2) return [viewGrid, {dag: parts[1]}];
  if (parts[0] === 'runs' && parts.length === 2) return [viewRun, {run: parts[1]}];
  if (parts[0] === 'runs' && parts.length === 4) {
    return [viewLog, {run: parts[1], task: parts[2], try: parts[3]}];
  }
  if (parts[0] === 'backfills') return [viewBackfills, {}];
  if (parts[0] === 'workers') return [viewWorkers, {}];
  if (parts[0] === 'alerts') return [viewAlerts, {}];
  return [viewNotFound, {path: path}];
}

function render() {
  generation++;
  const main = document.getElementById('main');
  main.replaceChildren();
  const [view, params] = route(location.pathname);
  const query = new URLSearchParams(location.search);
  current = view(main, params, query);
  for (const a of document.querySelectorAll('header nav a')) {
    const p = a.getAttribute('href');
    a.classList.toggle('on', p === '/' ? location.pathname === '/' ||
                       location.pathname.startsWith('/dags') || location.pathname.startsWith('/runs')
                       : location.pathname.startsWith(p));
  }
  refresh();
}

async function refresh() {
  const g = generation;
  const view = current;
  if (!view || !view.update) return;
  try {
    await view.update(() => g === generation);
    document.body.classList.remove('stale');
  } catch (e) {
    if (g !== generation) return;
    if (e.status === 401 || e.status === 403) {
      document.getElementById('main').replaceChildren(
          h('div', {class: 'empty'}, 'Not allowed: ' + e.message + '. Enter a token above.'));
    } else if (e.status === 404) {
      document.getElementById('main').replaceChildren(h('div', {class: 'empty'}, e.message));
      current = null;
    } else {
      if (!(e instanceof ApiError) && !(e instanceof TypeError && /fetch/i.test(e.message))) {
        console.error(e);   // a bug of the page, not the network
      }
      document.body.classList.add('stale');
    }
  }
}

async function updateHealth() {
  const el = document.getElementById('health');
  try {
    const hl = await apiGet('/api/v1/health');
    const runs = hl.runsByState || {}, tasks = hl.tasksByState || {};
    el.replaceChildren(h('span', {class: 'strip'},
        h('span', {class: 'dot ok'}), 'up ' + fmtDuration(num(hl.nowMs) - num(hl.startedAtMs)),
        h('span', {class: 'sep'}), `${hl.workersConnected || 0} workers`,
        h('span', {class: 'sep'}), `${hl.busy || 0}/${hl.slots || 0} slots`,
        h('span', {class: 'sep'}), `${runs.running || 0} running`,
        h('span', {class: 'sep'}), `${(tasks.queued || 0)} queued`,
        runs.waiting ? [h('span', {class: 'sep'}), `${runs.waiting} waiting`] : null,
        h('span', {class: 'ver'}, 'v' + (hl.version || ''))));
  } catch (e) {
    el.replaceChildren(h('span', {class: 'dot bad'}), e.status ? 'error ' + e.status
                                                                : 'scheduler unreachable');
  }
}

function go(path) {
  history.pushState(null, '', path);
  render();
}

document.addEventListener('click', (ev) => {
  const a = ev.target.closest('a[data-link]');
  if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
  ev.preventDefault();
  if (a.getAttribute('href') !== location.pathname + location.search) {
    history.pushState(null, '', a.getAttribute('href'));
  }
  render();
});
window.addEventListener('popstate', render);

document.getElementById('token').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = document.getElementById('token-input');
  if (input.value) sessionStorage.setItem(TOKEN_KEY, input.value.trim());
  else sessionStorage.removeItem(TOKEN_KEY);
  input.value = '';
  readOnly = false;
  setMode();
  render();
});

setMode();
render();
updateHealth();
setInterval(() => { refresh(); updateHealth(); }, POLL_MS);
