// The page's views. Each view(root, params, query) builds its fixed parts once and returns
// {update(alive)}, which fetches and repaints the parts that change (called every 2 s).
// Everything from the server goes in as text (h() and textContent), never as HTML.
'use strict';

function section(title, ...rest) {
  return h('section', {class: 'card'}, h('h2', null, title), ...rest);
}
function kv(pairs) {
  return h('dl', {class: 'kv'}, pairs.filter((p) => p[1] !== null && p[1] !== '' &&
                                            p[1] !== undefined)
      .map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}
function table(headers, rows, cls) {
  return h('table', {class: cls || 'list'}, h('thead', null, h('tr', null, headers.map(
      (x) => h('th', null, x)))), h('tbody', null, rows));
}

// A trigger form: conf as lines of key=value (or a JSON object).
function triggerForm(dag) {
  const conf = h('textarea', {class: 'conf', rows: 2, placeholder: 'conf: key=value per line'});
  const parse = () => {
    const text = conf.value.trim();
    if (!text) return {};
    if (text.startsWith('{')) {
      const o = JSON.parse(text);
      return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));
    }
    const out = {};
    for (const line of text.split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    }
    return out;
  };
  const go = async (ev) => {
    ev.preventDefault();
    let c;
    try { c = parse(); } catch (e) { toast('conf is not valid JSON: ' + e.message, true); return; }
    const run = await act('Trigger ' + dag, `/api/v1/dags/${enc(dag)}/trigger`, {conf: c});
    if (run) conf.value = '';
  };
  return h('form', {class: 'trigger action', onsubmit: go}, conf,
           h('button', {type: 'submit', class: 'primary'}, 'Trigger'));
}

function runSquare(r) {
  return link('/runs/' + enc(r.runId),
              h('span', {class: 'sq s-' + r.state,
                         title: `${fmtTime(r.logicalDateMs)} · ${r.runType} · ${r.state}`}));
}

// ---- DAG list ----
function viewDags(root) {
  const filter = h('input', {class: 'filter', type: 'search', placeholder: 'Filter DAGs',
                             'aria-label': 'Filter DAGs', oninput: () => paint()});
  const body = h('tbody');
  root.append(h('div', {class: 'bar'}, h('h1', null, 'DAGs'), filter),
              h('table', {class: 'list dags'},
                h('thead', null, h('tr', null, ['DAG', 'Schedule', 'Last 20 runs', 'Last success',
                                                'Next run', ''].map((x) => h('th', null, x)))),
                body));
  let dags = [];
  function paint() {
    const q = filter.value.trim().toLowerCase();
    const rows = dags.filter((d) => !q || d.summary.dagId.toLowerCase().includes(q) ||
                             (d.summary.description || '').toLowerCase().includes(q))
        .map((d) => {
          const s = d.summary;
          const runs = (d.recentRuns || []).slice().reverse();   // oldest left, newest right
          return h('tr', {class: s.paused ? 'paused' : ''},
            h('td', null, link('/dags/' + enc(s.dagId), h('b', null, s.dagId)),
              s.paused ? h('span', {class: 'tag'}, 'paused') : null,
              h('div', {class: 'desc'}, s.description || '')),
            h('td', {title: s.schedule || ''}, scheduleWords(s.schedule),
              s.timezone && s.timezone !== 'UTC' ? h('span', {class: 'muted'}, ' ' + s.timezone)
                                                  : null),
            h('td', {class: 'squares'}, runs.map(runSquare)),
            h('td', null, d.lastSuccessAtMs ? fmtAgo(d.lastSuccessAtMs) : h('span',
                {class: 'muted'}, 'never')),
            h('td', null, num(s.nextRunLogicalDateMs) ? fmtTime(s.nextRunLogicalDateMs) :
                h('span', {class: 'muted'}, s.schedule ? '—' : 'manual')),
            h('td', {class: 'actions action'},
              h('button', {onclick: () => act((s.paused ? 'Unpause ' : 'Pause ') + s.dagId,
                  `/api/v1/dags/${enc(s.dagId)}/${s.paused ? 'unpause' : 'pause'}`)},
                s.paused ? 'Unpause' : 'Pause'),
              h('button', {class: 'primary', disabled: s.paused,
                           onclick: () => act('Trigger ' + s.dagId,
                                              `/api/v1/dags/${enc(s.dagId)}/trigger`, {})},
                'Trigger')));
        });
    body.replaceChildren(...(rows.length ? rows : [h('tr', null, h('td', {colspan: 6,
        class: 'empty'}, dags.length ? 'No DAG matches.' : 'No DAGs yet: dectl dag submit FILE'))]));
  }
  return {update: async (alive) => {
    const out = await apiGet('/api/v1/dags');
    if (!alive()) return;
    dags = out.dags || [];
    paint();
  }};
}

