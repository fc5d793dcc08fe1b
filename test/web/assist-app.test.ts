/**
 * The assist app in Chromium, served by the real command (`mycel assist`, a small base model trained at its first
 * start): the page loads with no console errors; a scripted person (users.ts) builds a held-out house by clicking
 * the layer view; the assistant, in a Web Worker, acts, with the same belief bits and decision as Node computes for
 * the same request; undo takes back its block; the episode is saved content-addressed and reads back from disk;
 * learning from it gives a new model that the page loads. Sharing is off by default: every request the page makes
 * goes to the local server, which refuses to share and writes no blob; turned on, "Share" puts a dataset blob signed
 * by the node key in the node's blob store, and it unpacks. Screenshots go to test-artifacts/assist/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { believe, createAssistant, decodeEpisode, decodeModel, gridFromBase64, type AssistModel } from '../../src/assist/index.js';
import { housesOf } from '../../src/assist/blocks/houses.js';
import { humanMove, PEOPLE } from '../../src/assist/blocks/users.js';
import { sameGrid } from '../../src/assist/blocks/world.js';
import { sha256, toHex } from '../../src/platform/sha256.js';
import { unpackDataset } from '../../src/assist/dataset.js';
import { loadIdentity } from '../../src/p2p/identity.js';
import { Rng } from '../../src/tensor/index.js';
import { launchChromium, openTab, screenshot } from './browser.js';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');
let browser: Browser;
let server: ChildProcess;
let url: string;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mycel-assist-app-'));
  server = spawn(process.execPath, [CLI, 'assist', '--port', '0', '--json', '--data-dir', dir, '--crowd-episodes', '20', '--base-steps', '80', '--learn-steps', '5'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  server.stderr!.on('data', (d) => { stderr += String(d); });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: server.stdout! }).once('line', resolve);
    server.once('exit', (code) => reject(new Error(`mycel assist exited with ${code}: ${stderr}`)));
  });
  url = (JSON.parse(first) as { url: string }).url;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (server && server.exitCode === null) await new Promise((r) => server.once('exit', r));
  await rm(dir, { recursive: true, force: true });
});

const modelOf = async (): Promise<AssistModel> => decodeModel(new Uint8Array(await (await fetch(`${url}api/model`)).arrayBuffer()));

type StepRequest = { grid: number[]; last: number; refused: number[]; assistantCells: number[]; act: boolean };

/** What Node decides for the request the page last sent its worker, and the hash of Node's belief bytes. */
function nodeDecides(model: AssistModel, req: StepRequest) {
  const evidence = Uint8Array.from(req.grid);
  for (const c of req.assistantCells) evidence[c] = 0;
  const belief = believe(model, evidence, req.last);
  const assistant = createAssistant({ model, observe: () => ({ grid: req.grid, lastHumanCell: req.last, refused: req.refused, assistantCells: req.assistantCells }), act: () => {}, ...(req.act ? {} : { rewards: { help: 0, wrong: 1 } }) });
  const { action } = assistant.step();
  return { action, beliefHash: toHex(sha256(new Uint8Array(belief.goal.buffer, belief.goal.byteOffset, belief.goal.byteLength))) };
}

async function idle(page: Page): Promise<void> {
  await page.waitForFunction(() => document.body.dataset.busy === 'false');
}

