/**
 * One DiLoCo / NoLoCo worker on the network: the edge around the pure round rules (diloco.ts) and programs
 * (train/diloco-program.ts). Each round it runs its H inner steps from the round's outer state (with a fresh
 * AdamW state, so anyone can re-execute them from that state alone), puts its pseudo-gradient in the blob
 * store, announces it on the run's topic, and merges the round as its closer lists it.
 *
 * The closer of a round is the lowest worker on the roster. It waits for the roster's deltas until the
 * cut-off, checks each one (announcement, size, shape, digest), re-executes a seeded fraction of them, and
 * publishes the accepted list, the refusals with their reasons, its new outer state (a blob) and the round's
 * commitment. Every other worker fetches and checks the accepted deltas it needs and merges them itself, in
 * worker order: in DiLoCo it must arrive at the closer's state hash bit for bit. A worker left out (late,
 * refused, or whose merge failed) rebases on the closer's state, fetched by CID and checked against its hash.
 * Every round's end state is written to the worker's directory, so a crashed worker restarts from it.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSafetensors, saveSafetensors, type Params } from '../nn/index.js';
import { DILOCO_HISTORY_SCHEMA, DILOCO_SCHEMAS, MAX_DILOCO_HISTORY_BYTES, MAX_DILOCO_MESSAGE_BYTES, dilocoTopic, type DilocoSchemas } from '../p2p/diloco-messages.js';
import type { GossipMessage, GossipTopic } from '../p2p/gossip.js';
import type { MycelNode } from '../p2p/node.js';
import { parseBlobCid } from '../p2p/blob/manifest.js';
import { decodeCheckpoint, encodeCheckpoint } from '../train/checkpoint.js';
import {
  contributionOf,
  deltaDigest,
  genesisCommitment,
  initialOuter,
  innerStart,
  outerAsTrainState,
  outerFromTrainState,
  outerMerge,
  outerStateHash,
  roundCommitment,
  runInnerSteps,
  shardBatcher,
  SHARED_STATE,
  type Contribution,
  type OuterState,
} from '../train/diloco-program.js';
import { runCommitment } from '../train/commitment.js';
import { mergeClaim } from '../train/diloco-jobs.js';
import { stateHash } from '../train/state.js';
import { checkClaim, checkDelta, checkHistory, checkLink, shapesOf, spotCheckSelection, type DilocoSetup, type Refusal, type RoundLink } from './diloco.js';
import { nolocoGroupOf } from './noloco.js';

type DeltaMsg = GossipMessage<DilocoSchemas> & { type: 'delta' };
type CloseBody = Extract<GossipMessage<DilocoSchemas>, { type: 'close' }>['body'];

export type DilocoRunConfig = DilocoSetup & {
  /** The run id (hex): every worker of a run must use the same one. */
  run: string;
  cutoffMs: number;
  spotCheckFraction: number;
};

export type DilocoRoundEvent = {
  round: number;
  worker: number;
  loss: number;
  roster: number[];
  accepted: number[];
  refused: Refusal[];
  commitment: string;
  stateHash: string;
  /** Blob bytes this worker has served and fetched so far. */
  bytesSent: number;
  bytesReceived: number;
  rebased?: string;
};

export type DilocoWorkerOptions = DilocoRunConfig & {
  node: MycelNode;
  worker: number;
  /** The roster at the start (the launcher's workers); a worker that joins a running run passes `join: true`. */
  roster: readonly number[];
  join?: boolean;
  /** Where this worker commits its state after each round. */
  dir: string;
  onRound?: (event: DilocoRoundEvent) => void;
  onLog?: (line: string) => void;
  /** An adversary hook for tests: replaces the delta this worker sends. */
  forge?: (round: number, honest: Params) => Params | undefined;
  signal?: AbortSignal;
};

/** Bytes of a safetensors file's header above its data, at most (names and metadata): a delta blob's size cap. */
const HEADER_ALLOWANCE = 64 * 1024;