// ---- Graph: tasks in layers by longest path from a root ----
function graphSvg(tasks, states) {
  const byId = Object.fromEntries(tasks.map((t) => [t.taskId, t]));
  const depth = {};
  const d = (id, seen) => {
    if (depth[id] !== undefined) return depth[id];
    if (seen.has(id)) return 0;
    seen.add(id);
    const needs = (byId[id] && byId[id].needs) || [];
    depth[id] = needs.length ? 1 + Math.max(...needs.map((n) => d(n, seen))) : 0;
    return depth[id];
  };
  tasks.forEach((t) => d(t.taskId, new Set()));
  const layers = [];
  tasks.forEach((t) => { (layers[depth[t.taskId]] = layers[depth[t.taskId]] || []).push(t); });
  const W = 150, H = 34, GX = 50, GY = 14;
  const pos = {};
  layers.forEach((l, x) => l.forEach((t, y) => { pos[t.taskId] = [x * (W + GX), y * (H + GY)]; }));
  const width = layers.length * (W + GX) - GX;
  const height = Math.max(...layers.map((l) => l.length)) * (H + GY) - GY;
  const svg = h('svg', {class: 'graph', width: width + 2, height: height + 2,
                        viewBox: `-1 -1 ${width + 2} ${height + 2}`});
  for (const t of tasks) {
    for (const n of t.needs || []) {
      if (!pos[n]) continue;
      const [x1, y1] = pos[n], [x2, y2] = pos[t.taskId];
      svg.append(h('path', {class: 'edge', d: `M${x1 + W},${y1 + H / 2} C${x1 + W + GX / 2},` +
                            `${y1 + H / 2} ${x2 - GX / 2},${y2 + H / 2} ${x2},${y2 + H / 2}`}));
    }
  }
  for (const t of tasks) {
    const [x, y] = pos[t.taskId];
    const st = (states && states[t.taskId]) || 'none';
    svg.append(h('g', {class: 'node'},
      h('rect', {x: x, y: y, width: W, height: H, rx: 6, class: 'n-' + st}),
      h('text', {x: x + 10, y: y + 21}, t.taskId.length > 18 ? t.taskId.slice(0, 17) + '…' :
                                          t.taskId),
      h('title', null, `${t.taskId} (${t.type})` + (states ? ' · ' + st : ''))));
  }
  return svg;
}

// ---- Grid of one DAG ----
function viewGrid(root, params, query) {
  const dag = params.dag;
  const limit = Math.min(1000, Math.max(1, Number(query.get('limit')) || 25));
  const head = h('div');
  const grid = h('div', {class: 'gridwrap'});
  const waits = h('div');
  const graph = h('div', {class: 'graphwrap'});
  root.append(head, section('Grid', grid), waits, section('Graph', graph));
  let painted = false;
  return {update: async (alive) => {
    const [d, g] = await Promise.all([apiGet('/api/v1/dags/' + enc(dag)),
        apiGet(`/api/v1/dags/${enc(dag)}/grid?limit=${limit}`)]);
    if (!alive()) return;
    const s = d.summary;
    const cols = (g.columns || []).slice().reverse();   // newest right
    const runs = cols.map((c) => c.run);
    head.replaceChildren(
      h('div', {class: 'bar'}, h('h1', null, link('/', 'DAGs'), ' / ', s.dagId),
        s.paused ? h('span', {class: 'tag'}, 'paused') : null,
        h('span', {class: 'muted'}, scheduleWords(s.schedule)),
        h('span', {class: 'grow'}),
        h('button', {class: 'action', onclick: () => act((s.paused ? 'Unpause ' : 'Pause ') + dag,
            `/api/v1/dags/${enc(dag)}/${s.paused ? 'unpause' : 'pause'}`)},
          s.paused ? 'Unpause' : 'Pause')),
      h('p', {class: 'desc'}, s.description || ''),
      h('div', {class: 'row'}, kv([['version', String(s.version)],
          ['next run', num(s.nextRunLogicalDateMs) ? fmtTime(s.nextRunLogicalDateMs) : null],
          ['tasks', String(s.taskCount || 0)], ['timezone', s.timezone]]),
        painted ? head.querySelector('form.trigger') : triggerForm(dag)));
    painted = true;
    const rules = Object.fromEntries((d.tasks || []).map((t) => [t.taskId, t.triggerRule]));
    grid.replaceChildren(gridTable(g.taskIds || [], cols, rules));
    const waiting = runs.filter((r) => r.state === 'waiting' && (r.waitingOn || []).length);
    waits.replaceChildren(...(waiting.length ? [section('Waiting', h('ul', {class: 'waits'},
        waiting.map((r) => h('li', null, link('/runs/' + enc(r.runId), fmtTime(r.logicalDateMs)),
                                 ': ', r.waitingOn.join('; ')))))] : []));
    const latest = cols.length ? cols[cols.length - 1] : null;
    const states = latest ? Object.fromEntries((g.taskIds || []).map((t, i) =>
        [t, (latest.states || [])[i]]).filter(([, st]) => st)) : null;
    graph.replaceChildren((d.tasks || []).length ? graphSvg(d.tasks, states) : 'no tasks');
  }};
}

