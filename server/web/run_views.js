// Views of one run (task table, Gantt of attempts), one attempt's log (followed live), and the
// backfill, worker and alert lists.
'use strict';

function gantt(run) {
  const attempts = (run.attempts || []).slice();
  if (!attempts.length) return h('div', {class: 'empty'}, 'No attempts yet.');
  // One row per task: a for_each task's instances share its row (1,000 rows would be unreadable).
  const order = (run.tasks || []).filter((t) => !mapParent(t.taskId)).map((t) => t.taskId);
  const t0 = Math.min(...attempts.map((a) => num(a.startedAtMs)));
  const t1 = Math.max(...attempts.map((a) => num(a.endedAtMs) || Date.now()));
  const total = Math.max(1, t1 - t0);
  const LW = 170, W = 720, RH = 22;
  const svg = h('svg', {class: 'gantt', width: LW + W + 10, height: order.length * RH + 24,
                        viewBox: `0 0 ${LW + W + 10} ${order.length * RH + 24}`});
  order.forEach((task, i) => {
    svg.append(h('text', {x: 4, y: i * RH + 15, class: 'glabel'}, task));
    svg.append(h('line', {x1: LW, x2: LW + W, y1: i * RH + RH - 1, y2: i * RH + RH - 1,
                          class: 'grule'}));
  });
  for (const a of attempts) {
    const row = order.indexOf(mapParent(a.taskId) || a.taskId);
    if (row < 0) continue;
    const x = LW + W * (num(a.startedAtMs) - t0) / total;
    const w = Math.max(2, W * span(a.startedAtMs, a.endedAtMs) / total);
    svg.append(h('g', {class: 'glink',
                       onclick: () => go(`/runs/${enc(run.runId)}/${enc(a.taskId)}/${a.tryNumber}`)},
      h('rect', {x: x, y: row * RH + 4, width: w, height: RH - 8, rx: 3, class: 'n-' + a.state},
        h('title', null, `${a.taskId} try ${a.tryNumber} · ${a.state} · ` +
                         `${fmtDuration(span(a.startedAtMs, a.endedAtMs))} on ${a.worker}`))));
  }
  svg.append(h('text', {x: LW, y: order.length * RH + 18, class: 'gaxis'}, fmtTime(t0, true)),
             h('text', {x: LW + W, y: order.length * RH + 18, class: 'gaxis end'},
               '+' + fmtDuration(total)));
  return svg;
}

// One row of the run's task table.
function taskRow(runId, t, extra) {
  return h('tr', extra,
    h('td', null, t.tryNumber ? link(`/runs/${enc(runId)}/${enc(t.taskId)}/${t.tryNumber}`,
                                     t.taskId) : t.taskId,
      h('span', {class: 'muted'}, ' ' + (t.type || ''))),
    h('td', null, stateBadge(t.state)),
    h('td', null, `${t.tryNumber || 0}/${t.maxTries || 1}`),
    h('td', null, t.worker || ''),
    h('td', null, fmtTime(t.queuedAtMs, true)), h('td', null, fmtTime(t.startedAtMs, true)),
    h('td', null, fmtTime(t.endedAtMs, true)),
    h('td', null, num(t.startedAtMs) ? fmtDuration(span(t.startedAtMs, t.endedAtMs)) : ''),
    h('td', {class: 'err'}, t.error || ''));
}

