/**
 * The dashboard's swarm view: a node that follows a SAPO swarm's sapo-metrics.jsonl (the file `mycel swarm start` and
 * `mycel swarm local` write with swarm/sapo-metrics.ts's appendMetrics, used here as the writer) shows each round's
 * reward and accuracy per node, plotted and tabled, and updates live as rounds are appended; a line still being
 * written waits for its end, and a line that is not a round is skipped. Screenshot in test-artifacts/dashboard/.
 */
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { Observer, parseRounds, serveDashboard, swarmMetricsFile, watchSwarmMetrics, type DashboardState } from '../../src/node/index.js';
import { appendMetrics, METRICS_FILE } from '../../src/swarm/sapo-metrics.js';
import type { RoundMetrics } from '../../src/swarm/round.js';
import { launchChromium, openTab, screenshot } from './browser.js';

let browser: Browser;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mycel-swarm-view-'));
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

const round = (r: number, node: string, reward: number, accuracy: number): RoundMetrics => ({
  round: r, node, reward, accuracy, rolloutsOut: 8, rolloutsIn: 16, trainedOwn: 8, trainedExternal: 8, externalFrom: [], reexecuted: 2, rejected: node === 'node-2' ? 1 : 0, dropped: [], loss: 0.5, policy: 'bafy',
});

describe('swarm view', () => {
  test('parseRounds takes complete round lines only', () => {
    const line = JSON.stringify(round(0, 'a', 0.5, 0.25));
    const { rounds, consumed } = parseRounds(`${line}\nnot json\n{"round":1}\n${line.slice(0, 10)}`);
    expect(rounds.map((r) => r.node)).toEqual(['a']);
    expect(consumed).toBe(Buffer.byteLength(`${line}\nnot json\n{"round":1}\n`));
  });

  test('the dashboard shows each round\'s reward and accuracy per node, live', async () => {
    const sapo = join(dir, 'node-data', 'sapo');
    await appendMetrics(sapo, round(0, 'node-0', 0.25, 0.5));
    await appendMetrics(sapo, round(0, 'node-1', 0.125, 0.25));
    await appendMetrics(sapo, round(0, 'node-2', 0.375, 0.75));
    // The data dir of a swarm node names its metrics file.
    const file = await swarmMetricsFile(join(dir, 'node-data'));
    expect(file).toBe(join(sapo, METRICS_FILE));
    const observer = new Observer('node');
    const stop = watchSwarmMetrics(observer, file, 100);
    const server = await serveDashboard(observer, { token: 'swarm-token', tokenHint: '' });
    try {
      const { page, errors } = await openTab(browser);
      await page.goto(server.url);
      await page.waitForFunction(() => document.querySelectorAll('#swarm-table tbody tr').length === 4, undefined, { timeout: 20_000 });
      const cells = () => page.$$eval('#swarm-table tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
      expect((await cells())[0].slice(0, 3)).toEqual(['node-0', '0.250', '50.0%']);
      expect((await cells())[3].slice(0, 3)).toEqual(['mean, round 0', '0.250', '50.0%']);
      expect(await page.locator('#swarm-plot .uplot').count()).toBe(1);

      // Round 1 arrives, its last line in two writes: the page moves on once the line is whole.
      await appendMetrics(sapo, round(1, 'node-0', 0.5, 0.75));
      await appendMetrics(sapo, round(1, 'node-1', 0.5, 0.5));
      const last = `${JSON.stringify(round(1, 'node-2', 0.875, 1))}\n`;
      await appendFile(file, last.slice(0, 20));
      await page.waitForFunction(() => document.getElementById('swarm-count')?.textContent === 'round 1', undefined, { timeout: 20_000 });
      await appendFile(file, last.slice(20));
      await page.waitForFunction(() => document.querySelector('#swarm-table tbody tr:last-child td')?.textContent === 'mean, round 1' && document.querySelectorAll('#swarm-table tbody tr').length === 4, undefined, { timeout: 20_000 });
      expect((await cells())[2].slice(0, 3)).toEqual(['node-2', '0.875', '100.0%']);
      expect((await cells())[3].slice(0, 3)).toEqual(['mean, round 1', '0.625', '75.0%']);
      const state = (await (await fetch(`${server.origin}/api/swarm`, { headers: { authorization: 'Bearer swarm-token' } })).json()) as DashboardState['swarm'];
      expect(state.rounds).toHaveLength(6);
      expect(state.source).toBe(file);
      await screenshot(page, 'dashboard', 'swarm');
      expect(errors).toEqual([]);
    } finally {
      stop();
      observer.close();
      await server.close();
    }
  }, 60_000);
});
