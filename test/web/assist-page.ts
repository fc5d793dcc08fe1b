/**
 * Driving the assist app's page (src/web/assist/) as a person does, by clicking: the layer, the material, the cell.
 * Shared by the Chromium test (assist-app.test.ts) and the bench that drives the app (bench/assist-browser.ts), so
 * both build a house with the same clicks as a scripted person of users.ts moves in Node.
 */
import type { Page } from 'playwright-core';
import { cellXYZ } from '../../src/assist/app.js';
import { gridFromBase64 } from '../../src/assist/episode.js';
import type { House } from '../../src/assist/blocks/houses.js';
import { humanMove, type HumanMove, type Person } from '../../src/assist/blocks/users.js';
import { BLOCKS_APP, sameGrid } from '../../src/assist/blocks/world.js';
import type { AssistAction } from '../../src/assist/app.js';
import { Rng } from '../../src/tensor/index.js';
import { believe, createAssistant, type AssistModel } from '../../src/assist/index.js';
import { sha256, toHex } from '../../src/platform/sha256.js';

/** What the page last asked its worker (document.body.dataset.lastRequest). */
export type StepRequest = { grid: number[]; last: number; refused: number[]; assistantCells: number[]; act: boolean };

/** What Node decides for a request the page sent its worker, and the hash of Node's belief bytes (the page's data-belief-hash). */
export function nodeDecides(model: AssistModel, req: StepRequest) {
  const evidence = Uint8Array.from(req.grid);
  for (const c of req.assistantCells) evidence[c] = 0;
  const refused = new Uint8Array(evidence.length);
  for (const c of req.refused) refused[c] = 1;
  const belief = believe(model, evidence, req.last, refused);
  const assistant = createAssistant({ model, observe: () => ({ grid: req.grid, lastHumanCell: req.last, refused: req.refused, assistantCells: req.assistantCells }), act: () => {}, ...(req.act ? {} : { rewards: { help: 0, wrong: 1 } }) });
  const { action } = assistant.step();
  return { action, beliefHash: toHex(sha256(new Uint8Array(belief.goal.buffer, belief.goal.byteOffset, belief.goal.byteLength))) };
}

/** Until the page has its answer from the worker (the page sets data-busy while it waits). */
export async function idle(page: Page): Promise<void> {
  await page.waitForFunction(() => document.body.dataset.busy === 'false');
}

/** The page's grid now. */
export async function pageGrid(page: Page): Promise<Uint8Array> {
  return gridFromBase64((await page.evaluate(() => document.body.dataset.grid))!);
}

/** The assistant's last decision in the page. */
export async function lastAction(page: Page): Promise<AssistAction> {
  return JSON.parse((await page.evaluate(() => document.body.dataset.lastAction))!) as AssistAction;
}

/** One move of the person by clicking: the move's layer, its material (to place), its cell; then waits for the assistant. */
export async function clickMove(page: Page, move: HumanMove): Promise<void> {
  const [x, y, z] = cellXYZ(BLOCKS_APP, move.cell);
  await page.click(`#layers button[data-layer="${y}"]`);
  if (move.kind === 'place') await page.click(`#palette button[data-material="${move.value}"]`);
  await page.click(`#cell-${x}-${z}`);
  await idle(page);
}

export type PageBuild = { actions: number; placed: number; done: boolean };

/**
 * `person` builds `house` in the page, move by move as playSession's person does (humanMove on the page's grid, the
 * RNG stream of playSession's seed), until the grid is the house or `maxActions`. `after(n, action)` runs after the
 * person's n-th move and the assistant's answer to it. Counts the person's moves and the assistant's placements.
 */
export async function buildInPage(page: Page, o: { house: House; person: Person; seed: number; maxActions?: number; after?: (n: number, action: AssistAction) => Promise<void> }): Promise<PageBuild> {
  const rng = new Rng(o.seed, 3); // playSession's stream for the person's draws
  let last = -1;
  let actions = 0;
  let placed = 0;
  for (; actions < (o.maxActions ?? 400); actions++) {
    const grid = await pageGrid(page);
    if (sameGrid(grid, o.house.grid)) break;
    const move = humanMove(o.person, o.house.grid, grid, last, rng)!;
    await clickMove(page, move);
    last = move.cell;
    const action = await lastAction(page);
    if (action.kind === 'place') placed++;
    await o.after?.(actions, action);
  }
  return { actions, placed, done: sameGrid(await pageGrid(page), o.house.grid) };
}