// The task table: a for_each task is one row with its instances' counts, coloured by the worst,
// that expands (its button, or ?open=TASK) to a row per instance. `open`: the expanded tasks.
function taskTable(runId, tasks, open) {
  const inst = {};
  for (const t of tasks) {
    const p = mapParent(t.taskId);
    if (p) (inst[p] = inst[p] || []).push(t);
  }
  const rows = [];
  for (const t of tasks) {
    if (mapParent(t.taskId)) continue;
    const mine = inst[t.taskId];
    if (!mine) {
      rows.push(taskRow(runId, t));
      continue;
    }
    const by = {};
    for (const i of mine) by[i.state] = (by[i.state] || 0) + 1;
    const worst = worstState(mine.map((i) => i.state));
    const isOpen = open.has(t.taskId);
    const tr = taskRow(runId, t, {class: 'mapped'});
    tr.children[0].append(' ', h('button', {class: 'expand', 'aria-expanded': String(isOpen),
        onclick: () => {
          if (open.has(t.taskId)) open.delete(t.taskId); else open.add(t.taskId);
          const now = open.has(t.taskId);
          for (const r of tr.parentNode.querySelectorAll(`tr.inst[data-of="${CSS.escape(t.taskId)}"]`)) {
            r.classList.toggle('closed', !now);
          }
          const b = tr.querySelector('button.expand');
          b.setAttribute('aria-expanded', String(now));
          b.textContent = now ? 'hide instances' : 'show instances';
        }}, isOpen ? 'hide instances' : 'show instances'));
    tr.children[1].replaceChildren(stateBadge(t.state), ' ',
        h('span', {class: 'mapsum'}, h('span', {class: 'sq s-' + worst}), mapSummary(mine.length, by)));
    rows.push(tr);
    for (const i of mine) {
      rows.push(taskRow(runId, i, {class: 'inst' + (isOpen ? '' : ' closed'), 'data-of': t.taskId}));
    }
  }
  return table(['Task', 'State', 'Tries', 'Worker', 'Queued', 'Started', 'Ended', 'Duration', ''],
               rows);
}

function viewRun(root, params, query) {
  const runId = params.run;
  const open = new Set(query && query.get('open') ? [query.get('open')] : []);
  const head = h('div'), tasks = h('div'), chart = h('div', {class: 'gridwrap'});
  root.append(head, section('Tasks', tasks), section('Gantt', chart));
  return {update: async (alive) => {
    const r = await apiGet('/api/v1/runs/' + enc(runId));
    if (!alive()) return;
    const active = ['waiting', 'queued', 'running'].includes(r.state);
    const conf = r.conf && Object.keys(r.conf).length ? JSON.stringify(r.conf, null, 1) : null;
    head.replaceChildren(
      h('div', {class: 'bar'}, h('h1', null, link('/', 'DAGs'), ' / ',
          link('/dags/' + enc(r.dagId), r.dagId), ' / ', fmtTime(r.logicalDateMs)),
        stateBadge(r.state), h('span', {class: 'tag'}, r.runType), h('span', {class: 'grow'}),
        h('span', {class: 'action'},
          active ? h('button', {onclick: () => act('Cancel', `/api/v1/runs/${enc(runId)}/cancel`)},
                           'Cancel run') : null,
          !active ? h('button', {onclick: () => act('Clear failed', `/api/v1/runs/${enc(runId)}/clear`,
                                                   {failedOnly: true})}, 'Clear failed') : null,
          !active ? h('button', {class: 'primary', onclick: () => act('Clear',
              `/api/v1/runs/${enc(runId)}/clear`, {})}, 'Re-run all') : null)),
      kv([['run', r.runId], ['DAG version', String(r.dagVersion)],
          ['interval', `${fmtTime(r.dataIntervalStartMs)} → ${fmtTime(r.dataIntervalEndMs)}`],
          ['started', fmtTime(r.startedAtMs, true)], ['ended', fmtTime(r.endedAtMs, true)],
          ['duration', num(r.startedAtMs) ? fmtDuration(span(r.startedAtMs, r.endedAtMs)) : null],
          ['deadline', num(r.deadlineMs) ? fmtTime(r.deadlineMs) +
              (num(r.deadlineMissedAtMs) ? ' (missed)' : '') : null],
          ['reason', r.reason], ['backfill', r.backfillId],
          ['waiting on', (r.waitingOn || []).join('; ')],
          ['conf', conf ? h('pre', {class: 'conf'}, conf) : null]]));
    tasks.replaceChildren(taskTable(runId, r.tasks || [], open));
    chart.replaceChildren(gantt(r));
  }};
}

function b64text(data) {
  if (!data) return '';
  const bin = atob(data);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new TextDecoder('utf-8').decode(bytes);
}

function viewLog(root, params) {
  const {run, task} = params;
  const tryNo = Number(params.try) || 0;
  const status = h('span', {class: 'follow'}, 'loading…');
  const pre = h('pre', {class: 'log', id: 'log'});
  root.append(h('div', {class: 'bar'}, h('h1', null, link('/runs/' + enc(run), run), ' / ', task,
                                         ' / try ' + tryNo), status), pre);
  let offset = 0, finished = false;
  return {update: async (alive) => {
    while (!finished) {
      const r = await apiGet(`/api/v1/runs/${enc(run)}/tasks/${enc(task)}/logs?try=${tryNo}` +
                             `&offset=${offset}`);
      if (!alive()) return;
      const text = b64text(r.data);
      const atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 30;
      if (text) pre.append(document.createTextNode(text));
      offset = num(r.nextOffset);
      finished = !!r.finished;
      status.textContent = finished ? 'finished' : 'following…';
      status.className = 'follow' + (finished ? '' : ' live');
      if (text && atBottom) window.scrollTo(0, document.body.scrollHeight);
      if (!text) break;     // nothing new: wait for the next poll
    }
  }};
}

