import { tmpdir } from 'node:os';
// The dashboard in a real browser: Debian's Chromium driven by playwright-core, against a real
// daemon running fake agents. Each view's screenshot goes to docs/screenshots/ (README links them).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Daemon } from '../../src/daemon/daemon.js';
import { api, fakeAgents, ROOT, startTestDaemon, TEST_TOKEN, waitJob, waitUntil } from '../helpers/daemon.js';
import { makeTempRepo, tempDir } from '../helpers/repo.js';
import { cancelledSwarms, SWARM_AGENT } from '../swarm/helpers.js';

// Browser globals used inside page.evaluate callbacks (this file compiles against Node's types).
declare const document: { documentElement: { scrollWidth: number; clientWidth: number }; activeElement: { blur?: () => void; textContent: string | null; id: string } | null };
declare const localStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
declare const location: { hash: string };
declare const innerHeight: number;
declare function scrollTo(x: number, y: number): void;

// The committed set is refreshed with COLONY_SCREENSHOTS=1; other runs write to a temp dir so a
// test run leaves the work tree clean.
const SCREENSHOTS = process.env.COLONY_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'screenshots') : join(tmpdir(), `colony-screenshots-${process.pid}`);
const WIDE = { width: 1100, height: 860 };
const NARROW = { width: 420, height: 860 };
/** What each view shows once its data is in. */
const READY: Record<string, string> = {
  jobs: 'li.job',
  job: '.event.agent.result',
  'merge-queue': '[data-state], ol.entries',
  reservations: 'li.run',
  swarms: 'li.swarm-row',
  swarm: '.board .task',
  memory: '.memories > li',
};

function findChromium(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' });
  const path = r.stdout.trim().split('\n')[0];
  return r.status === 0 && path ? path : undefined;
}

const executablePath = findChromium();
if (!executablePath) {
  if (process.env.CI === 'true') throw new Error('chromium is required under CI=true (apt-get install -y chromium)');
  console.warn('\n  ⚠ SKIPPED: dashboard browser tests — chromium not found (apt-get install -y chromium)\n');
}

