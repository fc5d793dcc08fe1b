import { describe, expect, it } from 'vitest';
import type { TokenBatch } from '../../src/data/index.js';
import { runJob, stateHash } from '../../src/train/index.js';
import { adversary, playGame, replayParty, rulesOf } from '../../src/verify/index.js';
import { grpoProgram } from '../../src/swarm/grpo.js';
import { finishRound, reexecPlan, startRound, blobKey, type SapoNode } from '../../src/swarm/round.js';
import { tempStore } from '../train/helpers.js';
import { testConfig, testNodes } from './helpers.js';

describe('a GRPO round is a training step the dispute game can referee', () => {
  it('the swarm node\'s rounds replay as a program, and a cheated round loses the dispute', async () => {
    const config = testConfig({ tasks: [{ name: 'modular', config: { modulus: 10 } }], own: 2, external: 0, maxTokens: 2, temperature: 0.7 });
    let [a, b] = testNodes(2, config, 1, 20);
    const start = a.policy;
    const batches: TokenBatch[] = [];
    for (const round of [0, 1]) {
      const sa = startRound(a, round);
      const sb = startRound(b, round);
      const inbox = [{ from: b.id, rollout: sb.rollout }];
      const blobs = new Map(reexecPlan(sa.node, inbox).map((p) => [blobKey(p.peer, p.cid), sb.blob.bytes]));
      const done = finishRound(sa.node, { rollouts: inbox, blobs });
      if (done.batch) batches.push(done.batch);
      a = done.node as SapoNode;
      b = finishRound(sb.node, { rollouts: [], blobs: new Map() }).node;
    }
    expect(batches.length).toBe(2);
    const program = grpoProgram(a.program, start, batches, config);
    const honestStore = await tempStore();
    const honest = await runJob(program, { store: honestStore });
    // The program's run ends where the swarm node's rounds did.
    expect(honest.record.stepHashes.at(-1)).toBe(stateHash(a.policy));

    const cheat = adversary.flipOpOutput(program, 2, 5, 3, 7);
    const cheatStore = await tempStore();
    const cheated = await runJob(cheat, { store: cheatStore });
    expect(cheated.record.commitment).not.toBe(honest.record.commitment);
    const rules = rulesOf(program);
    const party = (p: typeof program, store: typeof honestStore, record: typeof honest.record, role: 'solver' | 'challenger') => replayParty({ role, program: p, reference: program, store, record });
    const game = await playGame(rules, party(cheat, cheatStore, cheated.record, 'solver'), party(program, honestStore, honest.record, 'challenger'), {
      solverRoot: cheated.record.commitment!,
      challengerRoot: honest.record.commitment!,
    });
    expect(game.ruling).toMatchObject({ loser: 'solver', t: 2 });
  }, 180_000);
});