export async function runDilocoWorker(o: DilocoWorkerOptions): Promise<{ outer: OuterState }> {
  const { node, program, mode, innerSteps, worker } = o;
  const log = (line: string) => o.onLog?.(line);
  const topic: GossipTopic<DilocoSchemas> = node.topic(dilocoTopic(o.run), DILOCO_SCHEMAS, { maxBytes: MAX_DILOCO_MESSAGE_BYTES });
  await mkdir(o.dir, { recursive: true });
  const shapes = shapesOf(program.init().params);
  const paramBytes = shapes.reduce((n, [, shape]) => n + 4 * shape.reduce((a, b) => a * b, 1), 0);
  const deltaCap = (mode === 'noloco' ? 2 : 1) * paramBytes + HEADER_ALLOWANCE;
  const stateCap = 2 * paramBytes + HEADER_ALLOWANCE + 64 * 1024;
  let received = 0;

  // Everything that arrives is kept by round; the rounds ask for it when they need it.
  const deltas = new Map<number, Map<number, DeltaMsg>>();
  const closes = new Map<number, CloseBody>();
  const closeFrom = new Map<number, string>(); // who sent each close: it serves the state blob
  const joiners = new Set<number>();
  const done = new Set<number>(); // workers that have merged the last round
  const owner = new Map<number, string>(); // worker slot -> the peer that speaks for it (first come)
  const refusedEarly = new Map<number, Refusal[]>();
  // The round this worker is in, and its roster (the launcher's, then each close's).
  let current = 0;
  let roster = new Set(o.roster);
  let wake: () => void = () => undefined;
  const unsubscribe = topic.subscribe((m) => {
    if (m.body.run !== o.run) return;
    const claimed = 'worker' in m.body ? owner.get(m.body.worker) : undefined;
    if (m.type === 'join') {
      if (claimed && claimed !== m.from) return log(`refused join of worker ${m.body.worker}: the slot belongs to peer ${claimed}`);
      owner.set(m.body.worker, m.from);
      joiners.add(m.body.worker);
      const last = [...closes.keys()].sort((a, b) => b - a)[0];
      if (last !== undefined && closes.get(last)!.roster[0] === worker) void topic.publish('close', closes.get(last)!).catch(() => undefined);
    } else if (m.type === 'delta') {
      const refuse = (reason: string) => {
        const list = refusedEarly.get(current) ?? [];
        list.push({ worker: m.body.worker, round: current, reason });
        refusedEarly.set(current, list);
      };
      if (claimed && claimed !== m.from) return refuse(`from peer ${m.from}, but worker ${m.body.worker} is peer ${claimed}: an unknown worker`);
      if (m.body.round < current) return refuse(checkClaim({ round: current, roster }, m.body) ?? `a delta for round ${m.body.round}`);
      owner.set(m.body.worker, m.from);
      const byWorker = deltas.get(m.body.round) ?? new Map();
      if (!byWorker.has(m.body.worker)) byWorker.set(m.body.worker, m as DeltaMsg);
      deltas.set(m.body.round, byWorker);
    } else if (m.type === 'done') {
      done.add(m.body.worker);
    } else if (m.type === 'close') {
      // Only the closer of the round (the lowest worker on the roster) closes it; a joiner, which has no roster
      // yet, takes any close and checks the state it fetches against the close's hash.
      const closerPeer = roster.size ? owner.get(Math.min(...roster)) : undefined;
      if (closerPeer && closerPeer !== m.from) return log(`refused a close of round ${m.body.round} from peer ${m.from}: the closer is ${closerPeer}`);
      closes.set(m.body.round, m.body);
      closeFrom.set(m.body.round, m.from);
    }
    wake();
  });
  const until = async (check: () => boolean, ms: number): Promise<boolean> => {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() >= deadline || o.signal?.aborted) return check();
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, Math.min(200, deadline - Date.now())).unref?.();
      });
    }
    return true;
  };

  const put = async (bytes: Uint8Array, name: string): Promise<{ cid: string; size: number }> => {
    const path = join(o.dir, `${name}.tmp`);
    await writeFile(path, bytes);
    try {
      return await node.putFile(path, undefined, { announce: false });
    } finally {
      await rm(path, { force: true });
    }
  };
  const fetchBytes = async (cid: string, maxBytes: number, providers: string[]): Promise<Uint8Array> => {
    await node.fetch(cid, { maxBytes, providers, timeoutMs: Math.max(5_000, o.cutoffMs) });
    const bytes = new Uint8Array(await readFile(node.store.paths(parseBlobCid(cid)).data));
    received += bytes.byteLength;
    return bytes;
  };
  const checkpointInfo = { jobId: program.id, spec: program.spec, tokenizer: program.tokenizer.toJSON() };
  /** A state blob: refused unless its tensors hash to the hash it is announced with. */
  const fetchState = async (cid: string, hash: string, providers: string[]): Promise<OuterState> => {
    const { state } = decodeCheckpoint(await fetchBytes(cid, stateCap, providers), `state blob ${cid}`);
    const actual = stateHash(state);
    if (actual !== hash) throw new Error(`state blob ${cid} hashes to ${actual}, but it was announced as ${hash}`);
    return outerFromTrainState(state);
  };
  /** Fetches and checks a delta blob: size cap, decodes, shapes, digest. Returns the contribution or the reason. */
  const fetchDelta = async (d: { worker: number; cid: string; digest: string }, from: string[]): Promise<Contribution | string> => {
    let file;
    try {
      file = loadSafetensors(await fetchBytes(d.cid, deltaCap, from));
    } catch (error) {
      return `its blob ${d.cid} could not be used: ${(error as Error).message.split('\n')[0]}`;
    }
    const delta: Params = {};
    const outer: Params = {};
    for (const [name, t] of Object.entries(file.params)) {
      if (name.startsWith('delta.')) delta[name.slice(6)] = t;
      else if (name.startsWith('outer.')) outer[name.slice(6)] = t;
      else return `its blob holds an unexpected tensor ${name}`;
    }
    const problem = checkDelta(shapes, delta, d.digest);
    if (problem) return problem;
    if (mode === 'noloco') {
      const outerProblem = checkDelta(shapes, outer, deltaDigest(outer));
      if (outerProblem) return `its outer parameters: ${outerProblem}`;
      return { worker: d.worker, delta, outer };
    }
    return { worker: d.worker, delta };
  };

  // Wait for the topic's mesh: a message published before any peer subscribes is lost.
  const pubsub = node.host.services.pubsub as { getSubscribers(topic: string): unknown[] };
  const peersWanted = o.join ? 1 : o.roster.length - 1;
  await until(() => pubsub.getSubscribers(dilocoTopic(o.run)).length >= peersWanted, 30_000);

  // The committed state: resume from it, or start (a joiner waits for a close to learn the outer state).
  const committed = await loadCommitted(o.dir, worker);
  let outer: OuterState = committed?.outer ?? initialOuter(program);
  // The run's commitment chain as this worker has checked it, link by link, from the spec's genesis.
  const genesis = genesisCommitment(program);
  let history: RoundLink[] = committed?.history ?? [];
  const head = () => history.at(-1)?.commitment ?? genesis;
  const linkOf = (close: CloseBody, closer: number): RoundLink => ({
    round: close.round,
    deltas: close.accepted.map((a) => ({ worker: a.worker, digest: a.digest })),
    states: [{ worker: mode === 'diloco' ? SHARED_STATE : closer, hash: close.state.hash }],
    commitment: close.commitment,
  });
  /** Takes a close as the next link of the chain, or stops: a close that does not follow it is a forgery. */
  const follow = (close: CloseBody, closer: number) => {
    const problem = close.round === history.length ? checkLink(head(), linkOf(close, closer)) : `it is of round ${close.round}, the chain is at round ${history.length}`;
    if (problem) throw new Error(`the close of round ${close.round} does not follow the run's commitment chain: ${problem}. Its closer (worker ${closer}) is not honest; restart to rejoin`);
    history.push(linkOf(close, closer));
  };
  /** The chain a close names, fetched and checked from the genesis to the close's state; the reason if refused. */
  const fetchHistory = async (close: CloseBody, provider: string): Promise<RoundLink[] | string> => {
    if (!close.history) return 'the close names no commitment chain to check its state against';
    try {
      const text = new TextDecoder().decode(await fetchBytes(close.history, MAX_DILOCO_HISTORY_BYTES, [provider]));
      const links = DILOCO_HISTORY_SCHEMA.parse(JSON.parse(text));
      return checkHistory(genesis, links, { round: close.round, commitment: close.commitment, state: close.state.hash }) ?? links;
    } catch (error) {
      return `its commitment chain ${close.history} could not be used: ${(error as Error).message.split('\n')[0]}`;
    }
  };
  current = outer.round;
  if (o.join || committed) {
    await topic.publish('join', { run: o.run, worker, round: outer.round }).catch(() => undefined);
  }
  if (o.join && !committed) {
    // A new worker fetches the outer state by CID from the latest close, then takes part from the next round.
    // A close whose state blob does not hash to its claim is refused, and the worker waits for another.
    roster = new Set();
    for (;;) {
      for (let waited = 0; closes.size === 0 && waited < 60; waited++) {
        await topic.publish('join', { run: o.run, worker, round: current }).catch(() => undefined);
        await until(() => closes.size > 0, 1_000);
      }
      if (closes.size === 0) throw new Error('no round was closed within 60 s: is the run going, and is --join the address of one of its workers?');
      const last = Math.max(...closes.keys());
      const close = closes.get(last)!;
      closes.delete(last);
      try {
        outer = await fetchState(close.state.cid, close.state.hash, [closeFrom.get(last)!]);
      } catch (error) {
        log(`refused the state of round ${last + 1}: ${(error as Error).message.split('\n')[0]}`);
        continue;
      }
      // Before training from it: the state must be the one the run's chain of round commitments commits.
      const chain = await fetchHistory(close, closeFrom.get(last)!);
      if (typeof chain === 'string') {
        log(`refused the state of round ${last + 1}: ${chain}`);
        continue;
      }
      history = chain;
      roster = new Set(close.roster);
      current = outer.round;
      log(`joined at round ${outer.round}, outer state ${close.state.hash.slice(0, 12)} fetched by CID`);
      break;
    }
    // Take part once a close lists this worker on its roster (the closer adds joiners at a round boundary).
    while (!roster.has(worker)) {
      if (!(await until(() => closes.has(current), 4 * o.cutoffMs + 30_000))) throw new Error(`not admitted by round ${current}'s close in time`);
      const close = closes.get(current)!;
      follow(close, Math.min(...roster));
      outer = await fetchState(close.state.cid, close.state.hash, [closeFrom.get(current)!]);
      roster = new Set(close.roster);
      current = outer.round;
    }
  }

  try {
    while (outer.round < o.rounds && !o.signal?.aborted) {
      const round = outer.round;
      current = round;
      if (!roster.has(worker)) {
        // Dropped from the roster (silent for a round): ask to come back, and follow the closes until admitted.
        await topic.publish('join', { run: o.run, worker, round }).catch(() => undefined);
        if (!(await until(() => closes.has(round), 4 * o.cutoffMs + 30_000))) throw new Error(`round ${round} was not closed in time; restart to rejoin`);
        const close = closes.get(round)!;
        follow(close, Math.min(...roster));
        outer = await fetchState(close.state.cid, close.state.hash, [closeFrom.get(round) ?? ''].filter(Boolean));
        roster = new Set(close.roster);
        log(`round ${round}: not on the roster, rebased on the closer's state`);
        continue;
      }
      // The inner steps' hashes are the inner-step job's h_0 .. h_H: their root is the run this worker stands behind.
      const inner = runInnerSteps(program, shardBatcher(o.batch, o.slots, worker), innerStart(program, outer, innerSteps), innerSteps, { hashSteps: true });
      const innerRun = runCommitment(inner.stepHashes);
      const honest = contributionOf(worker, outer, inner.state.params, mode);
      const sent = { ...honest, delta: o.forge?.(round, honest.delta) ?? honest.delta };
      const tensors: Params = {};
      for (const [name, t] of Object.entries(sent.delta)) tensors[`delta.${name}`] = t;
      if (sent.outer) for (const [name, t] of Object.entries(sent.outer)) tensors[`outer.${name}`] = t;
      const blob = await put(saveSafetensors(tensors, { format: 'mycel-diloco-delta-v1', run: o.run, round: String(round), worker: String(worker) }), `delta-${round}`);
      await topic.publish('delta', { run: o.run, round, worker, cid: blob.cid, bytes: blob.size, digest: deltaDigest(sent.delta), inner: innerRun });
      const closer = Math.min(...roster);
      let close: CloseBody;
      let own: Map<number, Contribution> = new Map([[worker, sent]]);
      if (closer === worker) {
        ({ close, contributions: own } = await closeRound(round, sent, blob.cid));
        closes.set(round, close);
        await topic.publish('close', close);
      } else {
        const got = await until(() => closes.has(round), 4 * o.cutoffMs + 30_000);
        if (!got) throw new Error(`round ${round} was not closed by worker ${closer} in time; restart to rejoin`);
        close = closes.get(round)!;
      }
      follow(close, closer);
      // Merge: the accepted deltas this worker needs (all in DiLoCo, its group in NoLoCo).
      const acceptedIds = close.accepted.map((a) => a.worker);
      let next: OuterState | undefined;
      let rebased: string | undefined;
      if (!acceptedIds.includes(worker)) {
        rebased = close.refused.find((r) => r.worker === worker)?.reason ?? 'it missed the cut-off';
      } else {
        const wanted = mode === 'diloco' ? close.accepted : close.accepted.filter((a) => nolocoGroupOf(o.seed, round, [...roster], worker).includes(a.worker));
        const contributions: Contribution[] = [];
        for (const a of wanted) {
          const c = own.get(a.worker) ?? (await fetchDelta(a, ownerOf(a.worker)));
          if (typeof c === 'string') {
            rebased = `the accepted delta of worker ${a.worker} was refused here: ${c}`;
            break;
          }
          contributions.push(c);
        }
        if (!rebased) {
          next = outerMerge(mode, outer, contributions, o.hyper);
          if (mode === 'diloco' && outerStateHash(next) !== close.state.hash) {
            rebased = `the merge here gives ${outerStateHash(next)}, the closer's state is ${close.state.hash}`;
            next = undefined;
          }
        }
      }
      if (!next) {
        log(`round ${round}: left out (${rebased}); rebasing on the closer's state`);
        next = await fetchState(close.state.cid, close.state.hash, [closeFrom.get(round) ?? '', ...ownerOf(closer)].filter(Boolean));
      }
      outer = next;
      roster = new Set([...close.roster]);
      await commit(o.dir, worker, outer, history, checkpointInfo);
      const losses = inner.losses;
      o.onRound?.({
        round,
        worker,
        loss: losses.reduce((a, b) => a + b, 0) / losses.length,
        roster: [...roster].sort((a, b) => a - b),
        accepted: acceptedIds,
        refused: close.refused.map((r) => ({ ...r, round })),
        commitment: close.commitment,
        stateHash: outerStateHash(outer),
        bytesSent: node.blobBytesServed,
        bytesReceived: received,
        rebased,
      });
    }
    // Keep serving this worker's blobs until every worker on the roster has merged the last round.
    if (outer.round >= o.rounds) {
      await topic.publish('done', { run: o.run, worker, round: outer.round }).catch(() => undefined);
      const others = [...roster].filter((w) => w !== worker);
      await until(() => others.every((w) => done.has(w)), o.cutoffMs);
    }
  } finally {
    unsubscribe();
  }
  return { outer };

  function ownerOf(w: number): string[] {
    const peer = owner.get(w);
    return peer ? [peer] : [];
  }

  /** The closer's part: collect until the cut-off, check, spot-check, merge, commit, and say who is next. */
  async function closeRound(round: number, mine: Contribution, mineCid: string): Promise<{ close: CloseBody; contributions: Map<number, Contribution> }> {
    const expected = [...roster].filter((w) => w !== worker);
    // Stop waiting once every roster worker has sent its delta or been refused this round.
    await until(() => expected.every((w) => deltas.get(round)?.has(w) || refusedEarly.get(round)?.some((r) => r.worker === w)), o.cutoffMs);
    const view = { round, roster };
    const refused: Refusal[] = [...(refusedEarly.get(round) ?? [])];
    const contributions = new Map<number, Contribution>([[worker, mine]]);
    const inners = new Map<number, string | undefined>();
    for (const m of deltas.get(round)?.values() ?? []) {
      if (m.body.worker === worker) continue;
      const claimProblem = checkClaim(view, m.body);
      if (claimProblem) {
        refused.push({ worker: m.body.worker, round, reason: claimProblem });
        continue;
      }
      if (m.body.bytes > deltaCap) {
        refused.push({ worker: m.body.worker, round, reason: `its delta blob is ${m.body.bytes} bytes, over the ${deltaCap}-byte limit` });
        continue;
      }
      const c = await fetchDelta(m.body, [m.from]);
      if (typeof c === 'string') refused.push({ worker: m.body.worker, round, reason: c });
      else {
        contributions.set(m.body.worker, c);
        inners.set(m.body.worker, m.body.inner);
      }
    }
    for (const w of expected) if (!contributions.has(w) && !refused.some((r) => r.worker === w)) refused.push({ worker: w, round, reason: `no delta by the ${o.cutoffMs} ms cut-off: left out, rebases` });
    // Spot-checks: re-execute the chosen workers' inner steps from the round's outer state.
    for (const w of spotCheckSelection(o.seed, round, [...contributions.keys()].filter((x) => x !== worker), o.spotCheckFraction)) {
      const reason = reexecute(w, inners.get(w), contributions.get(w)!);
      if (reason) {
        contributions.delete(w);
        refused.push({ worker: w, round, reason });
      }
    }
    const accepted = [...contributions.values()].sort((a, b) => a.worker - b.worker);
    const groupOf = (w: number) => nolocoGroupOf(o.seed, round, [...roster], w);
    const mineGroup = mode === 'diloco' ? accepted : accepted.filter((c) => groupOf(worker).includes(c.worker));
    const next = outerMerge(mode, outer, mineGroup, o.hyper);
    const hash = outerStateHash(next);
    const merge = mergeClaim(program, { mode, hyper: o.hyper, outer, contributions: mineGroup }, next);
    const stateBlob = await put(encodeCheckpoint(outerAsTrainState(next), checkpointInfo), `state-${round + 1}`);
    const digests = accepted.map((c) => ({ worker: c.worker, digest: deltaDigest(c.delta) }));
    const states = [{ worker: mode === 'diloco' ? SHARED_STATE : worker, hash }];
    const commitment = roundCommitment({ round, previous: head(), deltas: digests, states });
    const chain = await put(new TextEncoder().encode(JSON.stringify([...history, { round, deltas: digests, states, commitment }])), `history-${round}`);
    // Next round's roster: who announced a delta for this round (accepted or not: a refused worker may be honest
    // and late next time), and the joiners. A silent worker drops out; it sends `join` when it is back.
    const spoke = [...(deltas.get(round)?.keys() ?? [])].filter((w) => roster.has(w));
    const nextRoster = [...new Set([worker, ...spoke, ...joiners])].sort((a, b) => a - b);
    joiners.clear();
    const close: CloseBody = {
      run: o.run,
      round,
      accepted: accepted.map((c) => ({ worker: c.worker, digest: deltaDigest(c.delta), cid: c.worker === worker ? mineCid : deltas.get(round)!.get(c.worker)!.body.cid })),
      refused: refused.map(({ worker: w, reason }) => ({ worker: w, reason: reason.slice(0, 500) })),
      state: { cid: stateBlob.cid, hash },
      commitment,
      roster: nextRoster,
      merge,
      history: chain.cid,
    };
    for (const r of refused) log(`round ${round}: refused worker ${r.worker}: ${r.reason}`);
    return { close, contributions };
  }

  /**
   * Re-runs a worker's inner steps from the round's start state (the outer state, a fresh AdamW state); the reason
   * it is excluded if its delta, or the run commitment of its inner-step job it announced, is not what they give.
   */
  function reexecute(w: number, announcedRun: string | undefined, sent: Contribution): string | undefined {
    const inner = runInnerSteps(program, shardBatcher(o.batch, o.slots, w), innerStart(program, outer, innerSteps), innerSteps, { hashSteps: true });
    const honest = deltaDigest(contributionOf(w, outer, inner.state.params, mode).delta);
    const claimed = deltaDigest(sent.delta);
    if (honest !== claimed) return `re-execution of its inner steps gives delta ${honest}, it sent ${claimed}: a forged delta`;
    const run = runCommitment(inner.stepHashes);
    if (announcedRun !== undefined && announcedRun !== run) return `re-execution of its inner-step job gives run ${run}, it committed ${announcedRun}: a forged run`;
    return undefined;
  }
}

