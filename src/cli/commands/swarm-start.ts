import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FlagError, interruptedExit, intFlag, maxMemoryFlag, type Command, type Flags } from '../command.js';
import { checkSwarmMemory, sapoRoundMemory } from '../../swarm/memory.js';
import { loadConfig } from '../../p2p/config.js';
import { loadIdentity } from '../../p2p/identity.js';
import { MycelNode } from '../../p2p/node.js';
import { parseMultiaddr } from '../../p2p/host.js';
import { createSapoNode } from '../../swarm/round.js';
import { buildProgram, policySpec } from '../../swarm/sapo-policy.js';
import { runSapoNode, type SapoEvent } from '../../swarm/sapo-node.js';
import { HOSTILE_KINDS } from '../../swarm/sapo-adversary.js';
import { DATA_DIR_FLAGS, dataDirOf } from './p2p-flags.js';
import { createNodeMetrics, serveMetrics } from '../../node/metrics.js';
import { Observer, serveDashboard, servePresence, type ServedSwarm } from '../../node/index.js';
import { openNodeLog, type NodeLog } from '../../node/log.js';
import { logDir, logFile } from '../service.js';
import { CHAIN_HOSTILE_KINDS, SAPO_FLAGS, chainHostileOf, hostileOf, sapoSettings, startingPolicy } from './sapo-flags.js';
import { fetchPolicy } from '../../swarm/sapo-node.js';
import { openSwarmChain, swarmChainNode, type SwarmChainNode } from '../../node/swarm-node-chain.js';
import { UsageError } from '../../platform/errors.js';
import { formatUnits, getAddress, isAddress, type Address, type Hex } from 'viem';

