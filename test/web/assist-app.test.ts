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
import { cellIndex, decodeEpisode, decodeModel, type AssistModel } from '../../src/assist/index.js';
import { housesOf } from '../../src/assist/blocks/houses.js';
import { PEOPLE } from '../../src/assist/blocks/users.js';
import { BLOCKS_APP } from '../../src/assist/blocks/world.js';
import { sha256, toHex } from '../../src/platform/sha256.js';
import { unpackDataset } from '../../src/assist/dataset.js';
import { loadIdentity } from '../../src/p2p/identity.js';
import { buildInPage, clickMove, idle, lastAction, nodeDecides, pageGrid, type StepRequest } from './assist-page.js';
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
    let compared = 0;
    const built = await buildInPage(page, {
      house, person: PEOPLE[0], seed: 3, maxActions: 150,
      after: async (n, action) => {
        if (n % 5 === 0) {
          // The same decision and belief bits in the worker as in Node, for what the page asked.
          const req = JSON.parse((await page.evaluate(() => document.body.dataset.lastRequest))!) as StepRequest;
          const node = nodeDecides(model, req);
          expect(await page.evaluate(() => document.body.dataset.beliefHash)).toBe(node.beliefHash);
          expect(action).toEqual(node.action);
          compared++;
        }
        if (n === 12) await screenshot(page, 'assist', 'building');
      },
    });
    expect(built.done).toBe(true);
    expect(built.placed).toBeGreaterThan(0);
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
  test('every control of the page does what it says: blueprint, material keys, assistant off and on, Ctrl-Z and undo, who you are, sharing on and off', async () => {
    const { page, errors } = await openTab(browser);
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    await idle(page);
    const metric = async (name: string) => page.textContent(`#m-${name.replace(/\W+/g, '-')}`);
    const ghosts = async () => page.locator('#layer-grid .ghost').count();

    // A blueprint: its blocks on the layer are shown as ghosts, and the session counts its completion; free build has none.
    const house = housesOf('test')[1];
    await page.selectOption('#blueprint', '1');
    await idle(page);
    await page.click('#layers button[data-layer="0"]');
    const onGround = [...Array(7).keys()].flatMap((x) => [...Array(7).keys()].map((z) => house.grid[cellIndex(BLOCKS_APP, x, 0, z)])).filter((v) => v !== 0).length;
    expect(await ghosts()).toBe(onGround);
    expect(await metric('blueprint done')).toBe('0%');
    await page.selectOption('#blueprint', '');
    await idle(page);
    expect(await ghosts()).toBe(0);
    expect(await metric('blueprint done')).toBe('(no blueprint)');
    await page.selectOption('#blueprint', '1');
    await idle(page);

    // Keys 1-4 pick the material (with the focus off the blueprint list, which would take the key itself).
    await page.click('#layers button[data-layer="0"]');
    await page.keyboard.press('3');
    expect(await page.getAttribute('#palette button[data-material="3"]', 'class')).toContain('on');
    await page.keyboard.press('1');
    expect(await page.getAttribute('#palette button[data-material="1"]', 'class')).toContain('on');

    // The assistant off: the page does not ask it to act, and only the person's blocks are placed.
    await page.uncheck('#assist-on');
    const wall = [...house.grid.keys()].filter((c) => house.grid[c] !== 0 && Math.floor(c / 7) % 4 === 0).slice(0, 4);
    for (const cell of wall) await clickMove(page, { kind: 'place', cell, value: house.grid[cell] });
    expect((JSON.parse((await page.evaluate(() => document.body.dataset.lastRequest))!) as { act: boolean }).act).toBe(false);
    expect(await metric('assistant placed')).toBe('0');
    expect([...(await pageGrid(page))].filter((v) => v !== 0)).toHaveLength(wall.length);
    expect(await metric('your actions')).toBe(String(wall.length));

    // On again: the next action of the person is followed by the assistant's decision.
    await page.check('#assist-on');
    const next = [...house.grid.keys()].find((c) => house.grid[c] !== 0 && !wall.includes(c))!;
    await clickMove(page, { kind: 'place', cell: next, value: house.grid[next] });
    expect((JSON.parse((await page.evaluate(() => document.body.dataset.lastRequest))!) as { act: boolean }).act).toBe(true);
    const acted = await lastAction(page);
    expect(await metric('assistant placed')).toBe(acted.kind === 'place' ? '1' : '0');
    expect(await metric('NO-OPs')).toBe(acted.kind === 'place' ? '0' : '1');

    // Ctrl-Z takes back the last block (the assistant's, if it placed one); the Undo button the ones before, to none.
    const blocks = async () => [...(await pageGrid(page))].filter((v) => v !== 0).length;
    const placedNow = await blocks();
    await page.keyboard.press('Control+z');
    await idle(page);
    expect(await blocks()).toBe(placedNow - 1);
    for (let left = placedNow - 1; left > 0; left--) {
      await page.click('#undo');
      await idle(page);
      expect(await blocks()).toBe(left - 1);
    }
    await page.click('#undo');
    expect(await page.textContent('#message')).toBe('Nothing to undo.');
    if (acted.kind === 'place') expect(await metric('undone by you')).toBe('1');

    // Who you are: a new name starts a new episode, and an episode with no action of theirs is not saved.
    await page.fill('#person', 'bo');
    await page.press('#person', 'Tab');
    await idle(page);
    expect(await metric('your actions')).toBe('0');
    await page.click('#finish');
    await page.waitForFunction(() => document.getElementById('message')!.textContent!.startsWith('Build something first'));
    await clickMove(page, { kind: 'place', cell: wall[0], value: house.grid[wall[0]] });
    await page.click('#finish');
    await page.waitForFunction(() => document.getElementById('message')!.textContent!.includes('saved'));
    const saved = await Promise.all((await readdir(join(dir, 'assist', 'episodes'))).filter((f) => f.endsWith('.json')).map(async (f) => decodeEpisode(f.replace('.json', ''), new Uint8Array(await readFile(join(dir, 'assist', 'episodes', f))))));
    expect(saved.filter((e) => e.person === 'bo')).toHaveLength(1);

    // Sharing on, then off again: the buttons follow, the choice is kept on disk, and the server refuses to share.
    const consentFile = async () => JSON.parse(await readFile(join(dir, 'assist', 'consent.json'), 'utf8')) as { share: boolean };
    await page.check('#consent');
    await page.waitForFunction(() => !(document.getElementById('share') as HTMLButtonElement).disabled);
    expect(await consentFile()).toEqual({ share: true });
    expect(await page.textContent('#status')).toContain('sharing on');
    // This server is on no market: "Train on the network" stays off and says what it needs.
    expect(await page.isDisabled('#train-network')).toBe(true);
    expect(await page.getAttribute('#train-network', 'title')).toContain('--rpc');
    await page.uncheck('#consent');
    await page.waitForFunction(() => (document.getElementById('share') as HTMLButtonElement).disabled);
    expect(await consentFile()).toEqual({ share: false });
    expect(await page.textContent('#status')).toContain('network off');
    expect(((await (await fetch(`${url}api/consent`)).json()) as { share: boolean }).share).toBe(false);
    expect((await fetch(`${url}api/share`, { method: 'POST', body: JSON.stringify({ person: 'bo' }) })).status).toBe(403);
    await screenshot(page, 'assist', 'controls');
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
