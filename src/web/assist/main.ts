/**
 * The block game: the person builds on a 7x4x7 grid, one layer at a time seen from above, with a 3D view; after each
 * of the person's actions the assistant (in a Web Worker, assist/ on the runtime) decides once and places a block or
 * does nothing. Undo takes back the last block placed or removed, the assistant's too (it will not place there
 * again). Finished episodes go to the local server (content-addressed); nothing else leaves the page.
 */
import { cellIndex } from '../../assist/app.js';
import { EpisodeRecorder, encodeEpisode, gridToBase64 } from '../../assist/episode.js';
import { BLOCKS_APP, MATERIALS, completion } from '../../assist/blocks/world.js';
import { housesOf, type House } from '../../assist/blocks/houses.js';
import { createView3d, COLORS } from './view3d.js';
import type { AssistReply, AssistRequest } from './worker.js';

const [X, Y, Z] = BLOCKS_APP.grid;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const HUMAN = 1;
const ASSISTANT = 2;

type Move = { cell: number; before: number; beforeWho: number; who: number };

const game = {
  grid: new Uint8Array(BLOCKS_APP.cells),
  who: new Uint8Array(BLOCKS_APP.cells),
  refused: new Set<number>(),
  last: -1,
  layer: 0,
  material: 1,
  tick: 0,
  history: [] as Move[],
  recorder: undefined as EpisodeRecorder | undefined,
  blueprint: undefined as House | undefined,
  busy: false,
  decision: undefined as Extract<AssistReply, { kind: 'step' }> | undefined,
  metrics: { human: 0, placed: 0, undone: 0, noops: 0 },
  saved: [] as string[],
};

const worker = new Worker('/assist-worker.js', { type: 'module' });
let nextId = 0;
const pending = new Map<number, (r: Extract<AssistReply, { kind: 'step' }>) => void>();
let onModel: ((hash: string) => void) | undefined;
worker.onmessage = (e: MessageEvent<AssistReply>) => {
  const r = e.data;
  if (r.kind === 'error') return void say(`The assistant failed: ${r.message}`);
  if (r.kind === 'model') return void onModel?.(r.hash);
  pending.get(r.id)?.(r);
  pending.delete(r.id);
};
const send = (req: AssistRequest, transfer: Transferable[] = []) => worker.postMessage(req, transfer);

function say(text: string): void {
  $('message').textContent = text;
}