export const swarmStart: Command = {
  name: 'swarm start',
  summary: 'join (or found) an RL swarm (SAPO): share rollouts, check peers\', train with GRPO',
  description: [
    'Each round the node answers its questions (derived from the round beacon and its id), gossips the',
    'rollouts, checks its peers\' (questions, answers and rewards recomputed; a fraction re-executed from',
    'their policy blob), and takes a GRPO step on I own + J peers\' questions. Rounds start at',
    'genesis + r * round-ms (Unix ms; nodes of one swarm use the same values). Per-round metrics go to',
    '<data-dir>/sapo/sapo-metrics.jsonl with a plot, sapo-reward.svg. It logs to <data-dir>/logs/current.log',
    '(pino JSON lines: start, rounds, rejected rollouts, dropped peers, stop; rolled over past 10 MiB, 5 old ones kept).',
    'With --rpc, --key-file and --coordinator the node also plays the swarm\'s rounds on chain (docs/swarm-chain.md):',
    'its rounds are the coordinator\'s (round r lasts its commit window, COMMIT_BLOCKS blocks; --round-ms and',
    '--genesis are then unused); each round it commits its rollouts root, policy hash and used root, fixes the',
    'beacon, evaluates its policy and claims the score, re-executes a sample of its peers\' claims (--check) and',
    'challenges the wrong ones, defends its own claim, and collects its bonds and rewards. One key is the node\'s',
    'PeerId and its chain account, registered with a stake (mycel wallet stake). --rounds R stops before round R,',
    'once the rounds before it are collected. On chain the blocks pace the rounds (--peers is unused).',
    'Example: mycel swarm start --split 4/4 --bootstrap /ip4/10.0.0.2/tcp/4001/p2p/16Uiu2...',
    'Example: mycel swarm start --rpc http://127.0.0.1:8545 --key-file node.key --coordinator 0x... --model micro',
  ].join('\n'),
  flags: {
    ...DATA_DIR_FLAGS,
    ...SAPO_FLAGS,
    port: { type: 'string', value: 'N', description: 'TCP port (0 = any free port). Default 4001' },
    host: { type: 'string', value: 'IP', description: 'Interface to listen on. Default 0.0.0.0' },
    bootstrap: { type: 'string', value: 'MULTIADDR', multiple: true, description: 'A peer to join through (repeatable)' },
    key: { type: 'string', value: 'FILE', description: 'secp256k1 key file (0x-hex). Created with mode 0600 if missing' },
    genesis: { type: 'string', value: 'MS', description: 'When round 0 starts (Unix ms). Default 0: round = now / round-ms' },
    'genesis-file': { type: 'string', value: 'FILE', description: 'Wait until FILE holds the genesis (Unix ms): how swarm local starts its nodes together' },
    peers: { type: 'string', value: 'N', description: 'Pace rounds by the peers: go on to the next round once N peers\' rollouts are in; the round clock only bounds the wait (default: every round lasts until its end on the clock)' },
    'max-memory': { type: 'string', value: 'GIB', description: 'Refuse to join when a round\'s memory estimate is above this (default: 80% of RAM)' },
    'metrics-port': { type: 'string', value: 'N', description: 'Serve Prometheus metrics (peers, gossip, blobs, rounds: reward, accuracy, loss, rollouts) on http://127.0.0.1:N/metrics (0 = any free port). Default: off' },
    'tabs-port': { type: 'string', value: 'N', description: 'Serve browser tabs a page (http://127.0.0.1:N/node, behind a token; 0 = any free port) that takes rounds in this swarm over WebSockets (--ws-port). Default: off' },
    'ws-port': { type: 'string', value: 'N', description: 'WebSockets port for browser tabs, with --tabs-port (0 = any). Default 0' },
    hostile: { type: 'string', value: 'KIND', description: `Testing a swarm's defences: send hostile rollouts (${HOSTILE_KINDS.join(', ')}), or with --rpc cheat on the coordinator (${CHAIN_HOSTILE_KINDS.join(', ')})` },
    rpc: { type: 'string', value: 'URL', description: 'EVM JSON-RPC URL of the chain the swarm coordinator is on: play the rounds on chain (with --key-file and --coordinator)' },
    'key-file': { type: 'string', value: 'FILE', description: 'With --rpc: the node\'s secp256k1 key (0x-hex), both its PeerId and its registered chain account (in place of --key)' },
    coordinator: { type: 'string', value: 'ADDR', description: 'With --rpc: the SwarmCoordinator\'s address' },
    check: { type: 'string', value: 'F', description: 'With --rpc: the fraction of the peers\' score claims re-executed (0..1). Default 0.25' },
  },
  async run({ flags, out, signal }) {
    const settings = await sapoSettings(flags);
    const program = buildProgram(policySpec(settings.config, { model: settings.model, seed: settings.seed, steps: settings.pretrainSteps }));
    // Before anything is trained or joined: a round that does not fit is refused with its figures.
    const memory = sapoRoundMemory(program.spec, program.tokenizer.vocabSize, settings.config);
    checkSwarmMemory(`A round of this RL swarm (${settings.modelName} model, split ${settings.config.own}/${settings.config.external}, ${settings.config.completions} completions)`, memory, maxMemoryFlag(flags), 'Choose a smaller --model, --split or --completions');
    out.log(`a round needs about ${(memory.bytes / 2 ** 20).toFixed(0)} MiB (${memory.breakdown})`);
    const hostile = hostileOf(flags);
    const chainFlags = chainFlagsOf(flags);
    let genesisMs = intFlag(flags, 'genesis', 0, 0);
    const expectPeers = flags.peers === undefined ? undefined : intFlag(flags, 'peers', 0, 0, 10_000);
    const tabsPort = flags['tabs-port'] === undefined ? undefined : intFlag(flags, 'tabs-port', 0, 0, 65535);
    const net = await loadConfig({
      dataDir: dataDirOf(flags),
      // WebSockets only for browser tabs (they cannot dial TCP).
      overrides: { tcpPort: flags.port === undefined ? undefined : intFlag(flags, 'port', 0, 0, 65535), wsPort: tabsPort === undefined ? -1 : intFlag(flags, 'ws-port', 0, 0, 65535), host: flags.host, bootstrap: flags.bootstrap, keyFile: chainFlags?.keyFile ?? flags.key },
    });
    const dir = join(net.dataDir, 'sapo');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const identity = await loadIdentity(net.keyFile, { create: !chainFlags });
    // Before the swarm: the chain answers, the coordinator admits this model, the node may bond.
    const chain = chainFlags && (await openSwarmChain({ rpcUrl: chainFlags.rpc, privateKey: `0x${Buffer.from(identity.privateKey.raw).toString('hex')}` as Hex, coordinator: chainFlags.coordinator, model: settings.model, config: settings.config, dataDir: join(dir, 'chain'), log: (t) => info(t) }));
    const policy = await startingPolicy(dir, program, settings, (text) => out.log(text));
    const node = createSapoNode({ id: identity.peerId.toString(), key: identity.privateKey.raw, config: settings.config, asks: settings.asks, program, policy });
    const p2p = await MycelNode.start({ ...net, identity });
    let log: NodeLog | undefined;
    const metrics = flags['metrics-port'] === undefined ? undefined : createNodeMetrics({ name: 'swarm', p2p });
    const served = metrics && (await serveMetrics(metrics.registry, { port: intFlag(flags, 'metrics-port', 0, 0, 65535) }));
    let tabs: (() => Promise<void>) | undefined;
    try {
      log = await openNodeLog(logDir(net.dataDir), 'swarm');
      await reachBootstrap(p2p, net.bootstrap, (text) => info(text));
      const multiaddrs = p2p.multiaddrs().map((a) => (a.includes('/p2p/') ? a : `${a}/p2p/${p2p.peerId}`));
      const ready = { type: 'ready', peerId: identity.peerId.toString(), multiaddrs, policy: node.blob.hash, dataDir: dir, log: logFile(net.dataDir), ...(served ? { metrics: served.url } : {}) };
      out.result(ready, `PeerId ${identity.peerId}\nListening on:\n${multiaddrs.map((a) => `  ${a}`).join('\n')}\nStarting policy ${node.blob.hash.slice(0, 16)}${served ? `\nMetrics ${served.url}` : ''}\nLog ${ready.log}`);
      log.logger.info(ready, 'swarm node started');
      const stop = new AbortController();
      const onTerm = () => stop.abort();
      process.once('SIGTERM', onTerm);
      signal.addEventListener('abort', onTerm, { once: true });
      if (typeof flags['genesis-file'] === 'string') genesisMs = await waitForGenesis(flags['genesis-file'], stop.signal);
      // Once the clock is known: browser tabs take rounds from the starting policy (web/node/swarm.ts).
      if (tabsPort !== undefined) tabs = await serveTabs(p2p, { port: tabsPort, swarm: { config: settings.config, genesisMs, roundMs: settings.roundMs, policy: { hash: node.blob.hash, bytes: node.blob.bytes } } }, (url) => out.result({ type: 'tabs', url }, `Browser tabs take rounds at ${url}`));
      let driver: SwarmChainNode | undefined;
      let looping: Promise<void> | undefined;
      let sapoDone = false;
      let last = -1n;
      const balance0 = chain && (await chain.balance());
      if (chain) {
        driver = swarmChainNode({
          ctx: chain.ctx, clock: chain.clock, modelConfig: chain.modelConfig, checkFraction: chainFlags.check, secret: identity.privateKey.raw,
          fetchPolicy: (cid, provider) => fetchPolicy(p2p, cid, provider), ...(chainHostileOf(flags) ? { hostile: chainHostileOf(flags)! } : {}),
          ...(chain.sameStep ? { step: { program, config: settings.config } } : {}),
          ...(chain.sameRollout ? { rollout: { program, config: settings.config } } : {}),
          onEvent: (e) => {
            log?.logger.info(e, e.action);
            if (typeof e.message !== 'string') out.result(e, `round ${e.round}: ${e.action} ${Object.entries(e).filter(([k]) => !['type', 'round', 'action'].includes(k)).map(([k, v]) => `${k} ${String(v)}`).join(', ')}`);
            else out.result(e, e.message);
          },
          signal: stop.signal,
        });
        const d = driver;
        looping = d.loop(() => sapoDone && d.settled(last));
        info(`On chain: coordinator ${chainFlags.coordinator}, round r = blocks [${chain.clock.start} + r·${chain.clock.commitBlocks}, +${chain.clock.commitBlocks}), account ${chain.ctx.address}`);
        if (chain.note) info(`On chain: ${chain.note}`);
      }
      const final = await runSapoNode({
        p2p, node, dataDir: dir, rounds: settings.rounds, signal: stop.signal, hostile, onEvent: (e) => report(e),
        ...(driver
          ? { genesisMs: driver.genesisMs, roundMs: driver.roundMs, now: driver.now, onPublished: (p) => { last = BigInt(p.round); driver.published(p); withhold(p.rollout.cid); }, onFinished: (f) => driver.finished(f) }
          : { genesisMs, roundMs: settings.roundMs, expectPeers }),
      });
      sapoDone = true;
      if (looping && driver && chain) {
        info(`Swarm rounds over: settling the rounds on chain up to round ${last} (claims, checks, disputes, collects)`);
        await looping;
        const net = (await chain.balance()) - balance0!;
        const t = driver.tally;
        const summary = { type: 'chain-done', address: chain.ctx.address, committed: t.committed, claimed: t.claimed, challenged: t.challenged, challengesWon: t.won, challengesLost: t.lost, defended: t.defended, paid: String(t.paid), usesProven: t.usesProven, usePaid: String(t.usePaid), net: String(net) };
        out.result(summary, `On chain: ${t.committed} commits, ${t.claimed} claims, ${t.challenged} challenges (${t.won} won, ${t.lost} lost), ${t.defended} disputes defended, ${t.usesProven} uses of its rollouts proven (use share ${formatUnits(t.usePaid, 18)} MYC); net ${formatUnits(net, 18)} MYC`);
        log.logger.info(summary, 'swarm chain settled');
      }
      process.off('SIGTERM', onTerm);
      // Each dropped peer with why, and what it costs it here: our reputation and its gossip score.
      const dropped = [...final.dropped].map(([peer, reason]) => ({ peer, reason, ...p2p.scoreOf(peer) }));
      const done = { type: 'done', round: final.round, policy: final.blob.hash, dropped };
      out.result(done, `Stopped at round ${final.round}.${dropped.map((d) => `\n  dropped ${d.peer}: ${d.reason}`).join('')}`);
      log.logger.info(done, 'swarm node stopped');
      // Cut short by Ctrl-C or SIGTERM (its rounds so far are in its data dir): 130 or 143, as swarm train and swarm local.
      return interruptedExit(signal);
    } catch (error) {
      log?.logger.error({ err: error }, (error as Error).message);
      throw error;
    } finally {
      await tabs?.();
      await served?.close();
      await p2p.stop();
      await log?.close();
    }

    /** --hostile withhold-policy: the policy blob of the rollout just published is not served (its peers cannot fetch it). */
    function withhold(cid: string): void {
      if (chainHostileOf(flags) === 'withhold-policy') void p2p.removeBlob(cid);
    }

    function info(text: string): void {
      out.log(text);
      log?.logger.info(text);
    }

    function report(e: SapoEvent): void {
      if (e.type === 'reject') log?.logger.warn(e, `rejected a rollout of ${e.peer}: ${e.reason}`);
      else if (e.type !== 'round' && e.type !== 'skip') log?.logger.info(e.message);
      else log?.logger.info(e, e.type);
      if (e.type === 'round') {
        const m = e.metrics;
        metrics?.round({ round: m.round, reward: m.reward, accuracy: m.accuracy, rolloutsIn: m.rolloutsIn, rolloutsOut: m.rolloutsOut, dropped: m.dropped.length, ...(m.loss === undefined ? {} : { loss: m.loss }) });
        out.result({ type: 'round', ...m, seconds: e.seconds }, `round ${m.round}: reward ${m.reward.toFixed(3)}  accuracy ${m.accuracy.toFixed(2)}  rollouts in ${m.rolloutsIn} out ${m.rolloutsOut}  trained ${m.trainedOwn}+${m.trainedExternal}  dropped ${m.dropped.length}  ${e.seconds.toFixed(1)} s`);
      } else if (e.type === 'reject') {
        out.result(e, `rejected a rollout of ${e.peer} (round ${e.round}): ${e.reason}`);
      } else if (e.type === 'skip') {
        out.result(e, `behind the clock: skipping from round ${e.from} to ${e.to}`);
      } else out.log(e.message);
    }
  },
};

