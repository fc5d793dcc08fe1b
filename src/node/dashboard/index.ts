// A node's dashboard: what the node knows (observer.ts), served as JSON, Server-Sent Events and pages (server.ts).
export * from './state.js';
export { Observer, type ObservedChain, type ObserverUpdate } from './observer.js';
export { serveDashboard, DashboardPortError, PAGES_DIR, type DashboardServer, type DashboardServerOptions, type ServedChain, type ServedSwarm } from './server.js';
export { devnetDashboard } from './devnet.js';
export { TABS_TOPIC, servePresence, decodePresence, encodePresence, type Presence } from './tabs.js';
export { watchSwarmMetrics, swarmMetricsFile, parseRounds } from './swarm-metrics.js';
