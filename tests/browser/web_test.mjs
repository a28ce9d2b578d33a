// Walks the web page in headless Chromium: DAG list, grid, run, a log followed live, a trigger from
// the page, and a hostile DAG description shown as text. Usage: node web_test.mjs BASE OUT CHROMIUM
import {chromium} from 'playwright-core';

const [base, out, executablePath] = process.argv.slice(2);
const deadline = 60000;
let failures = 0;
function check(ok, what) {
  console.log((ok ? 'ok   ' : 'FAIL ') + what);
  if (!ok) failures++;
}
async function api(path) {
  const res = await fetch(base + path);
  return res.json();
}
async function waitFor(fn, what) {
  const end = Date.now() + deadline;
  while (Date.now() < end) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out waiting for ' + what);
}

const browser = await chromium.launch({executablePath, args: ['--no-sandbox']});
const page = await browser.newPage({viewport: {width: 1280, height: 800}});
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(String(e)));
page.on('console', (m) => {
  // The refused action below answers 403 on purpose; the browser logs that as an error.
  if (m.type() === 'error' && !m.text().includes('status of 403')) pageErrors.push(m.text());
});
// No network: every request must go to the scheduler itself.
const foreign = [];
await page.route('**/*', (route) => {
  const url = route.request().url();
  if (url.startsWith(base)) return route.continue();
  foreign.push(url);
  return route.abort();
});

