/**
 * Which connections a node closes when it holds more than it wants: a high and a low water mark and a grace period
 * for new connections, as go-libp2p's connection manager does. libp2p-js's own pruner cannot make room: it closes
 * the newest connections first, and only those with no stream but identify's (connection-manager/utils.js
 * safelyCloseConnectionIfUnused), so once a node is full every established connection (each carries a gossipsub
 * stream) stays and every newcomer is cut as soon as it arrives. In the scale simulation (12 connections a node),
 * the long-lived nodes filled up with one another and every node that restarted could only keep connections to other
 * restarted nodes: they formed islands that got none of the rest's gossip (24 nodes: 4 restarted nodes missed every
 * probe for 50 s; probes published inside an island reached 1 node in 20).
 *
 * Here a node connected to more than `high` peers closes connections down to `low` peers, never one younger than `graceMs` (a newcomer gets time
 * to join a gossip mesh and the DHT's routing table, which is what makes a connection valuable), lowest value first
 * (the sum of its peer's tags: gossipsub tags mesh peers 100 per topic, kad-dht its routing table's peers 1), the
 * oldest first among equals (a long-held connection to a peer of no value is the one most likely to stay useless),
 * and never one carrying a blob stream (a transfer under way, or the opening of one, would fail).
 */
/** One peer's connections: when the newest was opened, the peer's value, and whether a blob transfer is under way. */
export type ConnectionView = { id: string; openedAt: number; value: number; busy?: boolean };
export type TrimLimits = { high: number; low: number; graceMs: number };

/** The peers whose connections to close (their ids), or none while at most `high` peers are connected. Pure. */
export function peersToTrim(connections: readonly ConnectionView[], now: number, { high, low, graceMs }: TrimLimits): string[] {
  if (connections.length <= high) return [];
  const closable = connections.filter((c) => !c.busy && now - c.openedAt >= graceMs).sort((a, b) => a.value - b.value || a.openedAt - b.openedAt);
  return closable.slice(0, Math.max(0, connections.length - low)).map((c) => c.id);
}
