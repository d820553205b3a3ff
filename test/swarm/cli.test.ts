import { describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, COLONY_BIN, TEST_TOKEN, waitUntil } from '../helpers/daemon.js';
import { colony } from '../helpers/cli.js';
import { cancelledSwarms, taskByKey, useSwarmDaemon } from './helpers.js';

const AUTH = { env: { COLONY_TOKEN: TEST_TOKEN } };

const { setup } = useSwarmDaemon();

describe('colony swarm', { timeout: 120_000 }, () => {
  it('runs a tasks file to the end: one progress line per change, the final view with --json, exit 0', async () => {
    const { repo, tmp } = await setup();
    const file = join(tmp, 'tasks.yaml');
    writeFileSync(
      file,
      [
        'tasks:',
        '  - id: a',
        '    description: "first [write:a.txt=a]"',
        '    reserve: [a.txt]',
        '  - id: b',
        '    description: "second [write:b.txt=b]"',
        '    depends_on: [a]',
        '    priority: 2',
      ].join('\n'),
    );
    const r = await colony(['swarm', '--tasks', file, '--agents', '2', '--json'], repo, AUTH);
    expect(r.code, r.stderr).toBe(0);
    const v = JSON.parse(r.stdout);
    expect(v).toMatchObject({ status: 'completed', source: 'tasks', agents: 2, summary: { landed: 2, total: 2 } });
    expect(taskByKey(v, 'a').reserve).toEqual(['a.txt']);
    expect(r.stderr).toMatch(/^task a running \(job \S+, agent 1, attempt 1\)$/m);
    expect(r.stderr).toMatch(/^task b waiting: waiting on a$/m);
    expect(r.stderr).toMatch(/^task b landed$/m);
    expect(r.stderr).toMatch(/^swarm completed$/m);
  });

  it('on a terminal: change lines scroll above one status line redrawn in place, ending on the final counts', async () => {
    const { repo, tmp } = await setup();
    const started = join(tmp, 'started');
    const go = join(tmp, 'go');
    const file = writeTasks(tmp, `[started:${started}] [block:${go}] [write:only.txt=1]`);
    // util-linux `script` runs the CLI on a pseudo-terminal, so stderr is a TTY as in a shell.
    const quote = (a: string): string => `'${a.replaceAll("'", `'\\''`)}'`;
    const cmd = [process.execPath, COLONY_BIN, 'swarm', '--tasks', file].map(quote).join(' ');
    const run = new Promise<{ code: number; out: string }>((res) =>
      execFile('script', ['-qfec', cmd, '/dev/null'], { cwd: repo, env: { ...process.env, SHELL: '/bin/sh', COLONY_URL: '', COLONY_TOKEN: TEST_TOKEN, COLONY_RUN_ID: '' } }, (err, stdout) =>
        res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout }),
      ),
    );
    // Held until the job runs, so the display shows a running task before the end.
    await waitUntil(() => existsSync(started), 30_000, 'the job to start');
    // A moment for the CLI to draw the running state it was sent.
    await new Promise((res) => setTimeout(res, 500));
    writeFileSync(go, '');
    const { code, out } = await run;
    expect(code, out).toBe(0);
    // The terminal turns each \n into \r\n.
    const text = out.replaceAll('\r\n', '\n');
    const redraws = text.split('\r\x1b[K');
    expect(redraws[0]).toBe('');
    expect(redraws.length, JSON.stringify(text)).toBeGreaterThan(3);
    // Every redraw clears the line, prints what changed as whole lines, then the status line without a newline.
    const status = /\[(?:running|completed)\] landed \d\/1 · running \d · waiting \d · stuck 0 · [\d.]+s/;
    for (const r of redraws.slice(1, -1)) expect(r, JSON.stringify(r)).toMatch(new RegExp(`^([^\\n]*\\n)*${status.source}$`));
    expect(text).toMatch(/\r\x1b\[K(swarm running\n)?task only running \(job \S+, agent 1, attempt 1\)\n\[running\] landed 0\/1 · running 1 · waiting 0/);
    // The last one ends the status line with a newline before the summary on stdout.
    expect(redraws.at(-1)).toMatch(/^([^\n]*\n)*\[completed\] landed 1\/1 · running 0 · waiting 0 · stuck 0 · [\d.]+s\nswarm \S+ completed in [\d.]+s\n/);
    expect(text).toMatch(/^task only landed$/m);
  });

  it('exit 1 with the stuck task and its reason in the summary; a bad tasks file is refused before anything runs', async () => {
    const { repo, tmp } = await setup();
    const file = join(tmp, 'tasks.json');
    writeFileSync(file, JSON.stringify([{ id: 'bad', description: 'breaks [fail]' }]));
    const r = await colony(['swarm', '--tasks', file, '--max-attempts', '1'], repo, AUTH);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^swarm \S+ failed in [\d.]+s: 1 of 1 tasks stuck$/m);
    expect(r.stdout).toMatch(/landed 0\/1 .* stuck 1 · failed attempts 1/);
    expect(r.stdout).toMatch(/stuck bad: job \S+ failed/);
    expect(r.stdout).toMatch(/cost \$0\.0000 · tokens 0 in \/ 0 out/);

    writeFileSync(file, 'tasks:\n  - id: x\n    description: "x"\n    depends_on: [y]\n');
    const bad = await colony(['swarm', '--tasks', file], repo, AUTH);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/tasks\.json: tasks\.0\.depends_on\.0: no task has id 'y'/);
    const missing = await colony(['swarm', '--tasks', join(tmp, 'nope.yaml')], repo, AUTH);
    expect(missing.stderr).toMatch(/cannot read the tasks file .*nope\.yaml: no such file or directory\n/);
  });

  it('--detach prints the id; ls, show and cancel', async () => {
    const { d, repo, tmp } = await setup();
    const r = await colony(['swarm', '--tasks', writeTasks(tmp, `[block:${join(tmp, 'never')}]`), '--detach'], repo, AUTH);
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.trim();
    expect(id).toMatch(/^swarm_/);
    const ls = JSON.parse((await colony(['swarm', 'ls', '--json'], repo, AUTH)).stdout);
    expect(ls.swarms.map((s: any) => s.swarm_id)).toEqual([id]);
    const shown = await colony(['swarm', 'show', id], repo, AUTH);
    expect(shown.stdout).toMatch(new RegExp(`swarm ${id} running`));
    expect(shown.stdout).toMatch(/TASK\s+STATE\s+ATTEMPTS/);
    expect(JSON.parse((await colony(['swarm', 'show', id, '--json'], repo, AUTH)).stdout).swarm_id).toBe(id);
    const cancelled = JSON.parse((await colony(['swarm', 'cancel', id, '--json'], repo, AUTH)).stdout);
    expect(cancelled.status).toBe('cancelled');
    expect((await api(d.url, 'GET', `/swarms/${id}`)).body.status).toBe('cancelled');
    const none = await colony(['swarm', 'show', 'swarm_nope'], repo, AUTH);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no swarm swarm_nope/);
  });

  it('ls pages with --limit and --cursor, and says where the next page starts', async () => {
    const { d, repo } = await setup();
    const ids = await cancelledSwarms(d, 3);
    const first = await colony(['swarm', 'ls', '--limit', '2'], repo, AUTH);
    expect(first.code, first.stderr).toBe(0);
    const cursor = /more: --cursor (\S+)/.exec(first.stdout)?.[1];
    expect(cursor, first.stdout).toBeTruthy();
    expect(first.stdout).toContain(ids[1]);
    expect(first.stdout).not.toContain(ids[2]);
    const json = JSON.parse((await colony(['swarm', 'ls', '--limit', '2', '--json'], repo, AUTH)).stdout);
    expect(json.next_cursor).toBe(cursor);
    const rest = JSON.parse((await colony(['swarm', 'ls', '--limit', '2', '--cursor', cursor!, '--json'], repo, AUTH)).stdout);
    expect(rest).toMatchObject({ swarms: [{ swarm_id: ids[2] }], next_cursor: null });
    const last = await colony(['swarm', 'ls', '--limit', '2', '--cursor', cursor!], repo, AUTH);
    expect(last.stdout).toContain(ids[2]);
    expect(last.stdout).not.toContain('more:');
    const bad = await colony(['swarm', 'ls', '--cursor', 'nope'], repo, AUTH);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/cursor/);
  });

  it('Ctrl-C cancels the swarm cleanly, prints the summary and exits 130', async () => {
    const { d, repo, tmp } = await setup();
    const started = join(tmp, 'started');
    const child = spawn(process.execPath, [COLONY_BIN, 'swarm', '--tasks', writeTasks(tmp, `[started:${started}] [block:${join(tmp, 'never')}]`)], {
      cwd: repo,
      env: { ...process.env, COLONY_URL: '', COLONY_TOKEN: TEST_TOKEN, COLONY_RUN_ID: '' },
    });
    let stdout = '';
    child.stdout.on('data', (b) => (stdout += b));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    await waitUntil(() => existsSync(started), 30_000, 'the job to start');
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stdout).toMatch(/^swarm \S+ cancelled in/m);
    const id = stdout.match(/^swarm (\S+)/m)![1]!;
    const v = (await api(d.url, 'GET', `/swarms/${id}`)).body;
    expect(v.status).toBe('cancelled');
    expect(v.tasks[0].state).toBe('cancelled');
    await waitUntil(async () => (await api(d.url, 'GET', `/jobs/${v.tasks[0].job_id}`)).body.status === 'cancelled', 30_000, 'the job to be cancelled');
  });
});

function writeTasks(dir: string, description: string): string {
  const file = join(dir, 'tasks.yaml');
  writeFileSync(file, `- id: only\n  description: ${JSON.stringify(description)}\n`);
  return file;
}
