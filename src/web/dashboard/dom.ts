/** The few DOM helpers the views share: elements built from text (never from HTML strings), and short labels. */
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** Replaces the content of the element with id `id`. */
export function fill(id: string, ...children: Child[]): void {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  el.replaceChildren(...children.filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false).map((c) => (c instanceof Node ? c : String(c))));
}

/** "0x1234…cdef": long hashes and addresses, with the whole value in the tooltip. */
export function short(value: string, keep = 6): HTMLElement {
  return h('span', { class: 'hash', title: value }, value.length > 2 * keep + 3 ? `${value.slice(0, keep + 2)}…${value.slice(-keep)}` : value);
}

export function table(head: string[], rows: Child[][], empty: string): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h('table', {}, h('thead', {}, h('tr', {}, ...head.map((c) => h('th', {}, c)))), h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))));
}

export const clock = (ms: number) => new Date(ms).toLocaleTimeString([], { hour12: false });
