/**
 * Presence gossip between a node and the browser tabs it serves: every peer on the topic publishes a small signed
 * message (its kind and clock) once a second, so a tab learns that it is on the mesh (its first gossip message) and a
 * node which tabs are there. Messages are size-capped and schema-checked before they are used.
 */
import { z } from 'zod';
import type { MycelNode } from '../../p2p/node.js';

export const TABS_TOPIC = 'mycel/tabs/1';
/** How often a peer says it is there. */
export const PRESENCE_EVERY_MS = 1_000;
const MAX_PRESENCE_BYTES = 512;

export const Presence = z.object({ kind: z.enum(['node', 'tab']), at: z.number(), name: z.string().max(64) }).strict();
export type Presence = z.infer<typeof Presence>;

export function decodePresence(bytes: Uint8Array): Presence | undefined {
  if (bytes.byteLength > MAX_PRESENCE_BYTES) return undefined;
  try {
    return Presence.parse(JSON.parse(new TextDecoder().decode(bytes)));
  } catch {
    return undefined;
  }
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
  const timer = setInterval(() => void pubsub.publish(TABS_TOPIC, encodePresence({ kind: 'node', at: Date.now(), name })).catch(() => undefined), PRESENCE_EVERY_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    pubsub.removeEventListener('message', onMessage as never);
    pubsub.unsubscribe(TABS_TOPIC);
  };
}