function progress(done, failed, total) {
  const bar = h('div', {class: 'progress', title: `${done} done, ${failed} failed of ${total}`},
                h('div', {class: 'p-ok'}), h('div', {class: 'p-bad'}));
  bar.children[0].style.width = (total ? 100 * done / total : 0) + '%';
  bar.children[1].style.width = (total ? 100 * failed / total : 0) + '%';
  return bar;
}

// A page listing `key` of GET `path`: a table with `columns` (`row` makes each row), or `empty`.
function listView(root, {title, path, key, columns, row, empty}) {
  const body = h('div');
  root.append(h('div', {class: 'bar'}, h('h1', null, title)), body);
  return {update: async (alive) => {
    const out = await apiGet(path);
    if (!alive()) return;
    const list = out[key] || [];
    body.replaceChildren(list.length ? table(columns, list.map(row))
                                     : h('div', {class: 'empty'}, empty));
  }};
}

function backfillRow(b) {
  const by = b.runsByState || {};
  const done = by.success || 0, failed = (by.failed || 0) + (by.cancelled || 0);
  return h('tr', null, h('td', null, b.backfillId),
    h('td', null, link('/dags/' + enc(b.dagId), b.dagId)),
    h('td', null, `${fmtTime(b.fromMs)} → ${fmtTime(b.toMs)}`),
    h('td', null, stateBadge(b.state)),
    h('td', null, progress(done, failed, b.total || 0),
      h('span', {class: 'muted'}, ` ${done}/${b.total || 0}`)),
    h('td', {class: 'action'}, b.state === 'running' ? h('button', {onclick: () =>
        act('Cancel backfill', `/api/v1/backfills/${enc(b.backfillId)}/cancel`)},
        'Cancel') : null));
}

function viewBackfills(root) {
  return listView(root, {title: 'Backfills', path: '/api/v1/backfills', key: 'backfills',
                         columns: ['Backfill', 'DAG', 'Range', 'State', 'Progress', ''],
                         row: backfillRow,
                         empty: 'No backfills. dectl backfill DAG --from … --to …'});
}

function viewWorkers(root) {
  return listView(root, {title: 'Workers', path: '/api/v1/workers', key: 'workers',
    columns: ['Worker', 'State', 'Slots', 'Pools', 'Version', 'Last seen'],
    row: (w) => h('tr', null, h('td', null, h('b', null, w.name)),
      h('td', null, stateBadge(w.state)),
      h('td', null, progress(w.busy || 0, 0, w.slots || 0),
        h('span', {class: 'muted'}, ` ${w.busy || 0}/${w.slots || 0} busy`)),
      h('td', null, (w.pools || []).join(', ') || 'default'),
      h('td', null, w.version || ''), h('td', null, fmtAgo(w.lastSeenMs))),
    empty: 'No worker has connected.'});
}

function viewAlerts(root) {
  return listView(root, {title: 'Alerts', path: '/api/v1/alerts?limit=200', key: 'alerts',
    columns: ['When', 'DAG', 'Event', 'Channel', 'State', 'Attempts', 'Last error'],
    row: (a) => h('tr', null, h('td', null, fmtTime(a.createdAtMs, true)),
      h('td', null, a.dagId ? link('/dags/' + enc(a.dagId), a.dagId) : ''),
      h('td', null, a.runId ? link('/runs/' + enc(a.runId), a.event) : a.event),
      h('td', null, a.channel),
      h('td', null, stateBadge(a.state === 'sent' ? 'delivered' : a.state)),
      h('td', null, String(a.attempts || 0)), h('td', {class: 'err'}, a.lastError || '')),
    empty: 'No alert deliveries.'});
}

function viewNotFound(root, params) {
  root.append(h('div', {class: 'empty'}, 'No such page: ' + params.path));
  return null;
}
