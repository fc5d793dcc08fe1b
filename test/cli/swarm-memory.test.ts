// A swarm node refuses to join when a round's memory estimate is above its limit (--max-memory), with the figures,
// before it trains or joins anything: SAPO (swarm start) and DiLoCo workers (swarm train), as role nodes do for jobs.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateMemory } from '../../src/train/index.js';
import { buildProgram, policySpec } from '../../src/swarm/sapo-policy.js';
import { parseSapoConfig } from '../../src/swarm/sapo-config.js';
import { dilocoWorkerMemory, sapoRoundMemory } from '../../src/swarm/memory.js';
import { mycelInProcess } from './in-process.js';

let dir: string;
beforeAll(async () => void (dir = await mkdtemp(join(tmpdir(), 'mycel-swarm-memory-'))));
afterAll(() => rm(dir, { recursive: true, force: true }));

const json = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as { error: { name: string; message: string; hints: string[] } };

describe('swarm memory limits', () => {
  it('estimate a round from its rows, its KV cache and a peer\'s policy, and a worker from its outer state', () => {
    const config = parseSapoConfig({ swarmId: 's', tasks: [{ name: 'sorting', config: { length: 4 } }], own: 4, external: 4, completions: 4, maxTokens: 6, temperature: 0.5, reexecFraction: 0.25, lr: 1e-3 });
    const program = buildProgram(policySpec(config));
    const vocab = program.tokenizer.vocabSize;
    const round = sapoRoundMemory(program.spec, vocab, config);
    expect(round.bytes).toBeGreaterThan(estimateMemory({ ...program.spec, batchSize: 32 }, vocab).bytes);
    expect(sapoRoundMemory(program.spec, vocab, { ...config, completions: 8 }).bytes).toBeGreaterThan(round.bytes);
    expect(round.breakdown).toMatch(/GRPO step on 32 rows: .*KV cache \d+ MiB; a peer's policy \d+ MiB/);
    const worker = dilocoWorkerMemory(program.spec, vocab, 4);
    expect(worker.bytes - estimateMemory(program.spec, vocab).bytes).toBe(4 * worker.params * 7);
  });

  it('swarm start refuses to join, with the estimate and the fix, before it trains or listens', async () => {
    const data = join(dir, 'sapo');
    const r = await mycelInProcess('swarm', 'start', '--max-memory', '0.001', '--data-dir', data, '--json');
    expect(r.code).toBe(1);
    const { error } = json(r.stdout);
    expect(error.name).toBe('SwarmMemoryError');
    expect(error.message).toMatch(/^A round of this RL swarm \(tiny model, split 4\/4, 4 completions\) needs about [\d.]+ GiB of memory, above this node's limit of 0\.00 GiB: not joining\./);
    expect(error.hints.join(' ')).toMatch(/--max-memory GIB/);
    expect(r.stdout).not.toMatch(/"type":"ready"/);
    expect(await readdir(data).catch(() => [])).not.toContain('sapo'); // nothing pre-trained
  });

  it('swarm train refuses before any worker starts, counting every worker it would run here', async () => {
    const r = await mycelInProcess('swarm', 'train', 'quick', '--workers', '3', '--inner-steps', '10', '--max-memory', '0.001', '--data-dir', join(dir, 'diloco'), '--json');
    expect(r.code).toBe(1);
    const { error } = json(r.stdout);
    expect(error).toMatchObject({ name: 'SwarmMemoryError', message: expect.stringMatching(/^3 DiLoCo workers of this run needs about/) });
    expect(error.hints.join(' ')).toMatch(/fewer --workers/);
    expect(await readdir(join(dir, 'diloco')).catch(() => [])).toEqual([]);
  });
});