/** --rpc, --key-file, --coordinator and --check, all or none of the first three. */
function chainFlagsOf(flags: Flags): { rpc: string; keyFile: string; coordinator: Address; check: number } | undefined {
  const given = ['rpc', 'key-file', 'coordinator'].filter((f) => flags[f] !== undefined);
  if (given.length === 0) {
    if (flags.check !== undefined || chainHostileOf(flags)) throw new UsageError(`--${flags.check !== undefined ? 'check' : `hostile ${String(flags.hostile)}`} is about the swarm's rounds on chain: add --rpc URL --key-file FILE --coordinator ADDR.`);
    return undefined;
  }
  if (given.length < 3) throw new UsageError(`Playing the swarm's rounds on chain needs --rpc URL, --key-file FILE and --coordinator ADDR; missing ${['rpc', 'key-file', 'coordinator'].filter((f) => !given.includes(f)).map((f) => `--${f}`).join(', ')}.`);
  if (flags.key !== undefined) throw new UsageError('With --rpc the node\'s key is --key-file (its PeerId and its chain account): drop --key.');
  if (!isAddress(flags.coordinator as string)) throw new FlagError('coordinator', 'a 0x address', String(flags.coordinator));
  const check = flags.check === undefined ? 0.25 : Number(flags.check);
  if (!(check >= 0 && check <= 1)) throw new FlagError('check', 'a fraction from 0 to 1', String(flags.check));
  return { rpc: flags.rpc as string, keyFile: flags['key-file'] as string, coordinator: getAddress(flags.coordinator as string), check };
}

