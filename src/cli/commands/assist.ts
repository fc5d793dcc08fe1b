import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { getAddress, type Address, type PublicClient } from 'viem';
import { checkContractsFlags, tokenFlag } from '../wallet-context.js';
import { privateKeyToAccount } from 'viem/accounts';
import { getBlockNumber } from 'viem/actions';
import { decodeModel, modelHash, type AssistModel } from '../../assist/index.js';
import { EXPERIMENT_DEFAULTS, trainBase } from '../../assist/blocks/experiment.js';
import { defaultDataDir } from '../../p2p/config.js';
import { MycelError } from '../../platform/errors.js';
import { UsageError } from '../../platform/errors.js';
import { startAssistServer, saveModel, type AssistMarket } from '../assist-server.js';
import { intFlag, type Command, type Flags } from '../command.js';
import { contractsFromFile, contractsOfMarket, isDevChain, prepareRole, startNode, type RunningNode } from '../../node/index.js';
import { connect } from '../../chain/index.js';
import { readKeyFile } from './chain-deploy.js';

type Current = { model: string; commitment: string };

/** The current model of <dir> (current.json names it; its blob must hash to that name), or undefined if none yet. */
async function loadCurrent(dir: string): Promise<{ model: AssistModel; commitment: string } | undefined> {
  let current: Current;
  try {
    current = JSON.parse(await readFile(join(dir, 'current.json'), 'utf8')) as Current;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MycelError(`${join(dir, 'current.json')} is not readable JSON.`, { metaMessages: ['Delete it to start again from a new base model; the episodes are kept.'] });
  }
  const file = join(dir, 'models', `${current.model}.safetensors`);
  const model = decodeModel(new Uint8Array(await readFile(file)));
  if (modelHash(model) !== current.model) {
    throw new MycelError(`The model ${file} does not hash to its name.`, { metaMessages: ['The file is corrupt: delete it and current.json to start again from a new base model; the episodes are kept.'] });
  }
  return { model, commitment: current.commitment };
}

/**
 * The market the server posts training jobs on (--rpc, --key-file, --contracts or --market): a node of this process,
 * whose key is the person's (it signs the datasets, pays the rewards and is the node's PeerId).
 */
async function joinMarket(flags: Flags, dataDir: string, log: (line: string) => void): Promise<AssistMarket | undefined> {
  const named = ['rpc', 'key-file', 'contracts', 'market'].filter((f) => flags[f] !== undefined);
  if (named.length === 0) return undefined;
  if (typeof flags.rpc !== 'string' || typeof flags['key-file'] !== 'string') throw new UsageError('A market needs --rpc URL and --key-file FILE: the chain and your account\'s key (it also signs your datasets).');
  checkContractsFlags(flags);
  const reward = tokenFlag(flags, 'reward', '25');
  const stake = tokenFlag(flags, 'stake', '5');
  const steps = intFlag(flags, 'job-steps', EXPERIMENT_DEFAULTS.fineTuneSteps, 1, 100_000);
  const privateKey = await readKeyFile(flags['key-file']);
  const rpcUrl = flags.rpc;
  const { publicClient, chainId } = await connect({ rpcUrl });
  const contracts = typeof flags.contracts === 'string' ? await contractsFromFile(flags.contracts) : await contractsOfMarket(publicClient as PublicClient, getAddress(flags.market as Address));
  const address = privateKeyToAccount(privateKey).address;
  const node: RunningNode = await startNode(
    { rpcUrl, chainId, privateKey, contracts, dataDir: join(dataDir, 'nodes', address.toLowerCase()), name: 'assist', bootstrap: (flags.bootstrap as string[] | undefined) ?? [], fromBlock: await getBlockNumber(publicClient, { cacheTime: 0 }), confirmations: (await isDevChain(publicClient as PublicClient)) ? 0 : 2 },
    (e) => e.type === 'log' && log(`node: ${e.text}`),
    { host: '127.0.0.1', port: 0 },
  );
  await prepareRole(node, 'submitter');
  log(`on market ${contracts.market} (chain ${chainId}) as ${address}; jobs of ${steps} steps, reward ${flags.reward ?? '25'}, stake ${flags.stake ?? '5'}`);
  return { node, reward, stake, steps };
}

/** A model blob given on the command line; its training run is not known, so neither is its commitment. */
async function loadModelFile(file: string): Promise<{ model: AssistModel; commitment: string }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(resolve(file)));
  } catch (e) {
    throw new MycelError(`--model ${file}: ${(e as Error).message}.`, { metaMessages: ['Give the path of a model blob, e.g. one in <data-dir>/assist/models.'] });
  }
  return { model: decodeModel(bytes), commitment: 'unknown' };
}

