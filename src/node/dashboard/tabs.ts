/**
 * Presence gossip between a node and the browser tabs it serves: every peer on the topic publishes a small signed
 * message (its kind and clock) once a second, so a tab learns that it is on the mesh (its first gossip message) and a
 * node which tabs are there. Messages are size-capped and schema-checked before they are used.
 */
import type { MycelNode } from '../../p2p/node.js';

export const TABS_TOPIC = 'mycel/tabs/1';
/** How often a peer says it is there. */
export const PRESENCE_EVERY_MS = 1_000;
const MAX_PRESENCE_BYTES = 512;

export type Presence = { kind: 'node' | 'tab'; at: number; name: string };

/**
 * The message, if it is exactly a presence (these three fields, nothing else). Checked by hand, not with zod: this
 * file is in the browser node's page, where zod (even zod/mini) added 400 KB, a third of its code and of its start-up.
 */
export function decodePresence(bytes: Uint8Array): Presence | undefined {
  if (bytes.byteLength > MAX_PRESENCE_BYTES) return undefined;
  let m: unknown;
  try {
    m = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return undefined;
  const { kind, at, name, ...rest } = m as Record<string, unknown>;
  const ok = (kind === 'node' || kind === 'tab') && typeof at === 'number' && Number.isFinite(at) && typeof name === 'string' && name.length <= 64 && Object.keys(rest).length === 0;
  return ok ? { kind, at, name } : undefined;
}

export const encodePresence = (p: Presence) => new TextEncoder().encode(JSON.stringify(p));

/** Joins the topic and says so every second; `onTab` hears each tab's presence. Returns a function that stops it. */
export function servePresence(p2p: MycelNode, name: string, onTab?: (peer: string, p: Presence) => void): () => void {
  const pubsub = p2p.host.services.pubsub;
  pubsub.subscribe(TABS_TOPIC);
  const onMessage = (e: CustomEvent<{ topic: string; data: Uint8Array; type?: string; from?: { toString(): string } }>) => {
    const m = e.detail;
    if (m.topic !== TABS_TOPIC) return;
    const p = decodePresence(m.data);
    if (p?.kind === 'tab' && m.from) onTab?.(m.from.toString(), p);
  };
  pubsub.addEventListener('message', onMessage as never);
  const say = () => void pubsub.publish(TABS_TOPIC, encodePresence({ kind: 'node', at: Date.now(), name })).catch(() => undefined);
  // A tab that just joined the topic hears the node at once instead of up to a period later (its first gossip
  // message is what `bench browser` times from page load).
  const onSubscription = (e: CustomEvent<{ subscriptions: { topic: string; subscribe: boolean }[] }>) => {
    if (e.detail.subscriptions.some((t) => t.topic === TABS_TOPIC && t.subscribe)) say();
  };
  pubsub.addEventListener('subscription-change', onSubscription as never);
  const timer = setInterval(say, PRESENCE_EVERY_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    pubsub.removeEventListener('subscription-change', onSubscription as never);
    pubsub.removeEventListener('message', onMessage as never);
    pubsub.unsubscribe(TABS_TOPIC);
  };
}
