// `npm run bench -- assist-browser [--json] [--houses N]`: the assist experiment's first person (ada: one action per
// tick, so the page's turns are the simulation's) drives the real app in Chromium (`mycel assist` with the bench's
// base model, the assistant in the page's Web Worker): N of her held-out houses built alone (assistant off) and with
// the assistant, by clicking. Each episode is also played in Node (playSession, same seed and model): one line per
// house and condition with the person's actions in the page and in Node, then a summary with human_actions_saved in
// the browser and in Node, and how many episodes took the same actions in both. Needs `npm run build` first.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Page } from 'playwright-core';
import { encodeModel, type AssistModel } from '../src/assist/index.js';
import { BENCH_PEOPLE, EXPERIMENT_DEFAULTS, personHouses } from '../src/assist/blocks/experiment.js';
import type { House } from '../src/assist/blocks/houses.js';
import { playSession } from '../src/assist/blocks/session.js';
import { buildInPage, type PageBuild } from '../test/web/assist-page.js';
import { launchChromium } from '../test/web/browser.js';
import { cachedBase } from './assist.js';
import { makeReporter } from './report.js';

const flag = (args: string[], name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};

/** The person builds `house` in the page as playSession's person would (same RNG stream), the assistant on or off. */
async function buildHouse(page: Page, url: string, house: House, seed: number, assisted: boolean): Promise<PageBuild> {
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.ready === 'true' && document.body.dataset.busy === 'false');
  if (!assisted) await page.uncheck('#assist-on');
  return buildInPage(page, { house, person: BENCH_PEOPLE[0], seed });
}

export async function run(args: string[]): Promise<void> {
  const report = makeReporter(args);
  const o = EXPERIMENT_DEFAULTS;
  const count = Number(flag(args, '--houses') ?? 4);
  const t0 = performance.now();
  const base: AssistModel = cachedBase(o, (line) => process.stderr.write(`${line}\n`));
  const dir = await mkdtemp(join(tmpdir(), 'mycel-assist-bench-'));
  const modelFile = join(dir, 'base.safetensors');
  await writeFile(modelFile, encodeModel(base));
  const server = spawn(process.execPath, ['dist/cli/main.js', 'assist', '--port', '0', '--json', '--data-dir', dir, '--model', modelFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  const browser = await launchChromium();
  try {
    const url = (JSON.parse(await new Promise<string>((resolve, reject) => {
      createInterface({ input: server.stdout! }).once('line', resolve);
      server.once('exit', (code) => reject(new Error(`mycel assist exited with ${code}`)));
    })) as { url: string }).url;
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const houses = personHouses(BENCH_PEOPLE[0], 0, o).evalHouses.slice(0, count);
    const totals = { browserAlone: 0, browserAssisted: 0, nodeAlone: 0, nodeAssisted: 0, same: 0, episodes: 0 };
    for (const [i, house] of houses.entries()) {
      const seed = o.seed * 7919 + i; // the bench's seeds for this person's held-out houses (runPerson)
      for (const assisted of [false, true]) {
        const inPage = await buildHouse(page, url, house, seed, assisted);
        const inNode = playSession({ house, person: BENCH_PEOPLE[0], model: assisted ? base : undefined, seed, horizon: o.horizon }).metrics;
        totals[assisted ? 'browserAssisted' : 'browserAlone'] += inPage.actions;
        totals[assisted ? 'nodeAssisted' : 'nodeAlone'] += inNode.humanActions;
        totals.episodes++;
        if (inPage.actions === inNode.humanActions) totals.same++;
        report({ house: house.name, condition: assisted ? 'assisted' : 'alone', human_actions_browser: inPage.actions, human_actions_node: inNode.humanActions, assistant_placed_browser: inPage.placed, assistant_placed_node: inNode.assistantPlaced, done: inPage.done });
        process.stderr.write(`${house.name} ${assisted ? 'assisted' : 'alone'}: ${inPage.actions} actions in the page, ${inNode.humanActions} in Node\n`);
      }
    }
    report({
      summary: true, person: BENCH_PEOPLE[0].name, houses: houses.length,
      human_actions_saved_browser: 1 - totals.browserAssisted / totals.browserAlone,
      human_actions_saved_node: 1 - totals.nodeAssisted / totals.nodeAlone,
      episodes_same_as_node: `${totals.same}/${totals.episodes}`, page_errors: errors.length,
      seconds: Math.round((performance.now() - t0) / 1000), load: loadavg()[0],
    });
  } finally {
    await browser.close();
    server.kill('SIGTERM');
    await new Promise((r) => (server.exitCode === null ? server.once('exit', r) : r(undefined)));
    await rm(dir, { recursive: true, force: true });
  }
}