try {
  // DAG list.
  await page.goto(base + '/');
  await page.waitForSelector('table.dags a[href="/dags/web_demo"]');
  await page.waitForSelector('table.dags .sq.s-success');
  const desc = await page.textContent('table.dags tr:has(a[href="/dags/web_demo"]) .desc');
  check(desc.includes('<script>window.__pwned = 1</script>'), 'hostile description shown as text');
  check(await page.evaluate(() => window.__pwned === undefined), 'hostile description not run');
  check(await page.locator('main img, main script').count() === 0, 'no element from the text');
  await page.fill('input.filter', 'slow');
  await waitFor(async () => (await page.locator('table.dags tbody tr').count()) === 1, 'filter');
  check(await page.locator('a[href="/dags/web_slow"]').count() === 1, 'filter keeps web_slow');
  await page.fill('input.filter', '');
  await page.waitForSelector('#health .dot.ok');
  await page.screenshot({path: out + '/dags.png', fullPage: true});

  // Grid: two runs so far, newest right; then a trigger from the page with conf.
  await page.click('a[href="/dags/web_demo"]');
  await page.waitForSelector('table.grid');
  check(page.url() === base + '/dags/web_demo', 'grid has a shareable URL');
  const cols = () => page.locator('table.grid tr.bars td').count();
  check(await cols() === 2, 'grid shows the two runs');
  check(await page.locator('table.grid th.task').allTextContents().then(
      (t) => t.join(',') === 'extract,transform,flaky,load'), 'grid rows are the tasks');
  const tip = await page.getAttribute('table.grid tbody tr:nth-child(3) td:last-child .sq', 'title');
  check(/flaky · success\ntry 2 of 2/.test(tip || ''), 'cell hover names state and tries: ' + tip);
  await page.waitForSelector('svg.graph .node');
  await page.screenshot({path: out + '/grid.png', fullPage: true});
  await page.fill('textarea.conf', 'who=browser');
  await page.click('form.trigger button');
  await waitFor(async () => (await cols()) === 3, 'the triggered run in the grid');
  const runs = await api('/api/v1/runs?dag=web_demo');
  const mine = runs.runs.find((r) => r.conf && r.conf.who === 'browser');
  check(!!mine, 'the page triggered a real run with conf who=browser');

  // Run view of that run, once it is done.
  await waitFor(async () => (await api('/api/v1/runs/' + mine.runId)).state === 'success',
                'the triggered run to succeed');
  await page.goto(base + '/runs/' + encodeURIComponent(mine.runId));
  await page.waitForSelector('svg.gantt rect');
  await waitFor(async () => (await page.locator('main table.list tbody tr').count()) === 4,
                'the task table');
  check((await page.textContent('main')).includes('"who": "browser"'), 'run shows its conf');
  check(await page.locator('svg.gantt rect').count() === 5, 'gantt has 5 attempts (one retry)');
  await page.screenshot({path: out + '/run.png', fullPage: true});

  // A for_each task over 50 items: one grid row with the counts, coloured by the worst state,
  // its trigger_rule shown; the run view groups the instances and expands to them.
  await page.goto(base + '/dags/web_mapped');
  await page.waitForSelector('table.grid .sq.mapped');
  const labels = await page.locator('table.grid th.task').allTextContents();
  check(labels.length === 2 && labels[0] === 'convert [50]' && labels[1] === 'reportall_done',
        'one grid row per mapped task, with its instance count and rule: ' + labels.join(','));
  const mapped = page.locator('table.grid tbody tr:nth-child(1) .sq.mapped');
  const mtip = await mapped.getAttribute('title');
  check(/convert · failed\n50 instances: 48 success, 2 failed/.test(mtip || ''),
        'the mapped cell counts its instances by state: ' + mtip);
  check(/\bs-failed\b/.test(await mapped.getAttribute('class')), 'coloured by the worst state');
  check(/\bs-success\b/.test(await page.getAttribute(
        'table.grid tbody tr:nth-child(2) .sq', 'class')), 'the all_done report ran');
  await page.screenshot({path: out + '/grid_mapped.png', fullPage: true});
  await mapped.click();
  await page.waitForSelector('main table.list tr.mapped');
  const visible = () => page.locator('main table.list tbody tr:visible').count();
  // Opened from the grid cell: its instances are listed; the button folds them.
  await waitFor(async () => (await visible()) === 52, 'the instances, opened from the grid');
  check((await page.textContent('tr.mapped .mapsum')) === '50 instances: 48 success, 2 failed',
        'the run view counts the instances');
  await page.screenshot({path: out + '/run_mapped.png', fullPage: true});
  await page.click('tr.mapped button.expand');
  await waitFor(async () => (await visible()) === 2, 'the instances folded');
  check(await page.locator('svg.gantt text.glabel').count() === 2,
        'the Gantt has a row per task, not per instance');
  await page.screenshot({path: out + '/run_mapped_folded.png', fullPage: true});
  await page.click('tr.mapped button.expand');
  await waitFor(async () => (await visible()) === 52, 'the instances expanded again');
  check((await page.textContent('main table.list')).includes('convert[49]'),
        'the expanded rows are the instances');

  // A log followed while the task prints.
  const slow = await (await fetch(base + '/api/v1/dags/web_slow/trigger', {method: 'POST',
      headers: {'X-De-Csrf': '1', 'Content-Type': 'application/json'}, body: '{}'})).json();
  await waitFor(async () => {
    const r = await api('/api/v1/runs/' + slow.runId);
    return (r.attempts || []).length > 0;
  }, 'tick to start');
  await page.goto(`${base}/runs/${encodeURIComponent(slow.runId)}/tick/1`);
  await page.waitForFunction(() => document.querySelector('#log').textContent.includes('tick line 1'));
  const early = await page.textContent('#log');
  check(!early.includes('tick line 8'), 'the log is shown before the task ends');
  check((await page.textContent('.follow')) === 'following…', 'the log says it follows');
  await page.screenshot({path: out + '/log_live.png', fullPage: true});
  await page.waitForFunction(() => document.querySelector('.follow').textContent === 'finished',
                             null, {timeout: deadline});
  const full = await page.textContent('#log');
  const lines = full.split('\n').filter((l) => l.startsWith('tick line'));
  check(lines.length === 8 && lines[7] === 'tick line 8', 'the followed log has every line once');
  await page.screenshot({path: out + '/log.png', fullPage: true});

  // A waiting run says what it waits for, in the grid and in the run view.
  await waitFor(async () => {
    const up = await api('/api/v1/runs?dag=web_up');
    return (up.runs || []).length === 3 && up.runs.every((r) => r.state === 'success' ||
                                                              r.state === 'failed');
  }, 'the three web_up runs to end');
  await page.goto(base + '/dags/web_wait');
  await page.waitForSelector('ul.waits li');
  const why = await page.textContent('ul.waits li');
  check(why.includes('web_up: 2 of 3 intervals done; missing 2024-01-02'),
        'the grid says what the waiting run misses: ' + why);
  await page.screenshot({path: out + '/waiting.png', fullPage: true});
  await page.click('ul.waits li a');
  await page.waitForSelector('main table');
  await waitFor(async () => (await page.textContent('main')).includes('missing 2024-01-02'),
                'the run view to say what it waits for');

  // The other pages render.
  for (const [path, sel, name] of [['/workers', 'main table.list', 'workers'],
                                   ['/backfills', 'main .empty, main table', 'backfills'],
                                   ['/alerts', 'main .empty, main table', 'alerts']]) {
    await page.goto(base + path);
    await page.waitForSelector(sel);
    await page.screenshot({path: `${out}/${name}.png`, fullPage: true});
  }
  check((await page.textContent('body')).includes('Alerts'), 'alerts page');
  await page.goto(base + '/workers');
  await page.waitForSelector('main table.list');
  check((await page.textContent('main')).includes('w1'), 'workers page lists w1');

  // Refused actions: the page turns read-only (a token the server does not accept).
  await page.route('**/api/v1/dags/*/pause', (route) => route.fulfill({status: 403,
      contentType: 'application/json',
      body: '{"error":{"code":"PERMISSION_DENIED","message":"viewer token"}}'}));
  await page.goto(base + '/');
  await page.waitForSelector('table.dags button');
  await page.click('table.dags tr:has(a[href="/dags/web_demo"]) button:text("Pause")');
  await page.waitForSelector('#mode.ro');
  check((await page.textContent('#mode')) === 'read-only', 'a refused action shows read-only');
  check(!(await page.isVisible('table.dags button')), 'read-only hides the actions');
} catch (e) {
  console.log('FAIL ' + e.message);
  failures++;
  await page.screenshot({path: out + '/failure.png', fullPage: true}).catch(() => {});
}
check(foreign.length === 0, 'nothing loaded from elsewhere: ' + foreign.join(' '));
check(pageErrors.length === 0, 'no script errors: ' + pageErrors.join(' | '));
await browser.close();
console.log(failures ? `${failures} failed` : 'all passed');
process.exit(failures ? 1 : 0);
