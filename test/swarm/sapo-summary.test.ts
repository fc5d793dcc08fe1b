/**
 * The swarm bench's summary, as `--minutes` and `--summarize` use it: rows that ran different numbers of
 * rounds are compared over the first K rounds every row ran; `--summarize` reads rows from files and names
 * a missing file or a cut-off line.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summarize, type Setting, type SettingResult } from '../../src/swarm/sapo-experiment.js';
import { BadInput, rowsOf } from '../../bench/swarm.js';

const row = (setting: Setting, seed: number, rewards: number[]): SettingResult => ({
  setting,
  seed,
  rounds: rewards.length,
  cumulative_reward: rewards.reduce((a, b) => a + b, 0),
  heldout_accuracy: 0.3,
  heldout_per_task: {},
  rounds_to_threshold: null,
  reward_first: rewards[0],
  reward_last: rewards.at(-1)!,
  rewards,
  bytes_per_round: 100,
  round_seconds: 1,
  rejected: 0,
  honest_share: setting === '4/4-poisoned' ? 0.75 : 1,
});

const rows = [
  row('8/0', 1, [0.2, 0.2, 0.2, 0.9]),
  row('8/0', 2, [0.1, 0.1, 0.1]),
  row('4/4', 1, [0.3, 0.3, 0.3, 0.3, 0.3]),
  row('4/4-poisoned', 1, [0.15, 0.15, 0.15]),
  row('4/4-noniid', 1, [0.2, 0.2, 0.2]),
  row('8/0-noniid', 1, [0.1, 0.1, 0.1, 0.1]),
];

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('swarm bench summary', () => {
  it('compares every setting over the first K rounds all rows ran, K the fewest', () => {
    const s = summarize(rows);
    expect(s.rounds).toBe(3);
    // 8/0: seeds 0.6 and 0.3 over 3 rounds (seed 1's fourth round is not counted); 4/4: 0.9.
    expect(s.mean_cumulative_reward['8/0']).toBeCloseTo(0.45, 12);
    expect(s.gain_4_4_over_8_0).toBeCloseTo(0.9 / 0.45 - 1, 12);
    expect(s.poisoned_over_clean).toBeCloseTo(0.45 / 0.9, 12);
    expect(s.gain_noniid).toBeCloseTo(0.6 / 0.3 - 1, 12);
    expect(s.poisoned_honest_share).toBe(0.75);
    expect(s.mean_cumulative_reward['6/2']).toBeNaN();
  });

  it('--summarize combines files (skipping other lines and earlier summaries), and names a missing file or a cut-off line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mycel-sapo-summary-'));
    dirs.push(dir);
    const [a, b, cut] = ['a.jsonl', 'b.jsonl', 'cut.jsonl'].map((f) => join(dir, f));
    await writeFile(a, `${rows.slice(0, 3).map((r) => JSON.stringify(r)).join('\n')}\n${JSON.stringify(summarize(rows.slice(0, 3)))}\nprogress line\n`);
    await writeFile(b, `${rows.slice(3).map((r) => JSON.stringify(r)).join('\n')}\n`);
    await writeFile(cut, `${JSON.stringify(rows[0])}\n${JSON.stringify(rows[1]).slice(0, 40)}\n`);
    // (`npm run bench -- swarm --summarize` prints these rows and their summary; a BadInput is one line on stderr, exit code 2.)
    expect(rowsOf([a, b]).map((r) => `${r.setting} ${r.seed}`)).toEqual(rows.map((r) => `${r.setting} ${r.seed}`));
    expect(summarize(rowsOf([a, b]))).toEqual(summarize(rows));
    expect(() => rowsOf([join(dir, 'nosuch.jsonl')])).toThrow(BadInput);
    expect(() => rowsOf([join(dir, 'nosuch.jsonl')])).toThrow(/nosuch\.jsonl does not exist/);
    expect(() => rowsOf([a, cut])).toThrow(/cut\.jsonl line 2 is not JSON/);
  });
});
