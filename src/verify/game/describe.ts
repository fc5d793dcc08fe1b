/**
 * Moves and positions in words, for people: `mycel dispute` prints them, and the dashboard shows a dispute replayed
 * from the chain with them (one wording for both).
 */
import type { Move, Position, Ruling } from './types.js';

const short = (h: string) => `${h.slice(0, 10)}…`;

/** What a move says, e.g. "names step 3: h_2 … agreed, h_3 solver … vs challenger …". */
export function describeMove(m: Move): string {
  switch (m.kind) {
    case 'commit-step': return `opens its h_t ${short(m.h)}${m.prev ? ` and the agreed h_t-1 ${short(m.prev.hash)}` : ''}, commits step tree ${short(m.root)}`;
    case 'reveal': return `reveals ${m.nodes.length} nodes below its disputed node: ${m.nodes.map(short).join(' ')}`;
    case 'commit-op': return `commits chunk root ${short(m.chunkRoot)}`;
    case 'open-chunk': return `opens a chunk of ${m.words.length} words`;
    case 'commit-element': return `commits final machine state after ${m.final.steps} instructions`;
    case 'claim': return `claims ${m.hashes.length} machine states: ${m.hashes.map(short).join(' ')}`;
    case 'prove-state': return /^0+$/.test(m.commitment) ? `proves the header of h_t from optimizer step ${m.optStep} of h_t-1` : `proves a state tensor of h_t from its source's commitment ${short(m.commitment)}`;
    case 'prove': return `sends the one-step proof from pc ${m.pre.pc}${m.opening ? ' with a memory opening' : ''}`;
    case 'timeout': return 'claims a timeout';
  }
}

/** Where the game stands: the disputed range at the position's level. */
export function describeWhere(p: Position): string {
  if (p.level === 'run') return `run trees, steps ${p.lo}..${p.lo + p.n - 1}`;
  if (p.level === 'step') return `step ${p.t}, ops ${p.lo}..${p.lo + p.n - 1}`;
  if (p.level === 'op') return `step ${p.t}, op ${p.op}, chunks ${p.lo}..${p.lo + p.n - 1}`;
  if (p.level === 'state') return `step ${p.t}, leaves ${p.lo}..${p.lo + p.n - 1} of h_${p.t}`;
  if (p.level === 'element') return `step ${p.t}, op ${p.op}, element ${p.element}, instructions ${p.lo}..${p.lo + p.n}`;
  return p.level;
}

/** Where a ruling located the fault, e.g. "at step 3, op 41 (matmul), element 7, instruction 12 (ffma)". */
export function describeRuling(r: Ruling): string {
  if (r.at === 'instruction') return `at step ${r.t}, op ${r.op} (${r.opName}), element ${r.element}, instruction ${r.instruction} (${r.opcode})`;
  if (r.at === 'state') return `at step ${r.t}: every op agrees, and leaf ${r.instruction} (${r.opName}) of the committed state is not what they give`;
  if (r.at === 'initial') return 'at the run\'s first state: its h_0 is not the job\'s';
  return 'by timeout';
}
