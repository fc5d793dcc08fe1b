/** Disputes replayed move by move from the chain, down to the instruction the contract executed. */
import type { DisputeView } from '../../node/dashboard/state.js';
import { fill, h, short, table } from './dom.js';

function ruling(d: DisputeView): HTMLElement | null {
  if (!d.ruling && !d.onChain) return h('p', { class: 'pending' }, `In play at the ${d.level} level: ${d.where}.`);
  const r = d.ruling;
  return h('div', { class: 'ruling' },
    r ? h('p', {}, h('strong', {}, `The ${r.loser} lost`), ` ${r.text}.`) : null,
    r ? h('p', { class: 'reason' }, r.reason) : null,
    d.onChain ? h('p', { class: 'onchain' }, `On chain: the ${d.onChain.loser} lost at the ${d.onChain.at} level; winner `, short(d.onChain.winner)) : null,
  );
}

export function renderDisputes(disputes: DisputeView[]): void {
  fill('disputes-count', `${disputes.length} dispute${disputes.length === 1 ? '' : 's'}`);
  if (disputes.length === 0) return fill('disputes', h('p', { class: 'empty' }, 'No root has been challenged.'));
  fill('disputes', ...disputes.map((d) => h('section', { class: 'dispute' },
    h('h3', {}, `Dispute ${d.disputeId} over job #${d.jobId}: `, h('span', { class: 'who' }, 'solver '), short(d.solver, 4), h('span', { class: 'who' }, ' vs challenger '), short(d.challenger, 4)),
    ruling(d),
    d.note ? h('p', { class: 'note' }, d.note) : null,
    table(['#', 'by', 'move', 'then at', 'block', 'gas'],
      d.moves.map((m) => [m.n, h('span', { class: `party ${m.by}` }, m.by), h('span', {}, h('b', {}, m.kind), ' ', m.text), h('span', {}, h('span', { class: `chip level-${m.level}` }, m.level), ' ', m.where), m.block, m.gas ?? '']),
      'No move yet.'),
  )));
}