async function loadModel(): Promise<void> {
  const res = await fetch('/api/model');
  if (!res.ok) throw new Error(`GET /api/model: ${res.status}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const hash = await new Promise<string>((resolve) => {
    onModel = resolve;
    send({ kind: 'model', bytes }, [bytes.buffer]);
  });
  if (hash !== res.headers.get('X-Model-Hash')) throw new Error(`the model received hashes to ${hash}, the server sent ${res.headers.get('X-Model-Hash')}`);
  $('model').textContent = `model ${hash.slice(0, 16)}…, run commitment ${res.headers.get('X-Run-Commitment')?.slice(0, 16)}…`;
  document.body.dataset.model = hash;
}

function newEpisode(): void {
  game.grid.fill(0);
  game.who.fill(0);
  game.refused.clear();
  game.last = -1;
  game.tick = 0;
  game.history = [];
  game.metrics = { human: 0, placed: 0, undone: 0, noops: 0 };
  game.decision = undefined;
  game.recorder = new EpisodeRecorder(BLOCKS_APP, ($('person') as HTMLInputElement).value || 'me', game.grid, game.blueprint?.name);
  void think(false);
}

function set(cell: number, value: number, who: number): void {
  game.history.push({ cell, before: game.grid[cell], beforeWho: game.who[cell], who });
  game.grid[cell] = value;
  game.who[cell] = value === 0 ? 0 : who;
}

/** The person's action at a cell of the current layer: place the selected material, or remove what is there. */
async function humanAt(cell: number): Promise<void> {
  if (game.busy) return;
  const removing = game.grid[cell] !== 0;
  if (removing && game.who[cell] === ASSISTANT) {
    game.refused.add(cell);
    game.metrics.undone++;
  }
  set(cell, removing ? 0 : game.material, HUMAN);
  game.recorder!.record({ who: 'human', kind: removing ? 'remove' : 'place', cell, value: removing ? 0 : game.material, tick: game.tick }, game.grid);
  game.last = cell;
  game.metrics.human++;
  await think(($('assist-on') as HTMLInputElement).checked);
  game.tick++;
}

/** Undo: the last block placed or removed, by anyone, is put back (a new step of the episode, by the person). */
async function undo(): Promise<void> {
  if (game.busy) return;
  const move = game.history.pop();
  if (!move) return say('Nothing to undo.');
  if (game.who[move.cell] === ASSISTANT) {
    game.refused.add(move.cell);
    game.metrics.undone++;
  }
  game.grid[move.cell] = move.before;
  game.who[move.cell] = move.beforeWho;
  game.recorder!.record({ who: 'human', kind: move.before === 0 ? 'remove' : 'place', cell: move.cell, value: move.before, tick: game.tick }, game.grid);
  game.last = move.cell;
  game.metrics.human++;
  await think(false);
  game.tick++;
}

/** Asks the worker for its belief (and, if act, its decision) and applies a placement. */
async function think(act: boolean): Promise<void> {
  game.busy = true;
  document.body.dataset.busy = 'true';
  try {
    const id = nextId++;
    const assistantCells = [...game.who.keys()].filter((c) => game.who[c] === ASSISTANT);
    const request: AssistRequest = { kind: 'step', id, act, grid: [...game.grid], last: game.last, refused: [...game.refused], assistantCells };
    // What the worker was asked, for a test to ask Node the same and compare the bits.
    document.body.dataset.lastRequest = JSON.stringify(request);
    const reply = await new Promise<Extract<AssistReply, { kind: 'step' }>>((resolve) => {
      pending.set(id, resolve);
      send(request);
    });
    game.decision = reply;
    document.body.dataset.beliefHash = reply.beliefHash;
    document.body.dataset.lastAction = JSON.stringify(reply.action);
    if (act && reply.action.kind === 'place') {
      set(reply.action.cell, reply.action.value, ASSISTANT);
      game.metrics.placed++;
      game.recorder!.record({ who: 'assistant', kind: 'place', cell: reply.action.cell, value: reply.action.value, tick: game.tick }, game.grid);
    } else if (act) {
      game.metrics.noops++;
      game.recorder!.record({ who: 'assistant', kind: 'noop', cell: -1, value: 0, tick: game.tick }, game.grid);
    }
  } finally {
    game.busy = false;
    document.body.dataset.busy = 'false';
    render();
  }
}

async function finish(): Promise<void> {
  const episode = game.recorder!.episode();
  if (!episode.steps.some((s) => s.who === 'human')) return say('Build something first: an episode needs your actions.');
  const { id, bytes } = encodeEpisode(episode);
  const res = await fetch('/api/episodes', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Episode-Id': id }, body: bytes as Uint8Array<ArrayBuffer> });
  const body = (await res.json()) as { id?: string; error?: string };
  if (!res.ok) return say(`Not saved: ${body.error}`);
  game.saved.push(id);
  document.body.dataset.saved = String(game.saved.length);
  say(`Episode ${id.slice(0, 16)}… saved (${episode.steps.length} steps). A new one starts.`);
  newEpisode();
}

async function learn(): Promise<void> {
  const person = ($('person') as HTMLInputElement).value || 'me';
  say(`Learning from ${person}'s episodes on this machine…`);
  ($('learn') as HTMLButtonElement).disabled = true;
  try {
    const res = await fetch('/api/learn', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ person }) });
    const body = (await res.json()) as { model?: string; episodes?: number; error?: string };
    if (!res.ok) return say(`Not learned: ${body.error}`);
    await loadModel();
    say(`Learned from ${body.episodes} episode(s) of ${person}: model ${body.model?.slice(0, 16)}… is in use.`);
    await think(false);
  } finally {
    ($('learn') as HTMLButtonElement).disabled = false;
  }
}

const view = createView3d($('view3d'), BLOCKS_APP.grid);

