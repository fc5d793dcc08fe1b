/**
 * Two V8 heap snapshots of one process (v8.writeHeapSnapshot, as bench soak --snapshots writes them), compared: what
 * grew between them, by constructor (count and self size), and, for the kinds asked about, by retainer chain (the
 * first retainers of each object, skipping V8's own), counted in both snapshots so that a chain's delta is net growth
 * and not objects replaced by others of the same kind (a cache that keeps the 4 most recent jobs holds new objects
 * after every job, but no more of them).
 */
import { readFileSync } from 'node:fs';

type Snapshot = {
  nodes: number[];
  edges: number[];
  strings: string[];
  nodeFields: number;
  edgeFields: number;
  count: number;
  nodeTypes: string[];
  edgeTypes: string[];
  firstEdge: Uint32Array;
  field: { type: number; name: number; size: number; edges: number };
  edge: { type: number; name: number; to: number };
};

export type KindDelta = { kind: string; count: number; countDelta: number; sizeDelta: number };
export type ChainDelta = { chain: string; count: number; delta: number };

export function loadSnapshot(path: string): Snapshot {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; edge_fields: string[]; node_types: [string[]]; edge_types: [string[]] } };
    nodes: number[];
    edges: number[];
    strings: string[];
  };
  const m = raw.snapshot.meta;
  const nodeFields = m.node_fields.length;
  const edgeFields = m.edge_fields.length;
  const count = raw.nodes.length / nodeFields;
  const field = { type: m.node_fields.indexOf('type'), name: m.node_fields.indexOf('name'), size: m.node_fields.indexOf('self_size'), edges: m.node_fields.indexOf('edge_count') };
  const firstEdge = new Uint32Array(count + 1);
  for (let i = 0, e = 0; i < count; i++) {
    firstEdge[i] = e;
    e += raw.nodes[i * nodeFields + field.edges] * edgeFields;
    firstEdge[i + 1] = e;
  }
  return {
    nodes: raw.nodes,
    edges: raw.edges,
    strings: raw.strings,
    nodeFields,
    edgeFields,
    count,
    nodeTypes: m.node_types[0],
    edgeTypes: m.edge_types[0],
    firstEdge,
    field,
    edge: { type: m.edge_fields.indexOf('type'), name: m.edge_fields.indexOf('name_or_index'), to: m.edge_fields.indexOf('to_node') },
  };
}

/** An object's kind: its type and, for objects and closures, its constructor or function name. */
function kindOf(s: Snapshot, i: number): string {
  const type = s.nodeTypes[s.nodes[i * s.nodeFields + s.field.type]];
  const name = s.strings[s.nodes[i * s.nodeFields + s.field.name]];
  if (type === 'object' || type === 'native' || type === 'closure') return `${type}:${name.slice(0, 60)}`;
  return type.includes('string') ? `(${type})` : `(${type}):${name.slice(0, 40)}`;
}

export function diffByKind(a: Snapshot, b: Snapshot): KindDelta[] {
  const tally = (s: Snapshot) => {
    const byKind = new Map<string, { count: number; size: number }>();
    for (let i = 0; i < s.count; i++) {
      const k = kindOf(s, i);
      const v = byKind.get(k) ?? { count: 0, size: 0 };
      v.count++;
      v.size += s.nodes[i * s.nodeFields + s.field.size];
      byKind.set(k, v);
    }
    return byKind;
  };
  const [ta, tb] = [tally(a), tally(b)];
  const kinds = new Set([...ta.keys(), ...tb.keys()]);
  return [...kinds].map((kind) => {
    const [x, y] = [ta.get(kind) ?? { count: 0, size: 0 }, tb.get(kind) ?? { count: 0, size: 0 }];
    return { kind, count: y.count, countDelta: y.count - x.count, sizeDelta: y.size - x.size };
  });
}

/** For each object of the given kinds: its first `depth` retainers (weak edges and V8's own objects passed over). */
function chainsOf(s: Snapshot, kinds: ReadonlySet<string>, depth: number): Map<string, Map<string, number>> {
  const retainers = new Map<number, [number, string][]>();
  for (let i = 0; i < s.count; i++) {
    for (let e = s.firstEdge[i]; e < s.firstEdge[i + 1]; e += s.edgeFields) {
      const type = s.edgeTypes[s.edges[e + s.edge.type]];
      if (type === 'weak' || type === 'shortcut') continue;
      const to = s.edges[e + s.edge.to] / s.nodeFields;
      // Indices and object ids told apart chains that are the same (a Map's table slot, a WeakMap key's id).
      const name = type === 'element' || type === 'hidden' ? '[]' : String(s.strings[s.edges[e + s.edge.name]]).replace(/^\d+$/, '[]').replace(/@\d+/, '@').slice(0, 30);
      const list = retainers.get(to) ?? [];
      list.push([i, `${type}:${name}`]);
      retainers.set(to, list);
    }
  }
  const out = new Map([...kinds].map((k) => [k, new Map<string, number>()]));
  for (let i = 0; i < s.count; i++) {
    const chains = out.get(kindOf(s, i));
    if (!chains) continue;
    const steps: string[] = [];
    const seen = new Set([i]);
    for (let cur = i, d = 0; d < depth; d++) {
      const candidates = (retainers.get(cur) ?? []).filter(([r]) => !seen.has(r));
      if (candidates.length === 0) break;
      const [by, edge] = candidates.find(([r]) => !kindOf(s, r).startsWith('(hidden)') && !kindOf(s, r).includes('system /')) ?? candidates[0];
      steps.push(`${edge}<-${kindOf(s, by)}`);
      cur = by;
      seen.add(cur);
      if (/NativeContext|\(GC roots\)/.test(kindOf(s, cur))) break;
    }
    const chain = steps.join(' | ');
    chains.set(chain, (chains.get(chain) ?? 0) + 1);
  }
  return out;
}

/** Net growth of the given kinds by retainer chain, the chains that grew most first. */
export function diffByChain(a: Snapshot, b: Snapshot, kinds: readonly string[], depth = 7): Map<string, ChainDelta[]> {
  const wanted = new Set(kinds);
  const [ca, cb] = [chainsOf(a, wanted, depth), chainsOf(b, wanted, depth)];
  return new Map(kinds.map((kind) => {
    const [x, y] = [ca.get(kind)!, cb.get(kind)!];
    const chains = new Set([...x.keys(), ...y.keys()]);
    return [kind, [...chains].map((chain) => ({ chain, count: y.get(chain) ?? 0, delta: (y.get(chain) ?? 0) - (x.get(chain) ?? 0) })).sort((p, q) => q.delta - p.delta)];
  }));
}
