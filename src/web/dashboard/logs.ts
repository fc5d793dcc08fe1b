/** Recent log lines (progress, transactions, models), newest at the bottom, kept to the node's own limit. */
import type { LogView } from '../../node/dashboard/state.js';
import { clock, h } from './dom.js';

const KEEP = 500;

function row(l: LogView): HTMLElement {
  return h('div', { class: `log ${l.kind}` }, h('span', { class: 't' }, clock(l.at)), h('span', { class: 'n' }, l.node), h('span', { class: 'x' }, l.text));
}

export function resetLogs(logs: LogView[]): void {
  const box = document.getElementById('logs')!;
  box.replaceChildren(...logs.slice(-KEEP).map(row));
  box.scrollTop = box.scrollHeight;
}

export function appendLog(l: LogView): void {
  const box = document.getElementById('logs')!;
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 30;
  box.append(row(l));
  while (box.childElementCount > KEEP) box.firstElementChild!.remove();
  if (atBottom) box.scrollTop = box.scrollHeight;
}