function render(): void {
  const d = game.decision;
  for (let x = 0; x < X; x++) for (let z = 0; z < Z; z++) {
    const cell = cellIndex(BLOCKS_APP, x, game.layer, z);
    const el = $(`cell-${x}-${z}`);
    const v = game.grid[cell];
    const ghost = game.blueprint?.grid[cell] ?? 0;
    el.className = `cell${v === 0 && ghost !== 0 ? ' ghost' : ''}${game.who[cell] === ASSISTANT ? ' assistant' : ''}`;
    el.dataset.cell = String(cell);
    el.dataset.value = String(v);
    el.style.background = v !== 0 ? COLORS[v] : d && d.topP[cell] >= 0.2 ? `color-mix(in srgb, ${COLORS[d.topValue[cell]]} ${Math.round(d.topP[cell] * 70)}%, #11161c)` : '#11161c';
    el.innerHTML = v === 0 && d && d.topP[cell] >= 0.2 ? `<span class="p">${Math.round(d.topP[cell] * 100)}%</span>` : '';
    el.title = `(${x}, ${game.layer}, ${z}) ${MATERIALS[v]}${d ? `; belief: ${MATERIALS[d.topValue[cell]]} ${(d.topP[cell] * 100).toFixed(0)}%` : ''}`;
  }
  for (const b of document.querySelectorAll<HTMLButtonElement>('#layers button')) b.classList.toggle('on', Number(b.dataset.layer) === game.layer);
  for (const b of document.querySelectorAll<HTMLButtonElement>('#palette button')) b.classList.toggle('on', Number(b.dataset.material) === game.material);
  const a = d?.action;
  $('decision').innerHTML = !d ? 'waiting for your first block' : a?.kind === 'place'
    ? `placed <b>${MATERIALS[a.value]}</b> at (${cellXYZText(a.cell)}): belief ${(d.confidence * 100).toFixed(0)}%, expected reward ${d.expectedReward.toFixed(2)}`
    : `waiting (NO-OP): its best guess is ${(d.confidence * 100).toFixed(0)}% sure, not above 50%`;
  const m = game.metrics;
  const kept = [...game.who].filter((w) => w === ASSISTANT).length;
  const rows: [string, string][] = [
    ['your actions', String(m.human)], ['assistant placed', String(m.placed)], ['its blocks kept', String(kept)],
    ['undone by you', String(m.undone)], ['NO-OPs', String(m.noops)],
    ['blueprint done', game.blueprint ? `${(completion(game.grid, game.blueprint.grid) * 100).toFixed(0)}%` : '(no blueprint)'],
    ['episodes saved', String(game.saved.length)],
  ];
  $('metrics').innerHTML = rows.map(([k, v]) => `<tr><td>${k}</td><td id="m-${k.replace(/\W+/g, '-')}">${v}</td></tr>`).join('');
  view?.update(game.grid, game.who, game.blueprint?.grid, game.layer);
  document.body.dataset.grid = gridToBase64(game.grid);
}

function cellXYZText(cell: number): string {
  return `${Math.floor(cell / (Y * Z))}, ${Math.floor(cell / Z) % Y}, ${cell % Z}`;
}

let sharing = false;
/** Why the server cannot post training jobs (it is on no market), from GET /api/jobs; undefined when it can. */
let noMarket: string | undefined = 'asking the server whether it is on a market';

/** "Train on the network" needs sharing on and a server on a market; its title says what is missing. */
function trainButton(): void {
  const b = $('train-network') as HTMLButtonElement;
  b.disabled = !sharing || noMarket !== undefined;
  b.title = noMarket ?? (sharing ? 'post a job that trains this model on your saved episodes' : 'needs sharing on');
}

/** Sharing: off unless the person turns it on; the server refuses to share while it is off. */
async function loadConsent(): Promise<void> {
  const { share } = (await (await fetch('/api/consent')).json()) as { share: boolean };
  ($('consent') as HTMLInputElement).checked = share;
  ($('share') as HTMLButtonElement).disabled = !share;
  sharing = share;
  trainButton();
  $('status').textContent = share ? 'ready · sharing on: "Share" offers your saved episodes to the network' : 'ready · network off: episodes and models stay on this machine';
}

async function setConsent(share: boolean): Promise<void> {
  await fetch('/api/consent', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ share }) });
  await loadConsent();
}

async function share(): Promise<void> {
  const person = ($('person') as HTMLInputElement).value || 'me';
  const res = await fetch('/api/share', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ person }) });
  const body = (await res.json()) as { cid?: string; episodes?: number; signer?: string; error?: string };
  if (!res.ok) return say(`Not shared: ${body.error}`);
  document.body.dataset.sharedCid = body.cid;
  say(`Shared ${body.episodes} episode(s) as dataset ${body.cid}, signed by ${body.signer}.`);
}

type JobRow = { jobId: string; phase: string; modelCid?: string; dataset: string };
let polling: ReturnType<typeof setInterval> | undefined;

