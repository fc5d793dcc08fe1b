/**
 * "Train on the network" and "Use" pressed in Chromium, on a real market: anvil with the contracts and the dispute game,
 * `mycel assist` started on it (its node, the person's key), a solver node and a verifier node. The person builds in
 * the page and saves the episode, turns sharing on and presses "Train on the network": the server packs the episode
 * into a dataset signed by the person's key and posts a job; the solver fetches the blobs over libp2p, trains and
 * commits; the verifier re-executes and agrees; the job finalizes; the page lists it with its model, and "Use" makes
 * the server fetch the model by CID and check it against the chain before the page loads it. The model in use is the
 * one the app's own "Learn" would train from the same episode (assist/fine-tune.ts), and the page's worker decides
 * with it (the same belief bits as Node). Screenshots go to test-artifacts/assist/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { getBlockNumber } from 'viem/actions';
import { decodeEpisode, decodeModel, encodeModel, initModel, modelHash } from '../../src/assist/index.js';
import { packDataset } from '../../src/assist/dataset.js';
import { buildAssistJob, parseAssistJobSpec } from '../../src/assist/job.js';
import { fineTune } from '../../src/assist/fine-tune.js';
import { crowdEpisodes, EXPERIMENT_DEFAULTS, fineTuneSettings } from '../../src/assist/blocks/experiment.js';
import { housesOf } from '../../src/assist/blocks/houses.js';
import { PEOPLE } from '../../src/assist/blocks/users.js';
import { BLOCKS_APP } from '../../src/assist/blocks/world.js';
import { getJob } from '../../src/chain/index.js';
import { runSolver, runVerifier } from '../../src/node/roles.js';
import { startNode, type RunningNode } from '../../src/node/run.js';
import { bootstrapAddr } from '../../src/node/p2p.js';
import { rulesOf } from '../../src/verify/index.js';
import { setupGameChain, type GameChain } from '../chain/dispute-replay.js';
import { buildInPage, idle, nodeDecides, type StepRequest } from './assist-page.js';
import { launchChromium, openTab, screenshot } from './browser.js';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');
const JOB_STEPS = 3;
let c: GameChain;
let dir: string;
let browser: Browser;
let server: ChildProcess;
let url: string;
let solver: RunningNode;
let verifier: RunningNode;
const base = initModel(BLOCKS_APP, 1);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mycel-assist-market-'));
  // The fixture wants some job's rules (for tests that post by hand); here the app posts its own job.
  const placeholder = packDataset(crowdEpisodes({ ...EXPERIMENT_DEFAULTS, crowdEpisodes: 1 }), new Uint8Array(32).fill(1));
  const spec = parseAssistJobSpec({
    version: 1, kind: 'assist', app: { grid: BLOCKS_APP.grid, values: BLOCKS_APP.values }, model: base.config,
    data: { kind: 'dataset', cid: placeholder.cid, signer: placeholder.signer }, optimizer: { kind: 'adam', lr: 3e-3 }, steps: 2, batchSize: 2, seed: 1, checkpointEvery: 1,
  });
  c = await setupGameChain(rulesOf(buildAssistJob(spec, new Map([[placeholder.cid, placeholder.bytes]]))));
  const keys = c.anvil.accounts.map((x) => x.privateKey);
  const contracts = { token: c.token, registry: c.registry, market: c.market, disputeGame: c.game };
  const fromBlock = await getBlockNumber(c.publicClient, { cacheTime: 0 });
  const config = (name: string, key: `0x${string}`, bootstrap: string[]) => ({ rpcUrl: c.anvil.rpcUrl, chainId: c.anvil.chainId, privateKey: key, contracts, dataDir: join(dir, name), name, bootstrap, fromBlock, confirmations: 0 });
  solver = await startNode(config('solver', keys[2], []), () => {});
  verifier = await startNode(config('verifier', keys[3], [bootstrapAddr(solver.p2p)]), () => {});
  // The app: the real command, on the market with the person's key (account 1: tokens, approved to the market).
  const keyFile = join(dir, 'person.key');
  await writeFile(keyFile, keys[1]);
  await chmod(keyFile, 0o600);
  const modelFile = join(dir, 'base.safetensors');
  await writeFile(modelFile, encodeModel(base));
  server = spawn(process.execPath, [
    CLI, 'assist', '--port', '0', '--json', '--data-dir', join(dir, 'app'), '--model', modelFile,
    '--rpc', c.anvil.rpcUrl, '--key-file', keyFile, '--market', c.market, '--bootstrap', bootstrapAddr(solver.p2p), '--job-steps', String(JOB_STEPS), '--learn-steps', String(JOB_STEPS),
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  server.stderr!.on('data', (d) => { stderr += String(d); });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: server.stdout! }).once('line', resolve);
    server.once('exit', (code) => reject(new Error(`mycel assist exited with ${code}: ${stderr}`)));
  });
  url = (JSON.parse(first) as { url: string }).url;
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (server && server.exitCode === null) await new Promise((r) => server.once('exit', r));
  await Promise.all([solver?.stop(), verifier?.stop()]);
  c?.anvil.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('mycel assist on a market, in Chromium', () => {
  test('"Train on the network" posts the saved episode as a job; once finalized, "Use" loads its verified model, the one "Learn" would train', async () => {
    const { page, errors } = await openTab(browser);
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    expect(await page.evaluate(() => document.body.dataset.model)).toBe(modelHash(base));
    await page.fill('#person', 'ada');
    await page.press('#person', 'Tab');
    await idle(page);
    // Off until sharing is on, with a title that says so.
    expect(await page.isDisabled('#train-network')).toBe(true);
    expect(await page.getAttribute('#train-network', 'title')).toBe('needs sharing on');

    await buildInPage(page, { house: housesOf('test')[0], person: PEOPLE[0], seed: 3, maxActions: 8 });
    await page.click('#finish');
    await page.waitForFunction(() => document.body.dataset.saved === '1');
    await page.check('#consent');
    await page.waitForFunction(() => !(document.getElementById('train-network') as HTMLButtonElement).disabled);

    const solving = runSolver(solver, { maxJobs: 1 });
    const verifying = runVerifier(verifier, { maxJobs: 1 });
    let settled = false;
    void solving.finally(() => { settled = true; });
    await page.click('#train-network');
    await page.waitForSelector('#jobs [data-job]');
    const jobId = (await page.getAttribute('#jobs [data-job]', 'data-job'))!;
    expect(await page.textContent('#message')).toContain(`Posted job ${jobId}`);
    await screenshot(page, 'assist', 'market-posted');

    const [checked] = await verifying;
    expect(checked).toMatchObject({ agreed: true });
    // The challenge window passes; the solver finalizes.
    while (!settled) {
      await c.advance(20n);
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(await solving).toEqual([expect.objectContaining({ phase: 'Finalized' })]);
    const job = await getJob(c.publicClient, { market: c.market, jobId: BigInt(jobId) });
    expect(job.phase).toBe('Finalized');

    // The page lists the finalized job with its model and a "Use" button (it polls the server's jobs).
    const use = `#jobs [data-job="${jobId}"] button`;
    await page.waitForSelector(use, { timeout: 60_000 });
    expect(await page.textContent(`#jobs [data-job="${jobId}"]`)).toContain('Finalized');
    await page.click(use);
    await page.waitForFunction((old) => document.body.dataset.model !== old, modelHash(base), { timeout: 60_000 });
    expect(await page.textContent('#message')).toContain(`The model of job ${jobId}`);
    await screenshot(page, 'assist', 'market-model-in-use');

    // The model in use is the finalized run's, and the one the app's "Learn" trains from the same saved episode.
    const files = (await readdir(join(dir, 'app', 'assist', 'episodes'))).filter((f) => f.endsWith('.json'));
    const mine = await Promise.all(files.map(async (f) => decodeEpisode(f.slice(0, -5), new Uint8Array(await readFile(join(dir, 'app', 'assist', 'episodes', f))))));
    const learned = fineTune(BLOCKS_APP, base, mine, crowdEpisodes({ ...EXPERIMENT_DEFAULTS, crowdEpisodes: EXPERIMENT_DEFAULTS.replay }), fineTuneSettings({ ...EXPERIMENT_DEFAULTS, fineTuneSteps: JOB_STEPS }));
    expect(`0x${learned.commitment}`).toBe(job.root);
    const inUse = decodeModel(new Uint8Array(await (await fetch(`${url}api/model`)).arrayBuffer()));
    expect(modelHash(inUse)).toBe(modelHash(learned.model));
    expect(await page.evaluate(() => document.body.dataset.model)).toBe(modelHash(learned.model));

    // The page's worker decides with it: a next block, and its belief has Node's bits under that model.
    await buildInPage(page, { house: housesOf('test')[1], person: PEOPLE[0], seed: 4, maxActions: 1 });
    const req = JSON.parse((await page.evaluate(() => document.body.dataset.lastRequest))!) as StepRequest;
    expect(await page.evaluate(() => document.body.dataset.beliefHash)).toBe(nodeDecides(learned.model, req).beliefHash);
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);
});
