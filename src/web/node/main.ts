/**
 * A browser tab as a mycel node: its key (IndexedDB), its libp2p node (WebSockets to the node that served the page,
 * reachable by others through that node's relay), presence gossip, and the runtime in a Web Worker that trains a job
 * and computes its run commitment, the same bits as a Node solver, and, where the node serves a chain, solving jobs on
 * the market (market.ts). What it is doing is shown on the page and kept in
 * `window.__mycelTab` (tests and `bench browser` read it).
 */
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { privateKeyFromRaw } from '@libp2p/crypto/keys';
import { decodePresence, encodePresence, PRESENCE_EVERY_MS, TABS_TOPIC } from '../../node/dashboard/tabs.js';
import { PRESETS } from '../../train/presets.js';
import type { JobSpecInput } from '../../train/spec.js';
import { h, fill, short } from '../dashboard/dom.js';
import { detectCaps } from './caps.js';
import { addressOf, KeyImportError, loadOrCreateKey, parseKey, saveKey, toHex } from './key.js';
import { dialAny, reach, startTabHost, type TabHost } from './libp2p.js';
import type { ChainInfo, MarketState } from './market.js';
import type { EIP1193Provider } from 'viem';
import type { SwarmInfo, SwarmState, SwarmWorker } from './swarm.js';
import type { SwarmFinishResult, SwarmRoundResult } from './swarm-round.js';
import type { VerifierState } from './verifier.js';
import type { DisputeOutcome } from '../../node/dispute.js';
import type { DefendJobRequest, VerifyJobRequest, VerifyOutcome } from './verify-job.js';
import type { JobRulesFacts, WalletReply, WorkerReply, WorkerRequest } from './worker.js';

export type TabState = {
  caps: ReturnType<typeof detectCaps>;
  peerId?: string;
  address?: string;
  connectedTo?: string;
  /** ms from page load to the first gossip message heard from another peer. */
  firstGossipMs?: number;
  /** ms from page load to each stage of joining (script running, key loaded, libp2p started, connected): where the time to first gossip goes. */
  marks: Record<string, number>;
  peers: number;
  /** Its addresses through the relay: plain (a relayed connection) and WebRTC (the relay carries only the handshake). */
  relayAddrs: string[];
  webrtcAddrs: string[];
  /** Open direct WebRTC connections (to other tabs). */
  webrtcPeers: string[];
  job?: { name: string; steps: number; step: number; loss?: number };
  /** `matmul`: the matmul kernel that ran in the worker (wasm-fma, reference). */
  result?: { commitment: string; stepHashes: string[]; tokensPerS: number; seconds: number; kernels: string; threads: number; matmul: string };
  /** Its work on the job market, when the node serves a chain: as a solver, and as a verifier. */
  market?: MarketState;
  verifier?: VerifierState;
  /** Its round in the SAPO swarm the node runs, if it runs one. */
  swarm?: SwarmState;
  error?: string;
};

const tab: TabState = { caps: detectCaps(), peers: 0, relayAddrs: [], webrtcAddrs: [], webrtcPeers: [], marks: { script: performance.now() } };
const mark = (name: string) => { tab.marks[name] = Math.round(performance.now()); };
(window as unknown as { __mycelTab: TabState }).__mycelTab = tab;
/** Reaches another tab by its relay address (tests and the bench call it). */
(window as unknown as { __mycelReach: (addr: string) => ReturnType<typeof reach> }).__mycelReach = (addr) => {
  if (!host) throw new Error('this tab\'s libp2p node is not started yet');
  return reach(host, addr);
};
let host: TabHost | undefined;

function renderCaps(): void {
  const c = tab.caps;
  fill('caps',
    h('p', {}, `Kernels: ${c.kernels === 'fast' ? 'WebAssembly SIMD' : 'reference (scalar)'} on ${c.threads} thread${c.threads === 1 ? '' : 's'} (this machine reports ${c.cores} cores).`),
    c.missing.length
      ? h('p', { class: 'warn', id: 'caps-missing' }, `This browser lacks ${c.missing.join(' and ')}: the runtime falls back to ${c.simd ? 'the WebAssembly SIMD kernels on one thread' : 'the reference kernels on one thread'}. Results are the same bits, only slower.`)
      : h('p', { class: 'ok' }, 'SharedArrayBuffer and WebAssembly SIMD are available; the page is cross-origin isolated.'),
  );
}

