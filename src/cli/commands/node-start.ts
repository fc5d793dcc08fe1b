import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Observer, serveDashboard, servePresence, swarmMetricsFile, watchSwarmMetrics } from '../../node/index.js';
import { CONTROL_FILE } from '../../p2p/constants.js';
import { intFlag, type Command } from '../command.js';
import { loadConfig } from '../../p2p/config.js';
import { callControl, startControl } from '../../p2p/control.js';
import { consoleFile, logDir, logFile, startDetached } from '../service.js';
import { openNodeLog } from '../../node/log.js';
import { createNodeMetrics, serveMetrics } from '../../node/metrics.js';
import { loadIdentity } from '../../p2p/identity.js';
import { isRelayedAddr, MycelNode } from '../../p2p/node.js';

/** How long `node start --via-relay` waits for a relay reservation before printing its addresses. */
const RELAY_ADDRESS_WAIT_MS = 5_000;
import { DATA_DIR_FLAGS, dataDirOf } from './p2p-flags.js';

export const nodeStart: Command = {
  name: 'node start',
  summary: 'join (or found) a mycel network and run a node until Ctrl-C',
  description: [
    'Prints the PeerId, Ethereum address and listen addresses, then serves gossip and blobs.',
    'Without --bootstrap the node founds a network; give others its /p2p/ address to join.',
    'Local commands (node peers, blob put/get) reach it through <data-dir>/control.json (127.0.0.1 only).',
    'It logs to <data-dir>/logs/current.log (pino JSON lines; the file rolls over past 10 MiB, 5 old ones kept).',
    'With --detach it runs in the background: its console output to <data-dir>/logs/console.log, pid in',
    '<data-dir>/node.pid; `mycel node status` and `mycel node stop` manage it.',
    'Its dashboard (peers and connections, logs; live) is served on 127.0.0.1 behind the same control token;',
    'the URL it prints carries the token. <that URL>/node (same token) turns a browser tab into a node that',
    'joins this one over WebSockets (--ws-port) and can be reached by other tabs through its relay.',
    'With --swarm-metrics the dashboard also shows a SAPO swarm\'s rounds (reward and accuracy per node).',
    'Example: mycel node start --port 4001 --bootstrap /ip4/10.0.0.2/tcp/4001/p2p/16Uiu2...',
    'Example: mycel node start --detach && mycel node status',
  ].join('\n'),
  flags: {
    ...DATA_DIR_FLAGS,
    config: { type: 'string', value: 'FILE', description: 'Config file (JSON; every key in docs/configuration.md). Default: <data-dir>/config.json' },
    port: { type: 'string', value: 'N', description: 'TCP port (0 = any free port, --port=-1 = no TCP listener). Default 4001' },
    'ws-port': { type: 'string', value: 'N', description: 'WebSockets port (0 = any, --ws-port=-1 = off). Default 4002' },
    host: { type: 'string', value: 'IP', description: 'Interface to listen on. Default 0.0.0.0' },
    bootstrap: { type: 'string', value: 'MULTIADDR', multiple: true, description: 'A peer to join through (repeatable)' },
    key: { type: 'string', value: 'FILE', description: 'secp256k1 key file (0x-hex). Created with mode 0600 if missing' },
    'no-relay-server': { type: 'boolean', description: 'Do not serve as a circuit relay for peers behind NAT (served by default)' },
    detach: { type: 'boolean', description: 'run in the background (log in <data-dir>/logs/current.log); mycel node stop ends it' },
    'via-relay': { type: 'boolean', description: 'Behind NAT: reserve a slot on a connected relay and advertise its /p2p-circuit address' },
    'metrics-port': { type: 'string', value: 'N', description: 'serve Prometheus metrics (peers, gossip, blob traffic, process) on http://127.0.0.1:N/metrics (0 = any free port). Default: off' },
    'dashboard-port': { type: 'string', value: 'N', description: 'The dashboard\'s port on 127.0.0.1 (0 = any free port, --dashboard-port=-1 = none). Default 0' },
    'swarm-metrics': { type: 'string', value: 'PATH', description: 'Show a SAPO swarm\'s rounds on the dashboard: its sapo-metrics.jsonl, or the data dir of mycel swarm start / swarm local (followed as it grows)' },
  },
  async run({ flags, out, signal }) {
    if (flags.detach) {
      const dataDir = dataDirOf(flags);
      // The same command without --detach, as the background process runs it.
      const args = ['node', 'start', ...Object.entries(nodeStart.flags!).flatMap(([name, spec]) => {
        const v = flags[name];
        if (name === 'detach' || v === undefined || v === false) return [];
        if (spec.type === 'boolean') return [`--${name}`];
        return (Array.isArray(v) ? v : [v]).map((x) => `--${name}=${String(x)}`);
      })];
      const pid = await startDetached(dataDir, args, async () => (await callControl<unknown[]>(dataDir, '/peers'), true));
      out.result({ pid, data_dir: dataDir, log: logFile(dataDir), console: consoleFile(dataDir) }, `node running in the background (pid ${pid}); log ${logFile(dataDir)}\nmycel node status, mycel node stop`);
      return;
    }
    const config = await loadConfig({
      dataDir: dataDirOf(flags),
      configFile: flags.config as string | undefined,
      overrides: {
        tcpPort: flags.port === undefined ? undefined : intFlag(flags, 'port', 0, -1, 65535),
        wsPort: flags['ws-port'] === undefined ? undefined : intFlag(flags, 'ws-port', 0, -1, 65535),
        host: flags.host,
        bootstrap: flags.bootstrap,
        keyFile: flags.key,
        relay: flags['no-relay-server'] ? false : undefined,
        relayListen: flags['via-relay'] ? true : undefined,
      },
    });
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    const identity = await loadIdentity(config.keyFile);
    const started = performance.now();
    const node = await MycelNode.start({ ...config, identity });
    if (config.relayListen && config.bootstrap.length > 0) {
      // A node reachable only by relay has nothing to print until its reservation is made (usually < 1 s).
      const deadline = Date.now() + RELAY_ADDRESS_WAIT_MS;
      while (!node.multiaddrs().some(isRelayedAddr) && Date.now() < deadline && !signal.aborted) await new Promise((r) => setTimeout(r, 100));
    }
    const control = await startControl(node, config.dataDir);
    const dashboardPort = intFlag(flags, 'dashboard-port', 0, -1, 65535);
    const observer = new Observer('node');
    const log = await openNodeLog(logDir(config.dataDir), 'node');
    const unlog = observer.subscribe((u) => u.kind === 'log' && log.logger.info({ kind: u.log.kind }, u.log.text));
    observer.attachP2p(node);
    // Browser tabs that joined from this node's page hear its presence on the tabs' topic (their first gossip).
    const tabs = new Set<string>();
    const stopPresence = servePresence(node, 'node', (peer) => {
      if (!tabs.has(peer)) observer.record({ type: 'log', node: 'node', text: `a browser node joined: ${peer}` });
      tabs.add(peer);
    });
    const stopSwarm = flags['swarm-metrics'] === undefined ? undefined : watchSwarmMetrics(observer, await swarmMetricsFile(flags['swarm-metrics'] as string));
    const dashboard = dashboardPort < 0 ? undefined : await serveDashboard(observer, {
      token: control.token,
      port: dashboardPort,
      tokenHint: `The token is the "token" field of ${join(config.dataDir, CONTROL_FILE)}; open this address with ?token=TOKEN.`,
    });
    const metrics = flags['metrics-port'] === undefined ? undefined : await serveMetrics(createNodeMetrics({ name: 'node', p2p: node }).registry, { port: intFlag(flags, 'metrics-port', 0, 0, 65535) });
    const info = {
      peerId: node.peerId.toString(),
      address: node.address,
      multiaddrs: node.multiaddrs().map((a) => (a.includes('/p2p/') ? a : `${a}/p2p/${node.peerId}`)),
      dataDir: config.dataDir,
      control: control.url,
      ...(dashboard ? { dashboard: dashboard.url } : {}),
      log: logFile(config.dataDir),
      ...(metrics ? { metrics: metrics.url } : {}),
      startupMs: Math.round(performance.now() - started),
    };
    out.result(info, [`PeerId   ${info.peerId}`, `Address  ${info.address}`, 'Listening on:', ...info.multiaddrs.map((a) => `  ${a}`), ...(dashboard ? [`Dashboard ${dashboard.url}`] : []), ...(metrics ? [`Metrics  ${metrics.url}`] : []), `Log      ${logFile(config.dataDir)}`].join('\n'));
    log.logger.info({ peerId: info.peerId, address: info.address, multiaddrs: info.multiaddrs }, 'node started');
    observer.record({ type: 'log', node: 'node', text: `started in ${info.startupMs} ms; listening on ${info.multiaddrs.length} addresses` });
    out.log('Running; Ctrl-C to stop.');
    await new Promise<void>((done) => {
      if (signal.aborted) return done();
      signal.addEventListener('abort', () => done(), { once: true });
      process.once('SIGTERM', () => done());
    });
    out.log('Stopping: closing streams and saving transfer state...');
    stopPresence();
    unlog();
    observer.close();
    await dashboard?.close();
    await metrics?.close();
    await control.close();
    await node.stop();
    log.logger.info('node stopped');
    await log.close();
    out.result({ stopped: true }, 'Stopped.');
  },
};
