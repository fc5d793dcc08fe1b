// The long-running commands stopped as a user stops them (Ctrl-C = SIGINT, a service manager = SIGTERM), on the built
// CLI: each saves what it holds, then exits 128 + the signal's number (130, 143), so that `mycel ... && next` does
// not go on with unfinished work. Signals are sent on an event the command prints, never after a fixed time.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MYCEL_MAIN } from './spawn-mycel.js';
import { microSpec } from '../train/helpers.js';

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'mycel-interrupt-'));
});
afterAll(() => rm(home, { recursive: true, force: true }));

type Stopped = { code: number | null; stdout: string; stderr: string; seen: RegExpExecArray };

/**
 * Runs `mycel ...args` until `when` matches its output (stdout then stderr, as received so far), runs `then` with that
 * output, and sends `sig`.
 */
function stopOn(args: string[], when: RegExp, sig: NodeJS.Signals, then?: (output: string) => Promise<void>, timeoutMs = 150_000, command: string[] = [process.execPath, MYCEL_MAIN]): Promise<Stopped> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], [...command.slice(1), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MYCEL_HOME: home } });
    let stdout = '';
    let stderr = '';
    let seen: RegExpExecArray | null = null;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const look = () => {
      if (seen) return;
      const output = `${stdout}\n${stderr}`;
      seen = when.exec(output);
      if (seen) void (then?.(output) ?? Promise.resolve()).then(() => child.kill(sig), (error) => (child.kill('SIGKILL'), reject(error)));
    };
    child.stdout.on('data', (d) => ((stdout += d), look()));
    child.stderr.on('data', (d) => ((stderr += d), look()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!seen) reject(new Error(`mycel ${args.join(' ')} ended (${code}) before ${when}: ${stderr.slice(-2000)}`));
      else resolve({ code, stdout, stderr, seen });
    });
  });
}

const jsonLines = (stdout: string) => stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('stopping long-running commands', { timeout: 200_000 }, () => {
  it('swarm train: its worker\'s metrics endpoint is scraped mid-run; Ctrl-C writes the rounds so far and exits 130', async () => {
    const spec = join(home, 'long.json');
    await writeFile(spec, JSON.stringify(microSpec({ steps: 2000, checkpointEvery: 1000 })));
    let scraped = '';
    const r = await stopOn(
      ['swarm', 'train', spec, '--workers', '1', '--inner-steps', '2', '--metrics-port', '0', '--json'],
      // The first round on stdout, then the worker's metrics address on stderr (printed when the worker started).
      /"kind":"round","round":0[\s\S]*\n[\s\S]*metrics at (http:\S+)/,
      'SIGINT',
      async (output) => {
        scraped = await (await fetch(/metrics at (http:\S+)/.exec(output)![1])).text();
      },
    );
    expect(r.code, r.stderr).toBe(130);
    // The worker's own registry: libp2p, its rounds (loss, bytes sent), labelled with the worker.
    expect(scraped).toMatch(/^mycel_swarm_round\{node="worker-0"\} \d+$/m);
    expect(scraped).toMatch(/^mycel_swarm_round_value\{figure="loss",node="worker-0"\} [\d.]+$/m);
    expect(scraped).toMatch(/^mycel_swarm_bytes_sent_total\{node="worker-0"\} \d+$/m);
    expect(scraped).toMatch(/^mycel_peers\{node="worker-0"\} \d+$/m);
    const run = jsonLines(r.stdout).find((l) => l.kind === 'run')!;
    expect(run).toMatchObject({ interrupted: true, of: 1000 });
    expect(run.rounds as number).toBeGreaterThanOrEqual(1);
    // What it held is on disk: the rounds so far (metrics and plot), each worker's committed state for a restart.
    expect((await readFile(run.metrics as string, 'utf8')).trim().split('\n').length).toBe(run.rounds);
    expect(existsSync(run.plot as string)).toBe(true);
  });

  it('swarm local: SIGTERM stops the nodes (each logs to its data dir), writes the rounds so far and exits 143', async () => {
    const dir = join(home, 'swarm');
    const r = await stopOn(['swarm', 'local', '--nodes', '2', '--rounds', '100', '--model', 'micro', '--pretrain-steps', '0', '--round-ms', '60000', '--data-dir', dir, '--json'], /2 nodes up/, 'SIGTERM');
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(jsonLines(r.stdout).at(-1)).toMatchObject({ type: 'done', interrupted: true });
    expect(existsSync(join(dir, 'sapo-reward.svg'))).toBe(true);
    // `swarm start` (each node here) writes pino JSON lines to <its data dir>/logs, from its start to its stop.
    for (const node of ['node-0', 'node-1']) {
      const logs = join(dir, node, 'logs');
      expect(await readdir(logs)).toContain('current.log');
      const lines = (await readFile(join(logs, 'current.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { msg: string; node: string; peerId?: string });
      expect(lines[0]).toMatchObject({ msg: 'swarm node started', node: 'swarm' });
      expect(lines[0].peerId).toMatch(/^16U/);
      expect(lines.at(-1)!.msg).toBe('swarm node stopped');
    }
  });

  it('swarm start: Ctrl-C stops the node (its log ends with its stop) and exits 130, as swarm train and swarm local do', async () => {
    const dir = join(home, 'swarm-start');
    // Rounds a minute apart from a genesis a minute away: the signal comes while it waits for its first round.
    const r = await stopOn(['swarm', 'start', '--model', 'micro', '--pretrain-steps', '0', '--rounds', '100', '--round-ms', '60000', '--genesis', String(Date.now() + 60_000), '--port', '0', '--host', '127.0.0.1', '--data-dir', dir, '--json'], /"type":"ready"/, 'SIGINT');
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(jsonLines(r.stdout).at(-1)).toMatchObject({ type: 'done' });
    const lines = (await readFile(join(dir, 'logs', 'current.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
    expect(lines.at(-1)!.msg).toBe('swarm node stopped');
  });

  it('devnet (npm start): SIGTERM during the scenario stops anvil and every node process, keeps their data and exits 143', async () => {
    const dir = join(home, 'devnet');
    // Signalled through npm, as `npm start` runs it: npm passes the signal on to its script's process (which must be
    // the devnet itself, not a shell that would die and leave the devnet running), and exits with its status.
    // Once the first job is posted (its spec is in the submitter's data dir; the default dir, under MYCEL_HOME).
    const r = await stopOn(['--', '--steps', '4', '--exit'], /started verifier .* as process (\d+)[\s\S]*posted job/, 'SIGTERM', undefined, 150_000, ['npm', 'start', '--silent']);
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toMatch(/The devnet was stopped before the scenario finished/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    // The verifier's process is gone (the devnet stops what it started before it exits).
    expect(() => process.kill(Number(r.seen[1]), 0)).toThrow();
    expect(await readdir(join(dir, 'submitter', 'specs'))).toHaveLength(1);
  });
});