function renderNet(): void {
  fill('net',
    h('p', {}, tab.connectedTo ? h('span', {}, 'Connected over WebSockets to ', h('code', {}, tab.connectedTo)) : tab.error ? h('span', { class: 'warn' }, tab.error) : 'Connecting…'),
    h('p', {}, `${tab.peers} connection${tab.peers === 1 ? '' : 's'}; first gossip message ${tab.firstGossipMs === undefined ? 'not yet' : `${Math.round(tab.firstGossipMs)} ms after page load`}.`),
    tab.relayAddrs.length ? h('p', {}, 'Reachable by other tabs through the relay at ', h('code', {}, tab.relayAddrs[0])) : h('p', { class: 'muted' }, 'No relay reservation yet.'),
    tab.webrtcAddrs.length ? h('p', {}, 'Directly over WebRTC (the relay carries the handshake only) at ', h('code', {}, tab.webrtcAddrs[0])) : null,
    tab.webrtcPeers.length ? h('p', { class: 'ok' }, `Direct WebRTC connection${tab.webrtcPeers.length === 1 ? '' : 's'} to ${tab.webrtcPeers.map((p) => p.slice(-8)).join(', ')}.`) : null,
  );
}

function renderJob(): void {
  const j = tab.job;
  const r = tab.result;
  fill('job',
    j ? h('p', {}, `${j.name}: step ${j.step} of ${j.steps}${j.loss === undefined ? '' : `, loss ${j.loss.toFixed(4)}`}`) : h('p', { class: 'muted' }, 'No job running.'),
    r ? h('div', { class: 'result' },
      h('p', {}, 'Run commitment ', h('code', { id: 'commitment' }, r.commitment)),
      h('p', {}, `${r.tokensPerS.toFixed(0)} tokens/s over ${r.seconds.toFixed(2)} s (${r.kernels} kernels, matmul ${r.matmul}, ${r.threads} thread${r.threads === 1 ? '' : 's'}).`)) : null,
  );
}

async function identity(): Promise<Uint8Array> {
  const { key, created } = await loadOrCreateKey();
  mark('key');
  tab.peerId = peerIdFromPrivateKey(privateKeyFromRaw(key)).toString();
  tab.address = addressOf(key);
  fill('identity',
    h('p', {}, 'PeerId ', short(tab.peerId, 10), ' · account ', short(tab.address, 8), created ? ' (new key, kept in this browser)' : ' (key kept in this browser)'),
  );
  return key;
}

function wireKeyButtons(current: () => Uint8Array): void {
  const box = document.getElementById('key-text') as HTMLTextAreaElement;
  const note = document.getElementById('key-note')!;
  document.getElementById('key-export')!.addEventListener('click', () => {
    box.value = toHex(current());
    note.textContent = 'This is your node\'s private key: it controls its account. Keep it secret; paste it into "Import" in another browser to move this node there.';
  });
  document.getElementById('key-import')!.addEventListener('click', () => {
    try {
      const key = parseKey(box.value);
      void saveKey(key).then(() => location.reload());
    } catch (error) {
      note.textContent = error instanceof KeyImportError ? error.message : String(error);
    }
  });
}

/** The serving node's addresses, asked for as the script starts: the request overlaps loading the key. */
const nodeInfo = fetch('/api/node').then((r) => r.json() as Promise<{ multiaddrs: string[]; peerId?: string }>);
nodeInfo.catch(() => undefined); // awaited (and reported) in network()