describe.skipIf(!executablePath)('dashboard in Chromium', () => {
  let d: Daemon;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let repo: ReturnType<typeof makeTempRepo>;
  let scratch: ReturnType<typeof tempDir>;
  /** Console errors and uncaught exceptions of the signed-in page: there must be none. */
  const problems: string[] = [];

  beforeAll(async () => {
    repo = makeTempRepo({ 'README.md': '# demo\n', 'src/app.ts': 'export function main() {}\n' });
    scratch = tempDir('colony-browser-');
    // `chatty` prints many log lines: a long event list.
    const chatty = { type: 'command', argv: [process.execPath, '-e', 'for (let i = 1; i <= 1200; i++) console.log(`line ${i}`)'] };
    // `swarm` plans through Colony's MCP task tools, or fails on `[fail]` (test/swarm/helpers.ts).
    const swarm = { type: 'command', argv: [process.execPath, SWARM_AGENT] };
    d = await startTestDaemon(repo.dir, { max_concurrency: 2, agents: { ...fakeAgents(), chatty, swarm } });
    browser = await chromium.launch({
      executablePath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    context = await browser.newContext({ viewport: WIDE });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await d?.close();
    repo?.cleanup();
    scratch?.cleanup();
  });

  /** A screenshot of the view itself: passing notices (they close by themselves) are dismissed first. */
  const shot = async (name: string, p: Page = page): Promise<Buffer> => {
    const close = p.locator('.notice.info button');
    while ((await close.count()) > 0) await close.first().click();
    return p.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
  };
  const jobRow = (id: string) => page.locator(`li.job[data-job="${id}"]`);
  const openView = (name: string) => page.getByRole('navigation').getByRole('link', { name, exact: true }).click();

  it('says so when the token is wrong, and serves a public favicon', async () => {
    const fresh = await browser.newContext({ viewport: WIDE });
    const p = await fresh.newPage();
    await p.goto(d.url);
    await p.getByLabel(/API token/).fill('not-the-token');
    await p.getByRole('button', { name: 'Connect' }).click();
    await expect.poll(() => p.getByRole('alert').textContent()).toMatch(/Wrong token: the daemon refused it \(invalid token\)/);
    expect(await p.evaluate(() => localStorage.getItem('colony-token'))).toBeNull();
    await shot('login', p);
    // A stored token the daemon no longer accepts brings the same screen back, with why.
    await p.evaluate(() => localStorage.setItem('colony-token', 'rotated-away'));
    await p.reload();
    await expect.poll(() => p.getByRole('alert').textContent()).toMatch(/Wrong token: the daemon refused it/);
    await p.getByLabel(/API token/).waitFor();
    await fresh.close();

    const icon = await fetch(`${d.url}/favicon.ico`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toMatch(/^image\//);
  });

  it('signs in with the token and shows the jobs view', async () => {
    await page.goto(d.url);
    await page.getByLabel(/API token/).fill(TEST_TOKEN);
    await page.getByRole('button', { name: 'Connect' }).click();
    await page.getByRole('heading', { name: /^Run a job/ }).waitFor();
    await page.locator('.feed-live').waitFor();
    // The agent list comes from /v1/models.
    await expect.poll(() => page.locator('#agent option').allTextContents()).toContain('claude');
  });

  it('queues a job from the form and shows it run and complete live, without a reload', async () => {
    const release = join(scratch.dir, 'release-1');
    const started = join(scratch.dir, 'started-1');
    await page.getByLabel('Prompt').fill(`add a note [started:${started}] [block:${release}] [edit:notes.txt]`);
    await page.getByLabel('Agent').selectOption('claude');
    await page.getByRole('button', { name: 'Queue' }).click();
    const row = page.locator('li.job').first();
    await row.waitFor();
    const id = (await row.getAttribute('data-job'))!;
    await waitUntil(() => existsSync(started), 20_000, 'the agent to start');
    await page.locator(`li.job[data-job="${id}"][data-status="running"]`).waitFor();
    writeFileSync(release, '');
    await page.locator(`li.job[data-job="${id}"][data-status="completed"]`).waitFor();
    await expect.poll(() => jobRow(id).textContent()).toMatch(/1 file \+1 −0/);
  });

  it("opens a job's events, in view and readable: text, tool calls, results", async () => {
    const id = (await page.locator('li.job[data-status="completed"]').first().getAttribute('data-job'))!;
    await jobRow(id).getByRole('link', { name: `events of ${id}` }).click();
    expect(page.url()).toContain(`#job/${id}`);
    const events = page.locator('#events');
    await events.locator('.event.agent.result').waitFor();
    await expect.poll(() => page.getByRole('heading', { name: /^Events/ }).evaluate((el) => {
      const r = el.getBoundingClientRect();
      return r.top >= 0 && r.top < innerHeight;
    })).toBe(true);
    const text = (await events.innerText()).replace(/\s+/g, ' ');
    expect(text).toContain('working on: add a note');
    expect(text).toContain('⚙ Edit notes.txt');
    expect(text).toMatch(/↳ ok/);
    expect(text).toMatch(/Result/);
    expect(text).toMatch(/completed/);
    expect(text).not.toContain('{"type"');
    await shot('job');
  });

  it('pages a long event list and shows the raw events on demand', async () => {
    const { body } = await api(d.url, 'POST', '/execute', { prompt: 'talk a lot', agent: 'chatty' });
    await waitJob(d.url, body.job_id);
    await page.goto(`${d.url}/#job/${body.job_id}`);
    const events = page.locator('#events');
    await events.getByText('line 1200', { exact: true }).waitFor();
    await events.locator('.event.status').filter({ hasText: 'completed' }).waitFor();
    const total = (await page.getByRole('heading', { name: /^Events/ }).innerText()).match(/Events (\d+)/)![1]!;
    expect(Number(total)).toBeGreaterThan(1200);
    // The latest 500 at first (and a button for the earlier ones), 500 more per press.
    expect(await events.locator('li.event').count()).toBe(501);
    await events.getByRole('button', { name: 'Show 500 earlier events' }).click();
    await expect.poll(() => events.locator('li.event').count()).toBe(1001);
    await events.getByText('line 1', { exact: true }).waitFor({ state: 'detached' });
    await page.getByLabel('raw JSON').check();
    expect(await events.locator('.event.raw').first().innerText()).toMatch(/"type": "(status|log|agent)"/);
    await page.getByLabel('raw JSON').uncheck();
    expect(await events.locator('.event.raw').count()).toBe(0);
  });

  it('cancels a running job from the list with the Cancel button', async () => {
    await openView('Jobs');
    const started = join(scratch.dir, 'started-2');
    const { body } = await api(d.url, 'POST', '/execute', { prompt: `wait [started:${started}] [block:${join(scratch.dir, 'never')}]` });
    const id = body.job_id as string;
    await waitUntil(() => existsSync(started), 20_000, 'the agent to start');
    await page.locator(`li.job[data-job="${id}"][data-status="running"]`).waitFor();
    await jobRow(id).getByRole('button', { name: `cancel ${id}` }).click();
    await expect.poll(() => page.locator('.notice > span').allTextContents()).toContainEqual(expect.stringMatching(new RegExp(`^${id}: cancell(ed|ing…)$`)));
    await page.locator(`li.job[data-job="${id}"][data-status="cancelled"]`).waitFor();
    expect((await waitJob(d.url, id)).status).toBe('cancelled');
    expect(await page.locator('.notice.error').count()).toBe(0);
  });

  it('shows a refused action to the user', async () => {
    // Its own tab (same sign-in): Chromium logs the refused request as a console error.
    const p = await context.newPage();
    const logged: string[] = [];
    p.on('console', (m) => m.type() === 'error' && logged.push(m.text()));
    const started = join(scratch.dir, 'started-3');
    const release = join(scratch.dir, 'release-3');
    const { body } = await api(d.url, 'POST', '/execute', { prompt: `[started:${started}] [block:${release}]` });
    await p.goto(`${d.url}/#job/${body.job_id}`);
    await p.getByRole('button', { name: 'Cancel job' }).waitFor();
    // The job finishes just before the person's cancel reaches the daemon: it refuses, and the page says why.
    await waitUntil(() => existsSync(started), 20_000, 'the agent to start');
    writeFileSync(release, '');
    await waitJob(d.url, body.job_id);
    // The page's own cancel action (a string: vitest would rewrite a dynamic import in a function).
    await p.evaluate(`import('/ui/views/jobs.js').then((m) => m.cancelJob(${JSON.stringify(body.job_id)}))`);
    await expect.poll(() => p.locator('.notice.error > span').allTextContents()).toEqual([`Cancel ${body.job_id}: job ${body.job_id} already completed`]);
    expect(logged).toEqual([expect.stringMatching(/409/)]);
    await p.close();
  });

  it('pages beyond the first 50 jobs with the cursor', async () => {
    // Both slots busy, so the batch waits in the queue (cheap: no workspace, no process).
    const release = join(scratch.dir, 'release-4');
    const blockers: string[] = [];
    for (let i = 0; i < 2; i++) blockers.push((await api(d.url, 'POST', '/execute', { prompt: `hold [block:${release}]` })).body.job_id);
    const batch: string[] = [];
    for (let i = 0; i < 50; i++) batch.push((await api(d.url, 'POST', '/execute', { prompt: `batch job ${i}` })).body.job_id);
    expect((await api(d.url, 'GET', `/jobs/${batch[0]}`)).body.status).toBe('queued');
    await page.reload();
    await page.locator('li.job').first().waitFor();
    await expect.poll(() => page.locator('li.job').count()).toBe(50);
    await page.getByRole('button', { name: 'Load older jobs' }).click();
    await expect.poll(() => page.locator('li.job').count()).toBeGreaterThan(50);
    const total = (await api(d.url, 'GET', '/jobs?limit=1000')).body.jobs.length;
    expect(await page.locator('li.job').count()).toBe(total);
    expect(await page.getByRole('button', { name: 'Load older jobs' }).count()).toBe(0);
    await page.evaluate(() => scrollTo(0, 0));
    await shot('jobs');
    for (const id of batch) await api(d.url, 'POST', `/jobs/${id}/cancel`);
    await page.locator(`li.job[data-job="${batch[0]}"][data-status="cancelled"]`).waitFor();
    writeFileSync(release, '');
    for (const id of [...blockers, ...batch]) await waitJob(d.url, id, 60_000);
  });

  it('shows who holds which files and symbols, live', async () => {
    await openView('Reservations');
    await page.getByText('Nobody holds a reservation.').waitFor();
    const r = await api(d.url, 'POST', '/coord/reserve', { run_id: 'agent-ada', symbols: ['src/app.ts::main', 'docs/*.md'], ttl_seconds: 600 });
    expect(r.body.granted).toBe(true);
    await api(d.url, 'POST', '/coord/reserve', { run_id: 'agent-bo', symbols: ['README.md'], mode: 'shared' });
    const run = page.locator('li.run[data-run="agent-ada"]');
    await run.waitFor();
    const text = await run.innerText();
    expect(text).toContain('src/app.ts::main');
    expect(text).toContain('docs/*.md');
    expect(text).toMatch(/exclusive · expires in (9|10)m/);
    await page.locator('li.run[data-run="agent-bo"]').getByText(/shared/).waitFor();
    await shot('reservations');
    await api(d.url, 'POST', '/coord/release', { run_id: 'agent-bo', reservation_id: (await api(d.url, 'GET', '/coord/status?run_id=agent-bo')).body.reservations[0].reservation_id });
    await page.locator('li.run[data-run="agent-bo"]').waitFor({ state: 'detached' });
  });

  it('searches memory, lists memories and shows live counts', async () => {
    await openView('Memory');
    await page.getByText(/^0 memories/).waitFor();
    for (const text of [
      'The integration tests need Postgres on 127.0.0.1:5432; start it before npm test.',
      'Use the lexical embedder offline; GloVe needs its package installed first.',
      'Reservations expire after ten minutes unless the run heartbeats.',
    ]) await api(d.url, 'POST', '/memory/store', { text, tags: ['notes'] });
    await page.getByText(/^3 memories/).waitFor();
    await expect.poll(() => page.locator('.memories:not(.recalled) > li').count()).toBe(3);
    await page.getByLabel('Cue').fill('how do I run the postgres tests');
    await page.getByRole('button', { name: 'Recall' }).click();
    const first = page.locator('.recalled > li').first();
    await first.waitFor();
    expect(await first.innerText()).toContain('Postgres on 127.0.0.1:5432');
    await expect.poll(() => page.getByRole('status').filter({ hasText: /of \d+ candidates?/ }).count()).toBe(1);
    // Why each memory matched: the cue's words it holds, and the vectors' similarity.
    const explain = first.locator('.explain');
    expect(await explain.locator('mark').allTextContents()).toEqual(expect.arrayContaining(['postgres', 'tests']));
    expect(await explain.innerText()).toMatch(/similarity\s+0\.\d{3}/);
    // Other phrasings are recalled beside the cue and explained too.
    await page.getByLabel('Cue').fill('offline setup');
    await page.getByLabel(/other phrasings/).fill('GloVe package\nembedder');
    await page.getByRole('button', { name: 'Recall' }).click();
    await expect.poll(() => first.innerText()).toContain('lexical embedder offline');
    expect(await first.locator('.explain mark').allTextContents()).toEqual(expect.arrayContaining(['glove', 'package', 'embedder']));
    await shot('memory');
  });

  it('shows the merge queue live: entries landing, a conflict with its evidence, and remove', async () => {
    await openView('Merge queue');
    await page.locator('[data-state="empty"], ol.entries').first().waitFor();
    // Two jobs from the same base append to the same file: the second to land conflicts.
    const release = join(scratch.dir, 'release-mq');
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) ids.push((await api(d.url, 'POST', '/execute', { prompt: `[block:${release}] [edit:shared.txt]`, land: true })).body.job_id);
    await waitUntil(async () => (await api(d.url, 'GET', `/jobs/${ids[1]}`)).body.status === 'running', 20_000, 'both jobs to run');
    writeFileSync(release, '');
    const entries = page.locator('li.entry');
    await page.locator('li.entry[data-status="landed"]').waitFor();
    const conflicted = page.locator('li.entry[data-status="conflicted"]');
    await conflicted.waitFor();
    const text = await conflicted.innerText();
    expect(text).toMatch(/Conflict on [0-9a-f]{10} in\s+shared\.txt/);
    await conflicted.getByText('the conflicting hunks').click();
    expect(await conflicted.locator('pre.hunks').innerText()).toMatch(/<<<<<<<[\s\S]*>>>>>>>/);
    expect(await entries.count()).toBe(2);
    await shot('merge-queue');
    const entryId = (await conflicted.getAttribute('data-entry'))!;
    await conflicted.getByRole('button', { name: `remove ${entryId}` }).click();
    await page.locator(`li.entry[data-entry="${entryId}"][data-status="removed"]`).waitFor();
    await expect.poll(() => page.locator('.notice > span').allTextContents()).toContain(`${entryId}: removed`);
    await page.locator(`li.entry[data-entry="${entryId}"]`).getByRole('button', { name: `retry ${entryId}` }).waitFor();
    // A job's page says where its branch went.
    await page.locator('li.entry[data-status="landed"]').getByRole('link').click();
    await expect.poll(() => page.locator('.facts').first().innerText()).toMatch(/merge queue\s+landed as [0-9a-f]{10}/);
    expect(await page.getByRole('button', { name: 'Land' }).count()).toBe(0);
  });

  it('starts a swarm of 4 tasks from YAML and shows all four land on the board, live', async () => {
    await openView('Swarms');
    await page.getByRole('heading', { name: 'Start a swarm' }).waitFor();
    // A broken list is said so at once, and nothing is sent.
    const tasksBox = page.getByLabel('Tasks (YAML or JSON)');
    await tasksBox.fill('tasks:\n  - id: a\n    priority: high');
    await page.getByRole('button', { name: 'Start swarm' }).click();
    await expect.poll(() => page.locator('#tasks-error').textContent()).toBe('task 1: description is required');
    const hold = join(scratch.dir, 'swarm-hold');
    await tasksBox.fill(
      [
        'tasks:',
        '  - id: schema',
        `    description: Write the schema [started:${join(scratch.dir, 'swarm-started')}] [block:${hold}] [edit:schema.txt]`,
        '    reserve: [schema.txt]',
        '  - id: api',
        '    description: Serve the schema over the API [edit:api.txt]',
        '    depends_on: [schema]',
        '    reserve: [api.txt]',
        '  - id: cli',
        '    description: A command for it [edit:cli.txt]',
        '    reserve: [cli.txt]',
        '  - id: docs',
        '    description: Document the API and the command [edit:docs.txt]',
        '    depends_on: [api, cli]',
      ].join('\n'),
    );
    await page.getByLabel('agents').fill('2');
    await page.getByRole('button', { name: 'Start swarm' }).click();
    await expect.poll(() => page.evaluate(() => location.hash)).toMatch(/^#swarm\//);
    const swarmId = decodeURIComponent((await page.evaluate(() => location.hash)).slice('#swarm/'.length));
    const board = page.locator('.board');
    const card = (key: string) => board.locator('.task').filter({ has: page.locator('.mono', { hasText: new RegExp(`^${key}$`) }) });
    // While the first task is held, the board shows who works on what and who waits for whom.
    await waitUntil(() => existsSync(join(scratch.dir, 'swarm-started')), 30_000, 'the first task to start');
    await page.locator('.column[data-column="running"] .task').first().waitFor();
    await page.locator('.column[data-column="waiting"] .task').first().waitFor();
    expect(await card('schema').innerText()).toMatch(/worker [12] · claude/);
    expect(await card('schema').getByRole('link').count()).toBe(1);
    expect(await card('docs').getAttribute('data-state')).toBe('waiting');
    expect((await card('docs').innerText()).replace(/\s+/g, ' ')).toContain('after api cli');
    await shot('swarm-running');
    writeFileSync(hold, '');
    await page.locator('.column[data-column="landed"] .task').nth(3).waitFor({ timeout: 60_000 });
    await page.locator('.badge.swarm-completed').waitFor();
    expect((await card('docs').innerText()).replace(/\s+/g, ' ')).toContain('after api ✓ cli ✓');
    expect(await page.locator('[data-fact="landed"]').innerText()).toBe('4 of 4');
    expect(await page.getByRole('button', { name: 'Cancel swarm' }).count()).toBe(0);
    await shot('swarm');
    // The job link on a card opens that job's events.
    await card('cli').getByRole('link').click();
    await page.locator('#events .event.agent.result').waitFor();
    await openView('Swarms');
    const row = page.locator(`li.swarm-row[data-swarm="${swarmId}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-status')).toBe('completed');
    expect(await row.innerText()).toContain('4/4 landed');
    await shot('swarms');
  });

  it("shows a refused swarm with the daemon's message, and cancels a running swarm from its page", async () => {
    // Its own tab: Chromium logs the refused request as a console error.
    const p = await context.newPage();
    const logged: string[] = [];
    p.on('console', (m) => m.type() === 'error' && logged.push(m.text()));
    await p.goto(`${d.url}/#swarms`);
    await p.getByLabel('Tasks (YAML or JSON)').fill('- id: a\n  description: one\n  depends_on: [nope]');
    await p.getByRole('button', { name: 'Start swarm' }).click();
    await expect.poll(() => p.locator('.notice.error > span').allTextContents()).toEqual(["Start swarm: tasks.0.depends_on.0: no task has id 'nope'"]);
    expect(logged).toEqual([expect.stringMatching(/400/)]);

    const started = join(scratch.dir, 'cancel-started');
    const { body } = await api(d.url, 'POST', '/swarms', {
      agents: 1,
      tasks: [
        { id: 'slow', description: `hold [started:${started}] [block:${join(scratch.dir, 'never')}]` },
        { id: 'after', description: 'after the slow one', depends_on: ['slow'] },
      ],
    });
    // The list hears of it over the feed, without a reload.
    await p.locator(`li.swarm-row[data-swarm="${body.swarm_id}"]`).waitFor();
    await p.locator(`li.swarm-row[data-swarm="${body.swarm_id}"]`).getByRole('link').click();
    await waitUntil(() => existsSync(started), 30_000, 'the swarm to start its task');
    await p.locator('.column[data-column="running"] .task').waitFor();
    await p.getByRole('button', { name: 'Cancel swarm' }).click();
    await p.locator('.badge.swarm-cancelled').waitFor();
    await expect.poll(() => p.locator('.column[data-column="stuck"] .task[data-state="cancelled"]').count()).toBe(2);
    expect(await p.getByRole('button', { name: 'Cancel swarm' }).count()).toBe(0);
    const job = (await api(d.url, 'GET', `/swarms/${body.swarm_id}`)).body.tasks[0].job_id;
    expect((await waitJob(d.url, job)).status).toBe('cancelled');
    await p.close();
  });

  it('pages beyond the newest 50 swarms with the cursor', async () => {
    await cancelledSwarms(d, 50);
    const total = (await api(d.url, 'GET', '/swarms?limit=1000')).body.swarms.length;
    expect(total).toBeGreaterThan(50);
    await page.goto(`${d.url}/#swarms`);
    await page.reload();
    await page.locator('li.swarm-row').first().waitFor();
    await expect.poll(() => page.locator('li.swarm-row').count()).toBe(50);
    await page.getByRole('button', { name: 'Load older swarms' }).click();
    await expect.poll(() => page.locator('li.swarm-row').count()).toBe(total);
    expect(await page.getByRole('button', { name: 'Load older swarms' }).count()).toBe(0);
  });

  it("shows a plan-mode swarm's planner jobs as links to their pages", async () => {
    const { body } = await api(d.url, 'POST', '/swarms', { plan: 'cannot plan [fail]', agent: 'swarm' });
    const v = await waitUntil(
      async () => {
        const s = (await api(d.url, 'GET', `/swarms/${body.swarm_id}`)).body;
        return s.status === 'failed' ? s : undefined;
      },
      30_000,
      'both planner attempts to fail',
    );
    expect(v.planner_job_ids).toHaveLength(2);
    await page.goto(`${d.url}/#swarm/${encodeURIComponent(body.swarm_id)}`);
    const links = page.getByRole('link', { name: /^planner job / });
    await expect.poll(() => links.count()).toBe(2);
    for (const [i, id] of (v.planner_job_ids as string[]).entries()) {
      expect(await links.nth(i).getAttribute('href')).toBe(`#job/${id}`);
      expect(await links.nth(i).getAttribute('aria-label')).toBe(`planner job ${id} (attempt ${i + 1})`);
    }
    await links.first().click();
    await expect.poll(() => page.evaluate(() => location.hash)).toBe(`#job/${v.planner_job_ids[0]}`);
    await page.locator('#events .event').first().waitFor();
  });

  it('reads the swarms again after the feed reconnects: a swarm cancelled while it was away shows so', async () => {
    // Its own context, known to the daemon by its user agent, so that only its streams drop.
    const agent = 'colony-dashboard-reconnect-test';
    const ctx = await browser.newContext({ viewport: WIDE, userAgent: agent });
    const p = await ctx.newPage();
    const isStream = (path: string): boolean => path === '/events' || /^\/swarms\/[^/]+\/events$/.test(path);
    const streams = new Set<Socket>();
    const onRequest = (req: IncomingMessage): void => {
      if (req.headers['user-agent'] === agent && isStream(new URL(req.url ?? '/', d.url).pathname)) streams.add(req.socket);
    };
    d.app.server.on('request', onRequest);
    /** The page's streams dropped and refused while `change` runs, then let back. */
    const away = async (change: () => Promise<unknown>): Promise<void> => {
      let refused = 0;
      const blocked = (url: URL): boolean => isStream(url.pathname);
      await p.route(blocked, (route) => {
        refused++;
        return route.abort();
      });
      for (const socket of streams) socket.destroy();
      streams.clear();
      await waitUntil(() => refused > 0, 20_000, 'the dashboard to try to reconnect');
      await p.locator('.feed-reconnecting').waitFor();
      await change();
      await p.unroute(blocked);
      await p.locator('.feed-live').waitFor();
    };
    try {
      await p.goto(d.url);
      await p.evaluate((t) => localStorage.setItem('colony-token', t), TEST_TOKEN);
      await p.reload();
      const hold = () => ({ description: `hold [block:${join(scratch.dir, 'never')}]` });
      const listed = (await api(d.url, 'POST', '/swarms', { agents: 1, tasks: [hold()] })).body.swarm_id as string;
      const opened = (await api(d.url, 'POST', '/swarms', { agents: 1, tasks: [hold()] })).body.swarm_id as string;

      await p.goto(`${d.url}/#swarms`);
      const row = p.locator(`li.swarm-row[data-swarm="${listed}"]`);
      await row.waitFor();
      expect(await row.getAttribute('data-status')).toBe('running');
      await away(() => api(d.url, 'POST', `/swarms/${listed}/cancel`));
      await expect.poll(() => row.getAttribute('data-status')).toBe('cancelled');

      // The open swarm's page follows its own stream, which sends the whole swarm when it reconnects.
      await p.goto(`${d.url}/#swarm/${encodeURIComponent(opened)}`);
      await p.getByRole('button', { name: 'Cancel swarm' }).waitFor();
      await away(() => api(d.url, 'POST', `/swarms/${opened}/cancel`));
      await p.locator('.badge.swarm-cancelled').waitFor();
    } finally {
      d.app.server.off('request', onRequest);
      await ctx.close();
    }
  });

  it('is reachable by keyboard: a skip link first, views through the navigation, actions as buttons and links', async () => {
    await page.goto(`${d.url}/#jobs`);
    await page.reload();
    await page.getByRole('heading', { name: /^Run a job/ }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    expect(await page.locator('.skip').evaluate((el) => el.getBoundingClientRect().top >= 0)).toBe(true);
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('prompt');
    await page.getByRole('navigation').getByRole('link', { name: 'Jobs', exact: true }).focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /^Reservations/ }).waitFor();
    expect(await page.evaluate(() => location.hash)).toBe('#reservations');
  });

  it('fits a 420 px wide screen in every view without horizontal scrolling', async () => {
    await page.setViewportSize(NARROW);
    const id = (await page.evaluate(() => fetch('/jobs?limit=1&status=completed', { headers: { authorization: `Bearer ${localStorage.getItem('colony-token')}` } }).then((r) => r.json() as Promise<{ jobs: { id: string }[] }>))).jobs[0]!.id;
    const swarm = (await api(d.url, 'GET', '/swarms?limit=1000')).body.swarms.find((s: { status: string }) => s.status === 'completed').swarm_id as string;
    for (const view of ['swarms', `swarm/${swarm}`, 'jobs', `job/${id}`, 'merge-queue', 'reservations', 'memory']) {
      await page.goto(`${d.url}/#${view}`);
      await page.locator('.feed-live').waitFor();
      await page.locator(READY[view.split('/')[0]!]!).first().waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `horizontal overflow in #${view}`).toBeLessThanOrEqual(0);
      if (view === 'jobs' || view.startsWith('swarm/')) {
        await page.evaluate(() => document.activeElement?.blur?.());
        await shot(view === 'jobs' ? 'narrow-jobs' : 'narrow-swarm');
      }
    }
    await page.setViewportSize(WIDE);
  });

  it('logged no console error and no uncaught exception while signed in', () => {
    expect(problems).toEqual([]);
  });
});
