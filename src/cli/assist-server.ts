/**
 * The block game's server for `mycel assist`, on 127.0.0.1: the page and its worker (bundled into dist/pages by
 * scripts/build-web.mjs), the current model as a blob, and the episodes the page saves, content-addressed in
 * <dir>/episodes. POST /api/learn fine-tunes the current model on one person's episodes, here on this machine
 * (nothing leaves it), and the page loads the new model from /api/model.
 *
 * Sharing is off until the person turns it on (<dir>/consent.json). With it on, POST /api/share packs the person's
 * episodes into a dataset blob signed with this machine's node key (<data-dir>/key.secp256k1) and puts it in the
 * node's blob store (<data-dir>/blobs), which `mycel node start` with the same data dir serves by CID. With it off,
 * the server refuses and writes nothing there.
 *
 * On a market (`market`: a node of this process on the chain, with the person's key), POST /api/jobs packs the
 * person's episodes into a dataset blob signed with that key, puts it, the replay and the current model in the node's
 * blob store, and posts an assistant-training job (assist/job.ts) that fine-tunes the current model on them: the same
 * program as POST /api/learn (assist/fine-tune.ts), so with as many steps it gives the same model; GET /api/jobs
 * shows those jobs (of this server's run) as the chain has them. POST /api/model/from-job fetches a job's model by CID
 * over libp2p with its run's step hashes (kept as this server's jobs settle, else as announced), and uses it only if it
 * is the finalized job's result (assist/model-update.ts); otherwise the current model stays. Both need sharing on.
 */
import { anySignal } from 'any-signal';
import { hexToBytes } from 'viem';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import { decodeEpisode, encodeModel, modelHash, type AssistModel, type Episode } from '../assist/index.js';
import { loadEpisodes, saveEpisode } from '../assist/episode-store.js';
import { packDataset } from '../assist/dataset.js';
import { fineTuneJobSpec } from '../assist/job.js';
import { ModelUpdateError, verifyModelUpdate } from '../assist/model-update.js';
import { getJob } from '../chain/index.js';
import { awaitJob, fetchStepHashes, submitJob } from '../node/roles.js';
import { getBlob, putBlob } from '../node/p2p.js';
import type { RunningNode } from '../node/run.js';
import { MycelError } from '../platform/errors.js';
import { crowdEpisodes, EXPERIMENT_DEFAULTS, fineTuneSettings } from '../assist/blocks/experiment.js';
import { fineTune, type FineTuneSettings } from '../assist/fine-tune.js';
import { BlobStore } from '../p2p/blob/store.js';
import { KEY_FILE } from '../p2p/constants.js';
import { loadIdentity } from '../p2p/identity.js';
import { sha256, toHex } from '../platform/sha256.js';
import { PAGES_DIR } from '../node/dashboard/server.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json',
};
const HEADERS = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };
/** An episode of this game is ~30 kB; a larger body is not one. */
const MAX_BODY = 4 * 2 ** 20;

export type AssistServerOptions = {
  /** <data-dir>/assist: models, episodes, consent. */
  dir: string;
  /** <data-dir>: the node's key and blob store. */
  dataDir: string;
  model: AssistModel;
  commitment: string;
  port: number;
  /** Fine-tuning after a session: steps and seed. */
  learnSteps: number;
  log: (line: string) => void;
  pagesDir?: string;
  /** The market this server posts jobs on: a node of this process, whose key signs the datasets. */
  market?: AssistMarket;
  /** Episodes learned beside the person's (assist/fine-tune.ts); default: the block game's crowd, as in the bench. */
  replay?: readonly Episode[];
};

/** `steps`: the fine-tuning steps of a job posted on the market; `reward`, `stake`: its terms, in token base units. */
export type AssistMarket = { node: RunningNode; reward: bigint; stake: bigint; steps: number; challengeWindow?: bigint };