async function network(key: Uint8Array): Promise<void> {
  const info = await nodeInfo;
  const ws = info.multiaddrs.filter((a) => /\/(ws|wss)(\/|$)/.test(a)).map((a) => (a.includes('/p2p/') ? a : `${a}/p2p/${info.peerId}`));
  host = await startTabHost(key);
  mark('libp2p');
  host.services.pubsub.subscribe(TABS_TOPIC);
  host.services.pubsub.addEventListener('message', (e) => {
    if (e.detail.topic !== TABS_TOPIC || !decodePresence(e.detail.data)) return;
    if (tab.firstGossipMs === undefined) {
      tab.firstGossipMs = performance.now();
      renderNet();
    }
  });
  const update = () => {
    tab.peers = host!.getConnections().length;
    const addrs = host!.getMultiaddrs().map(String).filter((a) => a.includes('/p2p-circuit'));
    tab.relayAddrs = addrs.filter((a) => !a.includes('/webrtc'));
    tab.webrtcAddrs = addrs.filter((a) => a.includes('/webrtc'));
    tab.webrtcPeers = host!.getConnections().filter((c) => c.remoteAddr.toString().includes('/webrtc')).map((c) => c.remotePeer.toString());
    renderNet();
  };
  host.addEventListener('connection:open', update);
  host.addEventListener('connection:close', update);
  host.addEventListener('self:peer:update', update);
  tab.connectedTo = await dialAny(host, ws);
  mark('connected');
  update();
  setInterval(() => void host!.services.pubsub.publish(TABS_TOPIC, encodePresence({ kind: 'tab', at: Date.now(), name: tab.peerId!.slice(-8) })).catch(() => undefined), PRESENCE_EVERY_MS);
  // Leaving: the connections close (and with them the relay reservation) when the tab goes, not minutes later.
  addEventListener('pagehide', () => void host?.stop());
}

/** The job the node offers (GET /api/job), else the preset picked on the page. */
async function offeredJob(): Promise<{ name: string; spec: JobSpecInput } | undefined> {
  const res = await fetch('/api/job');
  if (res.status === 204) return undefined;
  return (await res.json()) as { name: string; spec: JobSpecInput };
}

/** The job's dispute-rule facts, built in a worker (a pass over every step's program). */
export function jobFactsOf(spec: JobSpecInput): Promise<JobRulesFacts> {
  const worker = new Worker('/node-worker.js', { type: 'module' });
  return new Promise<JobRulesFacts>((ok, fail) => {
    worker.onmessage = (e: MessageEvent<WorkerReply>) => {
      worker.terminate();
      if (e.data.kind === 'facts') ok(e.data);
      else fail(new Error(e.data.kind === 'error' ? e.data.message : `unexpected ${e.data.kind} from the worker`));
    };
    worker.onerror = (e) => fail(new Error(e.message));
    worker.postMessage({ kind: 'facts', spec, kernels: tab.caps.kernels, threads: 1 } satisfies WorkerRequest);
  });
}

/** Trains a job in a worker; `keep`: also returns its checkpoints (kept out of `tab.result`, which tests read whole). */
export function runJob(name: string, spec: JobSpecInput, keep = false): Promise<NonNullable<TabState['result']> & { checkpoints?: [number, Uint8Array][] }> {
  const worker = new Worker('/node-worker.js', { type: 'module' });
  const { kernels, threads } = tab.caps;
  tab.result = undefined;
  tab.job = { name, steps: spec.steps ?? 0, step: 0 };
  renderJob();
  return new Promise((ok, fail) => {
    worker.onmessage = (e: MessageEvent<WorkerReply>) => {
      const m = e.data;
      if (m.kind === 'step') tab.job = { name, steps: m.steps, step: m.step, loss: m.loss };
      else if (m.kind === 'done') {
        tab.result = { commitment: m.commitment, stepHashes: m.stepHashes, tokensPerS: m.tokensPerS, seconds: m.seconds, kernels, threads, matmul: m.matmul };
        worker.terminate();
        ok({ ...tab.result, ...(m.checkpoints ? { checkpoints: m.checkpoints } : {}) });
      } else {
        const message = m.kind === 'error' ? m.message : `unexpected ${m.kind} from the worker`;
        tab.error = message;
        worker.terminate();
        fail(new Error(message));
      }
      renderJob();
    };
    worker.onerror = (e) => fail(new Error(e.message));
    leaving.signal.addEventListener('abort', () => worker.terminate(), { once: true });
    worker.postMessage({ kind: 'run', spec, kernels, threads, keep } satisfies WorkerRequest);
  });
}

/**
 * A job's dispute work in a worker of its own (verify-job.ts): verifying a committed job (and challenging it), or
 * defending the tab's own root. Its training steps show as the running job; the worker's wallet requests go to the
 * browser's wallet, which only the page can reach.
 */