/** How long a node keeps dialing a bootstrap peer that refuses it (libp2p refuses bursts of inbound connections from one address). */
const BOOTSTRAP_DIAL_MS = 60_000;

/** Dials each bootstrap peer until it answers (libp2p's bootstrap discovery tries once), saying so if one never does. */
async function reachBootstrap(p2p: MycelNode, addrs: readonly string[], log: (text: string) => void): Promise<void> {
  await Promise.all(
    addrs.map(async (addr) => {
      const until = Date.now() + BOOTSTRAP_DIAL_MS;
      while (Date.now() < until) {
        if (await p2p.host.dial(parseMultiaddr(addr), { signal: AbortSignal.timeout(10_000) }).then(() => true, () => false)) return;
        await new Promise((r) => setTimeout(r, 500));
      }
      log(`Could not reach the bootstrap peer ${addr} in ${BOOTSTRAP_DIAL_MS / 1000} s; carrying on with the peers found otherwise.`);
    }),
  );
}

async function waitForGenesis(file: string, signal: AbortSignal): Promise<number> {
  while (!signal.aborted) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (/^\d+\s*$/.test(text)) return Number(text);
    await new Promise((r) => setTimeout(r, 100));
  }
  return 0;
}

/** The browser node page for this swarm, behind a fresh token; returns what stops serving it. */
async function serveTabs(p2p: MycelNode, o: { port: number; swarm: ServedSwarm }, say: (url: string) => void): Promise<() => Promise<void>> {
  const observer = new Observer('swarm');
  observer.attachP2p(p2p);
  const stopPresence = servePresence(p2p, 'swarm');
  const token = randomBytes(16).toString('hex');
  const server = await serveDashboard(observer, { token, port: o.port, tokenHint: 'the URL that mycel swarm start printed (a new token each start)', swarm: o.swarm });
  say(`${server.origin}/node?token=${token}`);
  return async () => {
    stopPresence();
    observer.close();
    await server.close();
  };
}