/** How long POST /api/model/from-job waits for the model's blob and its step hashes. */
const FETCH_MS = 60_000;

export type AssistServer = { url: string; close(): Promise<void>; model(): AssistModel };

export async function startAssistServer(o: AssistServerOptions): Promise<AssistServer> {
  const pagesDir = o.pagesDir ?? PAGES_DIR;
  const episodesDir = join(o.dir, 'episodes');
  let current = { model: o.model, commitment: o.commitment, bytes: encodeModel(o.model), hash: modelHash(o.model) };
  let learning = false;
  const consentFile = join(o.dir, 'consent.json');
  const consent = async (): Promise<boolean> => {
    try {
      return (JSON.parse(await readFile(consentFile, 'utf8')) as { share?: unknown }).share === true;
    } catch {
      return false; // no file, or not readable: off
    }
  };

  const json = (res: ServerResponse, status: number, value: unknown): void => void res.writeHead(status, { ...HEADERS, 'Content-Type': 'application/json' }).end(JSON.stringify(value));
  const noMarket = 'this server is not on a market: start it with --rpc URL --key-file FILE and --contracts FILE or --market ADDR';
  /** The jobs this server posted, by id: what the chain said of each when it settled (phase, model CID), or in progress. */
  const jobs = new Map<string, { jobId: string; dataset: string; base: string; phase: string; modelCid?: string }>();
  /** The step hashes of this server's finalized jobs, fetched as they settle (the solver stops announcing them then). */
  const stepHashesOf = new Map<string, string[]>();
  const settling = new Set<Promise<unknown>>();
  const stopping = new AbortController();
  // Learning here and a job on the market run one program (assist/fine-tune.ts): the person's episodes beside a replay
  // of the base model's scripted data, with the bench's settings; only the number of steps is the server's.
  const settings = (steps: number): FineTuneSettings => fineTuneSettings({ ...EXPERIMENT_DEFAULTS, fineTuneSteps: steps });
  let replayEpisodes = o.replay;
  const replay = () => (replayEpisodes ??= crowdEpisodes({ ...EXPERIMENT_DEFAULTS, crowdEpisodes: EXPERIMENT_DEFAULTS.replay }));

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>> = {
    'GET /api/model': async (_req, res) => {
      res.writeHead(200, { ...HEADERS, 'Content-Type': 'application/octet-stream', 'X-Model-Hash': current.hash, 'X-Run-Commitment': current.commitment }).end(current.bytes);
    },
    'GET /api/status': async (_req, res) => {
      const { episodes, skipped } = await loadEpisodes(episodesDir);
      json(res, 200, { model: current.hash, commitment: current.commitment, episodes: episodes.length, skipped, network: o.market ? `market ${o.market.node.contracts.market} as ${o.market.node.address}: with sharing on, POST /api/jobs posts a training job` : 'off: episodes and models stay on this machine' });
    },
    'GET /api/episodes': async (_req, res) => {
      const { episodes, skipped } = await loadEpisodes(episodesDir);
      json(res, 200, {
        episodes: episodes.map(({ id, episode: e }) => ({
          id, person: e.person, goal: e.goal, steps: e.steps.length,
          human: e.steps.filter((s) => s.who === 'human').length,
          assistant: e.steps.filter((s) => s.who === 'assistant' && s.kind === 'place').length,
        })),
        skipped,
      });
    },
    'POST /api/episodes': async (req, res) => {
      const bytes = await body(req);
      const id = toHex(sha256(bytes));
      const claimed = req.headers['x-episode-id'];
      if (claimed !== undefined && claimed !== id) return json(res, 400, { error: `the episode's bytes hash to ${id}, not to the id sent (${String(claimed)}); send the bytes the id was computed from` });
      try {
        decodeEpisode(id, bytes);
      } catch (e) {
        return json(res, 400, { error: (e as Error).message.split('\n')[0] });
      }
      await saveEpisode(episodesDir, JSON.parse(new TextDecoder().decode(bytes)));
      o.log(`episode ${id} saved`);
      json(res, 200, { id });
    },
    'GET /api/consent': async (_req, res) => json(res, 200, { share: await consent() }),
    'POST /api/consent': async (req, res) => {
      const { share } = JSON.parse(new TextDecoder().decode(await body(req)) || '{}') as { share?: unknown };
      if (typeof share !== 'boolean') return json(res, 400, { error: 'send {"share": true} or {"share": false}' });
      await mkdir(o.dir, { recursive: true });
      await writeFile(consentFile, JSON.stringify({ share }));
      o.log(`sharing ${share ? 'on' : 'off'}`);
      json(res, 200, { share });
    },
    'POST /api/share': async (req, res) => {
      if (!(await consent())) return json(res, 403, { error: 'sharing is off: nothing leaves this machine. Turn it on in the page first.' });
      const { person } = JSON.parse(new TextDecoder().decode(await body(req)) || '{}') as { person?: string };
      if (typeof person !== 'string' || !person) return json(res, 400, { error: 'send {"person": NAME}: whose episodes to share' });
      const mine = (await loadEpisodes(episodesDir)).episodes.map((e) => e.episode).filter((e) => e.person === person);
      if (mine.length === 0) return json(res, 400, { error: `no saved episode of ${person}; finish an episode first` });
      const identity = await loadIdentity(join(o.dataDir, KEY_FILE));
      const { cid, bytes, signer, ids } = packDataset(mine, identity.privateKey.raw);
      const tmp = join(o.dir, `.dataset.${process.pid}.tmp`);
      await writeFile(tmp, bytes);
      try {
        const stored = await new BlobStore(join(o.dataDir, 'blobs')).importFile(tmp);
        if (stored.cid.toString() !== cid) throw new Error(`the blob store names the dataset ${stored.cid.toString()}, expected ${cid}`);
      } finally {
        await rm(tmp, { force: true });
      }
      o.log(`dataset ${cid} (${ids.length} episodes of ${person}, signed by ${signer}) in ${join(o.dataDir, 'blobs')}`);
      json(res, 200, { cid, episodes: ids.length, signer });
    },
    'POST /api/jobs': async (req, res) => {
      const market = o.market;
      if (!market) return json(res, 409, { error: noMarket });
      if (!(await consent())) return json(res, 403, { error: 'sharing is off: nothing leaves this machine. Turn it on in the page first.' });
      const { person } = JSON.parse(new TextDecoder().decode(await body(req)) || '{}') as { person?: string };
      if (typeof person !== 'string' || !person) return json(res, 400, { error: 'send {"person": NAME}: whose episodes to train on' });
      const mine = (await loadEpisodes(episodesDir)).episodes.map((e) => e.episode).filter((e) => e.person === person);
      if (mine.length === 0) return json(res, 400, { error: `no saved episode of ${person}; finish an episode first` });
      const node = market.node;
      const dataset = packDataset(mine, hexToBytes(node.privateKey));
      const shared = join(node.dataDir, 'published', 'assist');
      await putBlob(node.p2p, join(shared, `dataset-${dataset.cid}.json`), dataset.bytes);
      const base = await putBlob(node.p2p, join(shared, `model-${current.hash}.safetensors`), current.bytes);
      // The replay goes as a dataset blob signed by this node (it is the base model's data, not the person's).
      const replayed = replay().length > 0 ? packDataset(replay(), hexToBytes(node.privateKey)) : undefined;
      if (replayed) await putBlob(node.p2p, join(shared, `replay-${replayed.cid}.json`), replayed.bytes);
      const spec = fineTuneJobSpec({ model: current.model, dataset, base, ...(replayed ? { replay: replayed.cid } : {}), settings: settings(market.steps) });
      const posted = await submitJob(node, { spec, reward: market.reward, stake: market.stake, ...(market.challengeWindow ? { challengeWindow: market.challengeWindow } : {}) });
      const id = posted.jobId.toString();
      jobs.set(id, { jobId: id, dataset: dataset.cid, base, phase: 'Open' });
      const waiting = awaitJob(node, posted.jobId, stopping.signal, spec).then(
        async (r) => {
          if (r.accepted && r.modelCid && r.root) {
            const fetching = anySignal([stopping.signal, AbortSignal.timeout(FETCH_MS)]); // cleared: AbortSignal.any leaks in Node 20
            try {
              stepHashesOf.set(id, await fetchStepHashes(node, posted.jobId, r.root, spec.steps, fetching));
            } finally {
              fetching.clear();
            }
          }
          jobs.set(id, { ...jobs.get(id)!, phase: r.phase, ...(r.accepted && r.modelCid ? { modelCid: r.modelCid } : {}) });
        },
        (e: Error) => stopping.signal.aborted || o.log(`job ${id}: ${e.message.split('\n')[0]}`),
      );
      settling.add(waiting);
      void waiting.finally(() => settling.delete(waiting));
      o.log(`posted job ${id}: fine-tune model ${current.hash.slice(0, 16)} on dataset ${dataset.cid} (${dataset.ids.length} episodes of ${person}, signed by ${dataset.signer})`);
      json(res, 200, { jobId: id, dataset: dataset.cid, base, episodes: dataset.ids.length, signer: dataset.signer });
    },
    'GET /api/jobs': async (_req, res) => {
      const market = o.market;
      if (!market) return json(res, 200, { jobs: [], market: noMarket });
      const rows = await Promise.all([...jobs.values()].map(async (j) => {
        const onChain = await getJob(market.node.publicClient, { market: market.node.contracts.market, jobId: BigInt(j.jobId) });
        return { ...j, phase: onChain.phase, root: onChain.root };
      }));
      json(res, 200, { jobs: rows });
    },
    'POST /api/model/from-job': async (req, res) => {
      const market = o.market;
      if (!market) return json(res, 409, { error: noMarket });
      if (!(await consent())) return json(res, 403, { error: 'sharing is off: this machine fetches nothing from the network. Turn it on in the page first.' });
      const { jobId, cid } = JSON.parse(new TextDecoder().decode(await body(req)) || '{}') as { jobId?: unknown; cid?: unknown };
      if (typeof jobId !== 'string' || !/^\d+$/.test(jobId) || typeof cid !== 'string') return json(res, 400, { error: 'send {"jobId": "N", "cid": "b..."}: the job and the CID of its model' });
      const node = market.node;
      try {
        const job = await getJob(node.publicClient, { market: node.contracts.market, jobId: BigInt(jobId) });
        if (job.phase !== 'Finalized') throw new ModelUpdateError(`job ${jobId} is ${job.phase} on chain, not Finalized: its root is not yet the verified result`);
        const signal = AbortSignal.timeout(FETCH_MS);
        const [bytes, stepHashes] = await Promise.all([
          getBlob(node.p2p, cid, join(node.dataDir, 'tmp'), { signal }),
          stepHashesOf.get(jobId) ?? fetchStepHashes(node, BigInt(jobId), job.root, Number(job.steps), signal),
        ]);
        const verified = await verifyModelUpdate(node.publicClient, { market: node.contracts.market, jobId: BigInt(jobId), cid, bytes, stepHashes });
        const { app } = current.model;
        if (verified.model.app.grid.join() !== app.grid.join() || verified.model.app.values !== app.values) {
          throw new ModelUpdateError(`job ${jobId}'s model is for a ${verified.model.app.grid.join('x')} grid with ${verified.model.app.values} values, not this app's ${app.grid.join('x')} with ${app.values}`);
        }
        // A job's spec names the app by its grid and values only: the verified parameters take this app's own
        // description (its material names), so the model is the one "Learn" trains here, byte for byte.
        const { commitment } = verified;
        const model = { ...verified.model, app };
        await saveModel(o.dir, model, commitment);
        current = { model, commitment, bytes: encodeModel(model), hash: modelHash(model) };
        o.log(`model ${current.hash.slice(0, 16)} of job ${jobId} (blob ${cid}) checked against the chain: in use`);
        json(res, 200, { model: current.hash, commitment, jobId });
      } catch (e) {
        if (!(e instanceof MycelError) && !(e instanceof Error && e.name === 'TimeoutError')) throw e;
        o.log(`model of job ${jobId} refused: ${e.message.split('\n')[0]}`);
        json(res, 409, { error: `${e.message.split('\n')[0]} The current model (${current.hash.slice(0, 16)}) stays in use.` });
      }
    },
    'POST /api/learn': async (req, res) => {
      const { person } = JSON.parse(new TextDecoder().decode(await body(req)) || '{}') as { person?: string };
      if (typeof person !== 'string' || !person) return json(res, 400, { error: 'send {"person": NAME}: whose episodes to learn from' });
      if (learning) return json(res, 409, { error: 'already learning; try again when it is done' });
      const mine = (await loadEpisodes(episodesDir)).episodes.map((e) => e.episode).filter((e) => e.person === person);
      if (mine.length === 0) return json(res, 400, { error: `no saved episode of ${person}; finish an episode first` });
      learning = true;
      try {
        const r = fineTune(current.model.app, current.model, mine, replay(), settings(o.learnSteps));
        await saveModel(o.dir, r.model, r.commitment);
        current = { model: r.model, commitment: r.commitment, bytes: encodeModel(r.model), hash: modelHash(r.model) };
        o.log(`fine-tuned on ${mine.length} episodes of ${person}: model ${current.hash.slice(0, 16)}`);
        json(res, 200, { model: current.hash, commitment: r.commitment, episodes: mine.length, steps: o.learnSteps });
      } finally {
        learning = false;
      }
    },
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const route = routes[`${req.method} ${path}`];
    const work = route ? route(req, res) : page(path, res);
    work.catch((e: Error) => {
      o.log(`assist server: ${req.method} ${path}: ${e.message}`);
      if (!res.headersSent) json(res, 500, { error: e.message.split('\n')[0] });
      else res.end();
    });
  });

  async function page(path: string, res: ServerResponse): Promise<void> {
    const name = path === '/' ? 'assist.html' : path.slice(1);
    const file = normalize(join(pagesDir, name));
    if (!file.startsWith(pagesDir) || !(extname(file) in TYPES)) return void res.writeHead(404, { ...HEADERS, 'Content-Type': 'text/plain' }).end(`No page ${name}.`);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch {
      return void res.writeHead(404, { ...HEADERS, 'Content-Type': 'text/plain' }).end(`No page ${name}.${name === 'assist.html' ? ' The pages are not built: run `npm run build`.' : ''}`);
    }
    res.writeHead(200, { ...HEADERS, 'Content-Type': TYPES[extname(file)] }).end(bytes);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    model: () => current.model,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      stopping.abort(new Error('the assist server stopped'));
      await Promise.allSettled(settling);
    },
  };
}

async function body(req: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error(`a request body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** Keeps a model in <dir>/models/<hash>.safetensors and names it current (<dir>/current.json), atomically. */
export async function saveModel(dir: string, model: AssistModel, commitment: string): Promise<string> {
  const hash = modelHash(model);
  await mkdir(join(dir, 'models'), { recursive: true });
  await writeFile(join(dir, 'models', `${hash}.safetensors`), encodeModel(model));
  const tmp = join(dir, `.current.${process.pid}.tmp`);
  await writeFile(tmp, JSON.stringify({ model: hash, commitment }));
  await rename(tmp, join(dir, 'current.json'));
  return hash;
}