function disputeInWorker(name: string, request: WorkerRequest, progress: (text: string) => void): Promise<WorkerReply> {
  const worker = new Worker('/node-worker.js', { type: 'module' });
  return new Promise<WorkerReply>((ok, fail) => {
    worker.onmessage = (e: MessageEvent<WorkerReply>) => {
      const m = e.data;
      if (m.kind === 'step') {
        tab.job = { name, steps: m.steps, step: m.step, loss: m.loss };
        return renderJob();
      }
      if (m.kind === 'log') return progress(m.text);
      if (m.kind === 'tx') return;
      if (m.kind === 'wallet-request') {
        const wallet = injectedWallet();
        const reply = (r: Omit<WalletReply, 'kind' | 'id'>) => worker.postMessage({ kind: 'wallet-reply', id: m.id, ...r } satisfies WalletReply);
        if (!wallet) return reply({ error: { message: 'This browser has no wallet (window.ethereum).' } });
        void wallet.request({ method: m.method, params: m.params } as never).then(
          (result) => reply({ result }),
          (error: { message?: string; code?: number }) => reply({ error: { message: String(error?.message ?? error), ...(typeof error?.code === 'number' ? { code: error.code } : {}) } }),
        );
        return;
      }
      worker.terminate();
      if (m.kind === 'error') fail(new Error(m.message));
      else ok(m);
    };
    worker.onerror = (e) => fail(new Error(e.message));
    leaving.signal.addEventListener('abort', () => worker.terminate(), { once: true });
    worker.postMessage(request);
  });
}

/** Verifies a committed job in a worker (verify-job.ts verifyJob). */
async function verifyInWorker(req: VerifyJobRequest, progress: (text: string) => void): Promise<VerifyOutcome> {
  const m = await disputeInWorker(`verifying job ${req.job.jobId}`, { kind: 'verify', ...req, ...kernelsOf() }, progress);
  if (m.kind !== 'verdict') throw new Error(`unexpected ${m.kind} from the worker`);
  return m;
}

/** Plays a dispute on the tab's own root as the solver, in a worker (verify-job.ts defendJob). */
async function defendInWorker(req: DefendJobRequest, progress: (text: string) => void): Promise<DisputeOutcome> {
  const m = await disputeInWorker(`defending job ${req.jobId}`, { kind: 'defend', ...req, ...kernelsOf() }, progress);
  if (m.kind !== 'ruled') throw new Error(`unexpected ${m.kind} from the worker`);
  return m;
}

const kernelsOf = () => ({ kernels: tab.caps.kernels, threads: tab.caps.threads });

/**
 * The tab's swarm node lives in one worker for as long as the tab stays (swarm-round.ts keeps its policy between
 * rounds); the page asks it one thing at a time.
 */
function swarmWorker(): SwarmWorker {
  const worker = new Worker('/node-worker.js', { type: 'module' });
  leaving.signal.addEventListener('abort', () => worker.terminate(), { once: true });
  let queue: Promise<unknown> = Promise.resolve();
  const ask = (request: WorkerRequest, want: WorkerReply['kind']) => {
    const asked = queue.then(() => new Promise<WorkerReply>((ok, fail) => {
      worker.onmessage = (e: MessageEvent<WorkerReply>) => (e.data.kind === 'error' ? fail(new Error(e.data.message)) : e.data.kind === want ? ok(e.data) : fail(new Error(`unexpected ${e.data.kind} from the worker`)));
      worker.onerror = (e) => fail(new Error(e.message));
      worker.postMessage(request);
    }));
    queue = asked.catch(() => undefined);
    return asked;
  };
  const k = () => ({ kernels: tab.caps.kernels, threads: tab.caps.threads });
  return {
    start: async (req) => (await ask({ kind: 'swarm-round', ...req, ...k() }, 'rollout')) as SwarmRoundResult,
    plan: async (rollouts) => ((await ask({ kind: 'swarm-plan', rollouts, ...k() }, 'plan')) as { plan: { peer: string; cid: string }[] }).plan,
    finish: async (rollouts, blobs) => (await ask({ kind: 'swarm-finish', rollouts, blobs, ...k() }, 'finished')) as SwarmFinishResult,
  };
}