/** A training job on the market: the server posts it (its node, the person's key); the model comes back by CID. */
async function trainOnNetwork(): Promise<void> {
  const person = ($('person') as HTMLInputElement).value || 'me';
  const res = await fetch('/api/jobs', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ person }) });
  const body = (await res.json()) as { jobId?: string; dataset?: string; episodes?: number; error?: string };
  if (!res.ok) return say(`Not posted: ${body.error}`);
  say(`Posted job ${body.jobId}: fine-tune this model on ${body.episodes} episode(s) (dataset ${body.dataset?.slice(0, 16)}…). Its model can be used once the job is finalized.`);
  polling ??= setInterval(() => void loadJobs(), 3_000);
  await loadJobs();
}

async function loadJobs(): Promise<void> {
  const { jobs, market } = (await (await fetch('/api/jobs')).json()) as { jobs: JobRow[]; market?: string };
  noMarket = market;
  trainButton();
  const el = $('jobs');
  el.replaceChildren(...jobs.map((j) => {
    const row = document.createElement('div');
    row.dataset.job = j.jobId;
    row.dataset.phase = j.phase;
    row.textContent = `job ${j.jobId}: ${j.phase}${j.modelCid ? `, model ${j.modelCid.slice(0, 16)}…` : ''} `;
    if (j.phase === 'Finalized' && j.modelCid) {
      const use = document.createElement('button');
      use.textContent = 'Use';
      use.onclick = () => void useJobModel(j.jobId, j.modelCid!);
      row.append(use);
    }
    return row;
  }));
  if (polling && jobs.every((j) => ['Finalized', 'Refuted', 'Expired'].includes(j.phase) && (j.phase !== 'Finalized' || j.modelCid))) {
    clearInterval(polling);
    polling = undefined;
  }
}

/** The server fetches the model by CID and checks it against the finalized job on chain; only then is it loaded here. */
async function useJobModel(jobId: string, cid: string): Promise<void> {
  say(`Fetching the model of job ${jobId} by CID and checking it against the chain…`);
  const res = await fetch('/api/model/from-job', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ jobId, cid }) });
  const body = (await res.json()) as { model?: string; error?: string };
  if (!res.ok) return say(`Not used: ${body.error}`);
  await loadModel();
  say(`The model of job ${jobId} (${body.model?.slice(0, 16)}…) is its finalized run's: in use.`);
  await think(false);
}

function setup(): void {
  const palette = $('palette');
  MATERIALS.forEach((name, v) => {
    if (v === 0) return;
    const b = document.createElement('button');
    b.dataset.material = String(v);
    b.innerHTML = `<span class="swatch" style="background:${COLORS[v]}"></span>${v} ${name}`;
    b.onclick = () => { game.material = v; render(); };
    palette.append(b);
  });
  const layers = $('layers');
  layers.append('Layer ');
  for (let y = 0; y < Y; y++) {
    const b = document.createElement('button');
    b.dataset.layer = String(y);
    b.textContent = y === 0 ? '0 (ground)' : String(y);
    b.onclick = () => { game.layer = y; render(); };
    layers.append(b);
  }
  const grid = $('layer-grid');
  // Rows from the back (z = Z-1) to the front (z = 0), as seen from above with the front at the bottom.
  for (let z = Z - 1; z >= 0; z--) for (let x = 0; x < X; x++) {
    const b = document.createElement('button');
    b.id = `cell-${x}-${z}`;
    b.onclick = () => void humanAt(cellIndex(BLOCKS_APP, x, game.layer, z));
    grid.append(b);
  }
  const select = $('blueprint') as HTMLSelectElement;
  const houses = housesOf('test').slice(0, 24);
  select.innerHTML = '<option value="">free build</option>' + houses.map((h, i) => `<option value="${i}">${h.name}</option>`).join('');
  select.onchange = () => { game.blueprint = select.value === '' ? undefined : houses[Number(select.value)]; newEpisode(); };
  $('undo').onclick = () => void undo();
  $('finish').onclick = () => void finish();
  $('learn').onclick = () => void learn();
  $('consent').onchange = () => void setConsent(($('consent') as HTMLInputElement).checked);
  $('share').onclick = () => void share();
  $('train-network').onclick = () => void trainOnNetwork();
  $('person').onchange = () => newEpisode();
  document.addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLInputElement) return;
    if (e.key >= '1' && e.key <= '4') { game.material = Number(e.key); render(); }
    if ((e.ctrlKey || e.metaKey) && e.key === 'z') void undo();
  });
}

setup();
Promise.all([loadModel(), loadConsent(), loadJobs()]).then(() => {
  newEpisode();
  document.body.dataset.ready = 'true';
}, (e: Error) => { $('status').textContent = `The model did not load: ${e.message}. Is \`mycel assist\` still running?`; });
