/** Balances and stakes of the accounts the node knows, and the token's total supply (it falls when stake is burned). */
import type { DashboardState } from '../../node/dashboard/state.js';
import { fill, h, short, table } from './dom.js';

export function renderBalances(b: DashboardState['balances']): void {
  fill('balances',
    table(['account', 'address', 'balance (MYC)', 'registry stake (MYC)'],
      b.accounts.map((a) => [a.role, short(a.address), h('span', { class: 'num' }, a.balance), h('span', { class: 'num' }, a.registered ? a.stake : 'not registered')]),
      'This node watches no accounts (it is not on a chain).'),
    b.totalSupply ? h('p', { class: 'supply' }, `Total supply: ${b.totalSupply} MYC`) : null,
  );
}