function renderSwarm(): void {
  const s = tab.swarm;
  fill('swarm',
    !s ? h('p', { class: 'muted' }, 'This node runs no swarm.')
      : h('div', {},
        h('p', {}, `Swarm ${s.swarmId}${s.round === undefined ? '' : `, round ${s.round}`}: ${s.phase}${s.note ? `: ${s.note}` : ''}`),
        s.reward === undefined ? null : h('p', {}, `Reward ${s.reward.toFixed(3)}, accuracy ${s.accuracy!.toFixed(2)}; ${s.heard} peer rollout${s.heard === 1 ? '' : 's'} heard this round.`),
        s.history.length === 0 ? null : h('p', { class: 'muted' }, `Rounds taken: ${s.history.map((r) => `${r.round} (${r.phase === 'finished' ? `reward ${r.reward?.toFixed(2)}${r.loss === undefined ? '' : `, loss ${r.loss.toFixed(3)}`}` : 'failed'})`).join(', ')}.`),
        ...(s.rejections ?? []).map((r) => h('p', { class: 'warn' }, `Rejected ${r}`))),
  );
}

/**
 * Takes part in the node's SAPO swarm (swarm.ts), from the page's button or ?swarm: round after round until the person
 * presses the button again (the round in progress is finished first) or closes the tab; ?rounds=N stops after N.
 */
async function joinSwarm(key: Uint8Array, net: Promise<void>): Promise<void> {
  const res = await fetch('/api/served-swarm');
  if (res.status === 204) return renderSwarm();
  const info = (await res.json()) as SwarmInfo;
  const { takeSwarmRounds } = await import('./swarm.js');
  tab.swarm = { phase: 'joining', swarmId: info.config.swarmId, heard: 0, history: [], note: 'Press "Take part in the swarm" to make and publish a rollout each round.' };
  renderSwarm();
  const button = document.getElementById('swarm-round') as HTMLButtonElement;
  button.hidden = false;
  const params = new URLSearchParams(location.search);
  const rounds = params.has('rounds') ? Math.max(1, Number(params.get('rounds')) || 1) : undefined;
  let swarm: SwarmWorker | undefined;
  let running = false;
  let stopping = false;
  const start = () => {
    if (running) {
      stopping = true;
      button.disabled = true;
      button.textContent = 'Stopping after this round…';
      return;
    }
    running = true;
    stopping = false;
    button.textContent = 'Stop after this round';
    void net.then(() => takeSwarmRounds({
      host: host!,
      key,
      id: tab.peerId!,
      info,
      worker: (swarm ??= swarmWorker()),
      update: (s) => { tab.swarm = s; renderSwarm(); },
      signal: leaving.signal,
    }, { ...(rounds === undefined ? {} : { rounds }), stopping: () => stopping })).finally(() => {
      running = false;
      button.disabled = false;
      button.textContent = 'Take part in the swarm';
    });
  };
  button.addEventListener('click', start);
  if (params.has('swarm')) start();
}

/** Aborted when the tab goes: the market loop stops and the worker with it (what was claimed is left to its deadline). */
const leaving = new AbortController();
addEventListener('pagehide', () => leaving.abort(new Error('the tab was closed')));

function renderVerifier(): void {
  const v = tab.verifier;
  fill('verifier',
    !v ? null : h('div', {},
      h('p', {}, `${v.phase}${v.note ? `: ${v.note}` : ''}`),
      ...v.jobs.map((j) => h('p', { class: j.verdict === 'won' || j.verdict === 'agreed' ? 'ok' : j.verdict === 'lost' || j.verdict === 'failed' ? 'warn' : '' },
        `Job ${j.jobId}: ${j.verdict}${j.note ? `: ${j.note}` : ''}`))),
  );
}

function renderMarket(): void {
  const m = tab.market;
  fill('market',
    !m ? h('p', { class: 'muted' }, 'This node serves no chain: the tab trains offered jobs only.')
      : h('div', {},
        h('p', {}, m.signer === 'wallet' ? 'Wallet account ' : 'Account ', h('code', {}, m.account), ` · ${m.phase}${m.jobId === undefined ? '' : ` · job ${m.jobId}`}`),
        m.note ? h('p', { class: m.phase === 'failed' ? 'warn' : m.phase === 'finalized' ? 'ok' : '' }, m.note) : null,
        m.root ? h('p', {}, 'Committed root ', h('code', { id: 'market-root' }, m.root)) : null,
        m.published ? h('p', {}, 'Serving its step hashes ', short(m.published.steps, 10), ' and model ', short(m.published.model, 10), ` (and ${m.published.states} checkpoints) to the submitter and verifiers.`) : null),
  );
}