// A grid row's label: the task id, "[N]" for a for_each task (its latest run's instance
// count), and its trigger rule when it is not the default.
function gridLabel(task, i, cols, rules) {
  const counts = cols.map((c) => (c.mapCounts || [])[i] || {}).filter((m) => m.instances);
  const n = counts.length ? counts[counts.length - 1].instances : 0;
  const rule = rules[task];
  return h('th', {class: 'task'}, task,
    n ? h('span', {class: 'mapn', title: 'for_each: one instance per item'}, ` [${n}]`) : null,
    rule && rule !== 'all_success' ? h('span', {class: 'rule', title: 'trigger_rule'}, rule) : null);
}

// The grid: a column per run (cols: GridColumn, oldest first), a row per task id (a for_each
// task's row stands for its instances: counts on hover, coloured by the worst instance).
function gridTable(taskIds, cols, rules) {
  if (!cols.length) return h('div', {class: 'empty'}, 'No runs yet.');
  const runs = cols.map((c) => c.run);
  const maxDur = Math.max(1, ...runs.map((r) => span(r.startedAtMs, r.endedAtMs)));
  const bars = h('tr', {class: 'bars'}, h('th'), runs.map((r) => {
    const dur = span(r.startedAtMs, r.endedAtMs);
    const pct = Math.max(4, Math.round(100 * dur / maxDur));
    return h('td', null, link('/runs/' + enc(r.runId), h('div', {class: 'barbox',
        title: `${r.runId}\n${r.state} · ${r.runType} · ${fmtDuration(dur)}`},
      h('div', {class: 'durbar s-' + r.state, style: null, 'data-pct': pct}))));
  }));
  const dates = h('tr', {class: 'dates'}, h('th'), runs.map((r) => h('td', {
      title: fmtTime(r.logicalDateMs)}, h('span', {class: 'rt rt-' + r.runType},
      r.runType === 'manual' ? 'M' : r.runType === 'backfill' ? 'B' : ''), fmtDate(r.logicalDateMs))));
  const rows = taskIds.map((task, i) => h('tr', null, gridLabel(task, i, cols, rules),
    cols.map((c) => {
      const r = c.run, state = (c.states || [])[i];
      if (!state) return h('td', {class: 'cell'});
      const m = (c.mapCounts || [])[i] || {};
      const tries = (c.tries || [])[i] || 0, dur = Number((c.durationMs || [])[i] ?? -1);
      if (m.instances) {   // a for_each task: to the run view, which lists the instances
        const tip = `${task} · ${state}\n${mapSummary(m.instances, m.byState || {})}` +
                    (dur >= 0 ? ` · ${fmtDuration(dur)}` : '') + `\n${fmtTime(r.logicalDateMs)}`;
        return h('td', {class: 'cell'}, link(`/runs/${enc(r.runId)}?open=${enc(task)}`,
            h('span', {class: 'sq mapped s-' + (m.worstState || state), title: tip})));
      }
      const tip = `${task} · ${state}\ntry ${tries} of ${(c.maxTries || [])[i] || 1}` +
                  (dur >= 0 ? ` · ${fmtDuration(dur)}` : '') + `\n${fmtTime(r.logicalDateMs)}`;
      const href = tries ? `/runs/${enc(r.runId)}/${enc(task)}/${tries}` : '/runs/' + enc(r.runId);
      return h('td', {class: 'cell'}, link(href, h('span', {class: 'sq s-' + state,
          title: tip}, tries > 1 ? String(tries) : '')));
    })));
  const tbl = h('table', {class: 'grid'}, h('thead', null, bars, dates), h('tbody', null, rows));
  // Heights via CSSOM (not a style attribute: the CSP allows no inline styles).
  for (const b of tbl.querySelectorAll('.durbar')) b.style.height = b.dataset.pct + '%';
  return tbl;
}