describe('mycel assist', () => {
  test('--help', async () => {
    const out = await new Promise<string>((resolve) => {
      const p = spawn(process.execPath, [CLI, 'assist', '--help']);
      let text = '';
      p.stdout.on('data', (d) => { text += String(d); });
      p.on('exit', () => resolve(text));
    });
    expect(out).toContain('--port');
    expect(out).toContain('block-building game');
  });

  test('a scripted person builds a house with the assistant in Chromium; the episode is saved; it learns', async () => {
    const { page, errors } = await openTab(browser);
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    const model = await modelOf();
    expect(await page.evaluate(() => document.body.dataset.model)).toBe((await (await fetch(`${url}api/status`)).json() as { model: string }).model);

    // The worker's belief on the empty grid has Node's bits.
    await idle(page);
    const first = JSON.parse((await page.evaluate(() => document.body.dataset.lastRequest))!) as StepRequest;
    expect(await page.evaluate(() => document.body.dataset.beliefHash)).toBe(nodeDecides(model, first).beliefHash);

    const house = housesOf('test')[0];
    await page.selectOption('#blueprint', '0');
    await idle(page);
    const person = PEOPLE[0];
    const rng = new Rng(3, 3);
    let last = -1;
    let assistantActed = 0;
    let compared = 0;
    for (let n = 0; n < 150; n++) {
      const grid = gridFromBase64((await page.evaluate(() => document.body.dataset.grid))!);
      if (sameGrid(grid, house.grid)) break;
      const move = humanMove(person, house.grid, grid, last, rng)!;
      const [x, y, z] = [Math.floor(move.cell / 28), Math.floor(move.cell / 7) % 4, move.cell % 7];
      await page.click(`#layers button[data-layer="${y}"]`);
      if (move.kind === 'place') await page.click(`#palette button[data-material="${move.value}"]`);
      await page.click(`#cell-${x}-${z}`);
      await idle(page);
      last = move.cell;
      const action = JSON.parse((await page.evaluate(() => document.body.dataset.lastAction))!) as { kind: string };
      if (action.kind === 'place') assistantActed++;
      if (n % 5 === 0) {
        // The same decision and belief bits in the worker as in Node, for what the page asked.
        const req = JSON.parse((await page.evaluate(() => document.body.dataset.lastRequest))!) as StepRequest;
        const node = nodeDecides(model, req);
        expect(await page.evaluate(() => document.body.dataset.beliefHash)).toBe(node.beliefHash);
        expect(action).toEqual(node.action);
        compared++;
      }
      if (n === 12) await screenshot(page, 'assist', 'building');
    }
    expect(sameGrid(gridFromBase64((await page.evaluate(() => document.body.dataset.grid))!), house.grid)).toBe(true);
    expect(assistantActed).toBeGreaterThan(0);
    expect(compared).toBeGreaterThan(2);
    await screenshot(page, 'assist', 'built');

    // Undo takes back the last block, whoever placed it.
    const before = (await page.evaluate(() => document.body.dataset.grid))!;
    await page.click('#undo');
    await idle(page);
    expect(await page.evaluate(() => document.body.dataset.grid)).not.toBe(before);
    await page.click('#undo');
    await idle(page);

    await page.click('#finish');
    await page.waitForFunction(() => document.body.dataset.saved === '1');
    const files = (await readdir(join(dir, 'assist', 'episodes'))).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    const id = files[0].replace('.json', '');
    const episode = decodeEpisode(id, new Uint8Array(await readFile(join(dir, 'assist', 'episodes', files[0]))));
    expect(episode.person).toBe('me');
    expect(episode.goal).toBe(house.name);
    expect(episode.steps.some((s) => s.who === 'assistant' && s.kind === 'place')).toBe(true);
    expect(episode.steps.filter((s) => s.who === 'human').length).toBeGreaterThan(10);

    // Sharing is off: the page talked to this machine only, and the server refuses to share and writes no blob.
    expect(await page.isChecked('#consent')).toBe(false);
    expect(await page.isDisabled('#share')).toBe(true);
    const refused = await fetch(`${url}api/share`, { method: 'POST', body: JSON.stringify({ person: 'me' }) });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toContain('nothing leaves this machine');
    await expect(readdir(join(dir, 'blobs'))).rejects.toThrow('ENOENT');
    expect(requests.length).toBeGreaterThan(3);
    expect(requests.filter((r) => !r.startsWith(url))).toEqual([]);

    // Learning from the saved episode: a new model, which the page loads.
    const oldModel = await page.evaluate(() => document.body.dataset.model);
    await page.click('#learn');
    await page.waitForFunction((old) => document.body.dataset.model !== old, oldModel, { timeout: 60_000 });
    expect(await page.textContent('#message')).toContain('Learned from 1 episode(s) of me');
    await screenshot(page, 'assist', 'learned');

    // Sharing on: a dataset blob signed by the node's key, in the node's blob store, that unpacks to the episode.
    await page.check('#consent');
    await page.waitForFunction(() => !(document.getElementById('share') as HTMLButtonElement).disabled);
    await page.click('#share');
    await page.waitForFunction(() => document.body.dataset.sharedCid !== undefined);
    const cid = (await page.evaluate(() => document.body.dataset.sharedCid))!;
    const blob = unpackDataset(cid, new Uint8Array(await readFile(join(dir, 'blobs', `${cid}.data`))));
    expect(blob.signer).toBe((await loadIdentity(join(dir, 'key.secp256k1'), { create: false })).address);
    expect(blob.episodes.map((e) => e.id)).toEqual([id]);
    expect(requests.filter((r) => !r.startsWith(url))).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);
});
