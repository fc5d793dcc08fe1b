/**
 * End to end: the devnet scenario on a shortened job (a micro GPT, a few steps). Job A (honest solver) is finalized
 * and paid; job B (a solver that flips a bit at step 3) is challenged by the verifier, the dispute is played on chain
 * with the real DisputeGame, the cheater loses its stake (half burned, half to the verifier), the submitter is refunded.
 * The job spec and the honest model move between the node processes as libp2p blobs.
 */
import { existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parseUnits } from 'viem';
import { formatSummary, runDevnet, type DevnetSummary } from '../../src/node/index.js';
import { microSpec } from '../train/helpers.js';

describe('mycel devnet', () => {
  test('honest job paid; cheater challenged, loses the dispute on chain and is slashed', async () => {
    const lines: string[] = [];
    const s: DevnetSummary = await runDevnet({
      spec: microSpec({ steps: 4, checkpointEvery: 2 }),
      steps: 4,
      cheatAt: 3,
      challengeWindow: 6,
      onEvent: (e) => lines.push(e.type === 'log' ? `${e.node}: ${e.text}` : JSON.stringify(e)),
    });
    const text = formatSummary(s);
    console.log(text);
    const [a, b] = s.jobs;
    expect(a.phase).toBe('Finalized');
    expect(b.phase).toBe('Refuted');
    expect(b.dispute).toMatchObject({ loser: 'solver', at: 'instruction' });
    const delta = Object.fromEntries(s.parties.map((p) => [p.role, Number(p.delta)]));
    // reward 25, stake 5: the honest solver gets its stake back and the reward; the cheater loses its stake;
    // the verifier gets its stake back plus half the cheater's; the submitter paid job A and was refunded job B.
    expect(delta['honest solver']).toBe(25);
    expect(delta['cheating solver']).toBe(-5);
    expect(delta.verifier).toBe(2.5);
    expect(delta.submitter).toBe(-25);
    expect(parseUnits(s.totalSupply.burned, 18)).toBe(parseUnits('2.5', 18));
    expect(s.gas.find((g) => g.action === 'dispute prove')?.count).toBe(1);
    expect(existsSync(s.model.path)).toBe(true);
    // The spec went to the node processes and the model came back to the submitter as libp2p blobs.
    expect(s.model.cid).toMatch(/^b[a-z2-7]+$/);
    expect(s.model.path).not.toContain('/shared/');
    expect(text).toContain(`libp2p blob: ${s.model.cid}`);
    expect(lines.filter((l) => /: got spec 0x[0-9a-f]+… over libp2p/.test(l)).length).toBeGreaterThanOrEqual(3);
    expect(lines.some((l) => l.includes('fetched the model of job') && l.includes('over libp2p'))).toBe(true);
    expect(lines.some((l) => l.includes('challenging'))).toBe(true);
    // The two solvers and the verifier ran as separate node processes.
    expect(lines.filter((l) => /^devnet: started (solver|verifier) .* as process \d+$/.test(l))).toHaveLength(3);
  }, 120_000);
});
