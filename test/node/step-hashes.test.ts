/**
 * Step hashes come from a peer but are only used if the chain backs them: their RFC 6962 root must be the run root the
 * party committed. A forged list is rejected with a StepHashesMismatchError (and, over libp2p, skipped: the node takes
 * the genuine list announced for the same root).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { Hex } from 'viem';
import { runCommitment } from '../../src/train/index.js';
import { Announcements, checkedStepHashes, checkModel, encodeStepHashes, fetchStepHashes, ModelMismatchError, StepHashesMismatchError } from '../../src/node/index.js';
import { honest, runOf } from '../verify/game-helpers.js';
import { startNet, tempDir, type TestNet } from '../p2p/helpers.js';

const hash = (i: number) => i.toString(16).padStart(64, '0');
const STEPS = 4;
const genuine = Array.from({ length: STEPS + 1 }, (_, i) => hash(i + 1));
const root = `0x${runCommitment(genuine)}` as Hex;
const forged = genuine.map((h, i) => (i === 3 ? hash(99) : h));
const check = (list: readonly string[]) => checkedStepHashes(encodeStepHashes(list), { jobId: 7n, root, steps: STEPS, cid: 'bafkreiexample' });

describe('checkedStepHashes', () => {
  test('accepts the list whose Merkle root is the committed root', () => {
    expect(check(genuine)).toEqual(genuine);
  });

  test('rejects a forged list, naming the job, the committed root and the list\'s root', () => {
    expect(() => check(forged)).toThrow(StepHashesMismatchError);
    expect(() => check(forged)).toThrow(`The step hashes of job 7 in blob bafkreiexample do not belong to run root ${root}: their Merkle root is 0x${runCommitment(forged)}.`);
  });

  test('rejects lists of the wrong length or shape', () => {
    expect(() => check(genuine.slice(1))).toThrow(/has 4 hashes, a 4-step run has 5/);
    expect(() => check(genuine.map(() => 'AB'.repeat(32)))).toThrow(/32-byte lowercase hex/);
    expect(() => checkedStepHashes(new TextEncoder().encode('nope'), { jobId: 7n, root, steps: STEPS, cid: 'x' })).toThrow(/not JSON/);
  });
});

describe('checkModel', () => {
  test('accepts the final checkpoint of the committed run and rejects any other', async () => {
    const { store, record } = await runOf(honest);
    const T = record.stepHashes.length - 1;
    const model = await store.getObject(record.checkpoints[String(T)]);
    expect(() => checkModel(model, { jobId: 1n, finalHash: record.stepHashes[T], cid: 'bafkreimodel' })).not.toThrow();
    // A model of another run (here: the step before) is not the committed run's final state.
    expect(() => checkModel(model, { jobId: 1n, finalHash: record.stepHashes[T - 1], cid: 'bafkreimodel' })).toThrow(ModelMismatchError);
    expect(() => checkModel(new Uint8Array([1, 2, 3]), { jobId: 1n, finalHash: record.stepHashes[T], cid: 'bafkreijunk' })).toThrow(/not the committed run's final state/);
  }, 60_000);
});

describe('fetchStepHashes over libp2p', () => {
  let net: TestNet | undefined;
  const dirs: string[] = [];
  afterAll(async () => {
    await net?.stop();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  test('skips a forged list announced for the committed root and takes the genuine one', async () => {
    net = await startNet(2);
    const [peer, me] = net.nodes;
    const market = '0x00000000000000000000000000000000000000aa';
    const theirs = Announcements.open(peer, 31337, market);
    const mine = Announcements.open(me, 31337, market);
    const dir = await tempDir('mycel-steps-');
    dirs.push(dir);
    const put = async (name: string, list: string[]) => {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, name), encodeStepHashes(list));
      return (await peer.putFile(join(dir, name))).cid;
    };
    // The forgery comes first, then the genuine list, both announced for the root on chain.
    await theirs.announce({ kind: 'steps', jobId: '7', key: root, cid: await put('forged.json', forged) });
    const logs: string[] = [];
    const ctx = { p2p: me, announcements: mine, dataDir: dir, log: (t: string) => logs.push(t) };
    const fetching = fetchStepHashes(ctx, 7n, root, STEPS, AbortSignal.timeout(30_000));
    await new Promise((r) => setTimeout(r, 500));
    await theirs.announce({ kind: 'steps', jobId: '7', key: root, cid: await put('genuine.json', genuine) });
    expect(await fetching).toEqual(genuine);
    expect(logs.some((l) => l.includes('rejected the steps blob') && l.includes(`do not belong to run root ${root}`))).toBe(true);
    theirs.close();
    mine.close();
  }, 60_000);
});