export const assist: Command = {
  name: 'assist',
  summary: 'serve the block-building game with its assistant at http://127.0.0.1:PORT',
  description: `
You build houses in a 7x4x7 world, layer by layer, with a 3D view; the assistant watches, keeps a belief about what
you are building and places a block only where it believes the block belongs (more than 50%). Undo works on its
blocks and yours. The panel shows its belief and the session's figures. Finished episodes are saved in
<data-dir>/assist/episodes, content-addressed; "Learn from my episodes" fine-tunes the assistant on yours, on this
machine. Nothing leaves the machine unless you turn sharing on in the page (off by default): then "Share"
packs your episodes into a dataset blob signed with this machine's node key and puts it in the node's blob store
(<data-dir>/blobs), where \`mycel node start\` with the same data dir serves it by CID.

On a market (--rpc, --key-file, and --contracts or --market), with sharing on, "Train on the network" posts a job
that fine-tunes the current model on your episodes (a dataset blob signed with --key-file's key): the same program
as "Learn" (with --job-steps equal to --learn-steps, the same model, bit for bit); once a solver has
trained it and the job is finalized on chain, "Use" fetches its model by CID over libp2p and uses it only if its run
commitment is the job's root on chain.

The first start trains a base model on scripted builders (a few minutes on two busy cores; kept in
<data-dir>/assist/models, and reused).

Examples:
  mycel assist
  mycel assist --port 0 --json           # a free port; the URL as a JSON line
  mycel assist --base-steps 100          # a quicker, weaker base model
  mycel assist --rpc http://127.0.0.1:8545 --key-file me.key --contracts deployment.json --bootstrap /ip4/…/p2p/…`,
  flags: {
    port: { type: 'string', value: 'PORT', description: 'the port on 127.0.0.1 (0: any free one)', default: '4380' },
    'data-dir': { type: 'string', value: 'DIR', description: 'where models and episodes are kept (default: $MYCEL_HOME or ~/.mycel, then assist/)' },
    'base-steps': { type: 'string', value: 'N', description: 'training steps of the base model, on the first start', default: String(EXPERIMENT_DEFAULTS.baseSteps) },
    'crowd-episodes': { type: 'string', value: 'N', description: "scripted builders' episodes the base model learns from", default: String(EXPERIMENT_DEFAULTS.crowdEpisodes) },
    model: { type: 'string', value: 'FILE', description: 'use this model blob (safetensors from encodeModel) instead of the data dir\'s current one' },
    'learn-steps': { type: 'string', value: 'N', description: 'fine-tuning steps when you ask it to learn from your episodes', default: String(EXPERIMENT_DEFAULTS.fineTuneSteps) },
    rpc: { type: 'string', value: 'URL', description: 'a market\'s chain: post training jobs there (with --key-file and --contracts or --market)' },
    'key-file': { type: 'string', value: 'FILE', description: 'your account\'s private key (0x-hex, mode 600): pays jobs and signs your datasets' },
    contracts: { type: 'string', value: 'FILE', description: 'deployment JSON (mycel chain deploy --json or mycel devnet --json)' },
    market: { type: 'string', value: 'ADDR', description: 'the JobMarket address (the other contracts are read from it)' },
    bootstrap: { type: 'string', value: 'MULTIADDR', multiple: true, description: 'a libp2p peer of the market to join through (repeatable)' },
    reward: { type: 'string', value: 'TOKENS', description: 'reward of a training job', default: '25' },
    stake: { type: 'string', value: 'TOKENS', description: 'stake a training job asks of its solver', default: '5' },
    'job-steps': { type: 'string', value: 'N', description: 'fine-tuning steps of a training job', default: String(EXPERIMENT_DEFAULTS.fineTuneSteps) },
  },
  async run({ flags, out, signal }) {
    const port = intFlag(flags, 'port', 4380, 0, 65535);
    const baseSteps = intFlag(flags, 'base-steps', EXPERIMENT_DEFAULTS.baseSteps, 1, 100_000);
    const crowdEpisodes = intFlag(flags, 'crowd-episodes', EXPERIMENT_DEFAULTS.crowdEpisodes, 1, 100_000);
    const learnSteps = intFlag(flags, 'learn-steps', EXPERIMENT_DEFAULTS.fineTuneSteps, 1, 100_000);
    const dataDir = resolve(typeof flags['data-dir'] === 'string' ? flags['data-dir'] : defaultDataDir());
    const dir = join(dataDir, 'assist');
    // The market first: a wrong flag or an unreachable chain is said before minutes of base-model training.
    const market = await joinMarket(flags, dataDir, (line) => out.log(line));
    try {
      let current = typeof flags.model === 'string' ? await loadModelFile(flags.model) : await loadCurrent(dir);
      if (!current) {
        out.log(`training the base model (${crowdEpisodes} scripted episodes, ${baseSteps} steps; kept in ${join(dir, 'models')})...`);
        const base = trainBase({ ...EXPERIMENT_DEFAULTS, crowdEpisodes, baseSteps }, (line) => out.log(line));
        await saveModel(dir, base.model, base.commitment);
        current = base;
      }
      if (signal.aborted) return;
      const server = await startAssistServer({ dir, dataDir, port, model: current.model, commitment: current.commitment, learnSteps, log: (line) => out.log(line), ...(market ? { market } : {}) });
      const hash = modelHash(current.model);
      out.result({ url: server.url, model: hash, commitment: current.commitment, dir, ...(market ? { market: market.node.contracts.market, account: market.node.address } : {}) }, `Assist: ${server.url}  (model ${hash.slice(0, 16)}, data in ${dir}; Ctrl-C stops)`);
      await new Promise<void>((done) => (signal.aborted ? done() : signal.addEventListener('abort', () => done(), { once: true })));
      await server.close();
    } finally {
      await market?.node.stop();
    }
  },
};