/** The browser's wallet (EIP-1193), if it has one: it signs the tab's chain writes (wallet.ts). */
const injectedWallet = (): EIP1193Provider | undefined => (globalThis as { ethereum?: EIP1193Provider }).ethereum;

/** Works on the chain's job market as a solver (market.ts), from the page's button or ?work. */
async function workOnMarket(key: Uint8Array, net: Promise<void>): Promise<void> {
  // Loaded only where the node serves a chain: viem and the contract bindings are a third of the page's code.
  const res = await fetch('/api/served-chain');
  if (res.status === 204) return renderMarket();
  const info = (await res.json()) as ChainInfo;
  const [{ solveOneJob }, { TabAnnouncer }] = await Promise.all([import('./market.js'), import('./announce.js')]);
  let announcer: InstanceType<typeof TabAnnouncer> | undefined;
  const ethereum = injectedWallet();
  tab.market = {
    account: tab.address as `0x${string}`,
    phase: 'idle',
    note: ethereum ? 'This browser has a wallet: it will sign the chain writes (it names its account when asked). Press "Solve a job" to take one from the market.' : 'Press "Solve a job" to take one from the market.',
  };
  renderMarket();
  const verify = document.getElementById('verify') as HTMLButtonElement;
  verify.hidden = false;
  const startVerifying = () => {
    verify.disabled = true;
    void import('./verifier.js').then(({ verifyJobs }) => verifyJobs({
      key,
      ...(ethereum ? { ethereum } : {}),
      info,
      verify: verifyInWorker,
      update: (v) => { tab.verifier = v; renderVerifier(); },
      signal: leaving.signal,
    }));
  };
  verify.addEventListener('click', startVerifying);
  if (new URLSearchParams(location.search).has('verify')) startVerifying();
  const button = document.getElementById('work') as HTMLButtonElement;
  button.hidden = false;
  const start = () => {
    button.disabled = true;
    void solveOneJob({
      key,
      ...(ethereum ? { ethereum } : {}),
      info,
      facts: jobFactsOf,
      defend: defendInWorker,
      train: async (name, spec) => {
        const run = await runJob(name, spec, true);
        return { commitment: run.commitment, stepHashes: run.stepHashes, checkpoints: run.checkpoints ?? [] };
      },
      publish: async (jobId, root, run) => {
        await net;
        announcer ??= new TabAnnouncer(host!, info.chainId, info.contracts.market);
        return announcer.publish(jobId, root, run);
      },
      forget: (jobId) => announcer?.forget(jobId),
      update: (m) => { tab.market = m; renderMarket(); },
      signal: leaving.signal,
    }).finally(() => { button.disabled = false; });
  };
  button.addEventListener('click', start);
  if (new URLSearchParams(location.search).has('work')) start();
}

async function main(): Promise<void> {
  renderCaps();
  renderNet();
  renderJob();
  const key = await identity();
  wireKeyButtons(() => key);
  // The network first: joining the mesh is what a person waits for; the rest of the page fills in meanwhile.
  const net = network(key);
  net.catch((error) => {
    tab.error = `Not connected: ${(error as Error).message}`;
    renderNet();
  });
  const presets = document.getElementById('preset') as HTMLSelectElement;
  presets.replaceChildren(...Object.keys(PRESETS).map((p) => h('option', { value: p }, p)));
  const offered = await offeredJob();
  if (offered) {
    presets.prepend(h('option', { value: '' }, `${offered.name} (offered by the node)`));
    presets.value = '';
  }
  document.getElementById('run')!.addEventListener('click', () => {
    const pick = presets.value;
    void runJob(pick || offered!.name, pick ? PRESETS[pick as keyof typeof PRESETS] : offered!.spec).catch(() => renderNet());
  });
  if (offered && new URLSearchParams(location.search).has('run')) void runJob(offered.name, offered.spec).catch(() => renderNet());
  joinSwarm(key, net).catch((error) => {
    tab.error = `The swarm: ${(error as Error).message}`;
    renderNet();
  });
  workOnMarket(key, net).catch((error) => {
    tab.error = `The market: ${(error as Error).message}`;
    renderNet();
  });
}

void main();