/**
 * The worker's committed state: its outer state (its next round starts a fresh AdamW state), written atomically, and the run's commitment
 * chain up to it (written first, so a state file always has its chain).
 */
async function commit(dir: string, worker: number, outer: OuterState, history: readonly RoundLink[], info: Parameters<typeof encodeCheckpoint>[1]): Promise<void> {
  const chainPath = join(dir, `worker-${worker}.history.json`);
  await writeFile(`${chainPath}.tmp`, JSON.stringify(history));
  await rename(`${chainPath}.tmp`, chainPath);
  const bytes = saveSafetensors(
    {
      ...Object.fromEntries(Object.entries(outer.params).map(([n, t]) => [`outer.${n}`, t])),
      ...Object.fromEntries(Object.entries(outer.momentum).map(([n, t]) => [`momentum.${n}`, t])),
    },
    { format: 'mycel-diloco-worker-v2', round: String(outer.round), outerHash: outerStateHash(outer), job: info.jobId },
  );
  const path = join(dir, `worker-${worker}.safetensors`);
  await writeFile(`${path}.tmp`, bytes);
  await rename(`${path}.tmp`, path);
}

async function loadCommitted(dir: string, worker: number): Promise<{ outer: OuterState; history: RoundLink[] } | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(join(dir, `worker-${worker}.safetensors`)));
  } catch {
    return undefined;
  }
  const file = loadSafetensors(bytes);
  if (file.metadata.format !== 'mycel-diloco-worker-v2') throw new Error(`the committed state in ${dir} is of format ${file.metadata.format ?? 'unknown'}, not mycel-diloco-worker-v2 (older workers carried their AdamW state across rounds, this one starts it afresh each round): delete the worker's files to start afresh`);
  const pick = (prefix: string): Params =>
    Object.fromEntries(Object.entries(file.params).filter(([n]) => n.startsWith(prefix)).map(([n, t]) => [n.slice(prefix.length), t]));
  const outer: OuterState = { round: Number(file.metadata.round), params: pick('outer.'), momentum: pick('momentum.') };
  if (outerStateHash(outer) !== file.metadata.outerHash) throw new Error(`the committed state in ${dir} does not hash to its claim: delete it to start afresh`);
  let history: RoundLink[];
  try {
    history = DILOCO_HISTORY_SCHEMA.parse(JSON.parse(await readFile(join(dir, `worker-${worker}.history.json`), 'utf8')));
  } catch (error) {
    throw new Error(`the commitment chain beside the committed state in ${dir} is missing or unreadable (${(error as Error).message.split('\n')[0]}): delete the worker's files to start afresh`);
  }
  if (history.length !== outer.round) throw new Error(`the commitment chain in ${dir} has ${history.length} rounds, the committed state is at round ${outer.round}: delete the worker's files to start afresh`);
  return { outer, history };
}
