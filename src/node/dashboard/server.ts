/**
 * The node's dashboard over HTTP on 127.0.0.1: the pages (bundled by scripts/build-web.mjs into dist/pages), the
 * node's state as JSON (/api/state and one endpoint per part), and the same state live as Server-Sent Events
 * (/api/events). Everything is behind the node's control token: the URL the node prints carries it once
 * (?token=…), which sets an HttpOnly same-site cookie and redirects to the bare URL; scripts may send it as a bearer
 * token instead. A wrong or missing token gets a 401 and a page (or JSON) that says where to find the right one.
 */
import { timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MycelError } from '../../platform/errors.js';
import type { Observer, ObserverUpdate } from './observer.js';
import { forward, MAX_RPC_BYTES, refusal, refusedCalls } from './rpc-proxy.js';
import { STATE_PARTS } from './state.js';

/** dist/pages of this checkout, from src/node/dashboard (tsx) as from dist/node/dashboard (built). */
export const PAGES_DIR = fileURLToPath(new URL('../../../dist/pages/', import.meta.url));
const COOKIE = 'mycel_token';
/** A comment line on idle event streams, so that proxies and the browser keep them open. */
const HEARTBEAT_MS = 15_000;

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json', '.wasm': 'application/wasm' };
/**
 * Every response: no caching (a page from an older build must not talk to a newer node), and cross-origin isolation
 * (COOP/COEP), which a page that runs the runtime on several threads needs for SharedArrayBuffer.
 */
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
const BASE_HEADERS = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };
const HEADERS = { ...BASE_HEADERS, ...ISOLATION };

export type DashboardServer = {
  /** The URL to open, with the token; `origin` without it. */
  url: string;
  origin: string;
  /** Serves a chain to browser nodes from now on (or no longer, with undefined): see {@link ServedChain}. */
  setChain(chain: ServedChain | undefined): void;
  close(): Promise<void>;
};

/**
 * The chain a browser node works on through this server: /api/served-chain names it and its contracts, POST /rpc forwards
 * the tab's JSON-RPC (reads and its own signed transactions, rpc-proxy.ts) and /api/spec/HASH gives a job's spec by
 * its keccak256 (the tab checks the hash against the chain before it uses it).
 */
export type ServedChain = {
  rpcUrl: string;
  chainId: number;
  contracts: { token: string; registry: string; market: string; disputeGame: string };
  /** Blocks on top of an event before a tab acts on it, as this chain's Node roles wait (default 0: a dev chain). */
  confirmations?: number;
  spec(hash: string): Promise<Uint8Array | undefined>;
};

/**
 * A SAPO swarm a browser tab may take a round in: /api/served-swarm gives its config and clock and the state hash of
 * the starting policy, /api/swarm-policy that policy's checkpoint (the tab checks it against the hash).
 */
export type ServedSwarm = {
  config: unknown;
  genesisMs: number;
  roundMs: number;
  policy: { hash: string; bytes: Uint8Array };
};

export type DashboardServerOptions = {
  token: string;
  /** 0 (the default): any free port. */
  port?: number;
  /** What the 401 page tells a person about where the token is (e.g. the control file's path). */
  tokenHint: string;
  pagesDir?: string;
  /** A job the browser node page offers to run (GET /api/job), with a name to show. */
  job?: { name: string; spec: unknown };
  chain?: ServedChain;
  swarm?: ServedSwarm;
  /**
   * Serve the COOP/COEP headers (default true). False serves pages as a host that does not set them would (behind
   * some proxies, or embedded): the browser node then has no SharedArrayBuffer and says so (tests use it).
   */
  crossOriginIsolated?: boolean;
};

export class DashboardPortError extends MycelError {
  override name = 'DashboardPortError';
  constructor(port: number, cause: unknown) {
    super(`The dashboard cannot listen on 127.0.0.1:${port}: ${(cause as Error).message}.`, { metaMessages: ['Pass --dashboard-port 0 for any free port, or another port.'], cause });
  }
}

export async function serveDashboard(observer: Observer, o: DashboardServerOptions): Promise<DashboardServer> {
  const pagesDir = o.pagesDir ?? PAGES_DIR;
  let chain = o.chain;
  // Shadows the module's: what this server sends with its pages, events and answers.
  const HEADERS = o.crossOriginIsolated === false ? BASE_HEADERS : { ...BASE_HEADERS, ...ISOLATION };
  const streams = new Set<ServerResponse>();
  const server = createServer((req, res) => void handle(req, res).catch((error) => {
    if (!res.headersSent) res.writeHead(500, { ...HEADERS, 'Content-Type': 'text/plain' });
    res.end(`dashboard error: ${(error as Error).message}`);
  }));
  const port = o.port ?? 0;
  await new Promise<void>((ok, fail) => server.once('error', (e) => fail(new DashboardPortError(port, e))).listen(port, '127.0.0.1', () => ok()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const heartbeat = setInterval(() => streams.forEach((s) => s.write(': alive\n\n')), HEARTBEAT_MS);
  heartbeat.unref();

  const authorized = (req: IncomingMessage, url: URL): boolean => {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const cookie = /(?:^|;\s*)mycel_token=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    return [bearer, cookie, url.searchParams.get('token') ?? undefined].some((t) => t !== undefined && same(t, o.token));
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname === '/favicon.ico') return void res.writeHead(204, HEADERS).end();
    if (!authorized(req, url)) return unauthorized(req, res, url, o.tokenHint);
    if (url.searchParams.has('token')) {
      // The token leaves the address bar (and the history) at once; the cookie carries it from here on.
      url.searchParams.delete('token');
      res.writeHead(303, { ...HEADERS, 'Set-Cookie': `${COOKIE}=${o.token}; HttpOnly; SameSite=Strict; Path=/`, Location: `${url.pathname}${url.search}` });
      return void res.end();
    }
    if (url.pathname === '/rpc') return rpc(req, res);
    if (req.method !== 'GET') return void res.writeHead(405, { ...HEADERS, Allow: 'GET' }).end();
    // Not /api/chain: that is the observer's view of the chain (block, liveness), a part of the dashboard's state.
    if (url.pathname === '/api/served-chain') return chain ? json(res, { chainId: chain.chainId, contracts: chain.contracts, rpc: '/rpc', confirmations: chain.confirmations ?? 0 }) : void res.writeHead(204, HEADERS).end();
    if (url.pathname === '/api/served-swarm') {
      return o.swarm ? json(res, { config: o.swarm.config, genesisMs: o.swarm.genesisMs, roundMs: o.swarm.roundMs, policy: o.swarm.policy.hash }) : void res.writeHead(204, HEADERS).end();
    }
    if (url.pathname === '/api/swarm-policy') {
      if (!o.swarm) return json(res, { error: 'This node serves no swarm.', hints: ['Start the node with a swarm to let browser tabs take rounds in it.'] }, 404);
      return void res.writeHead(200, { ...HEADERS, 'Content-Type': 'application/octet-stream' }).end(o.swarm.policy.bytes);
    }
    const specHash = /^\/api\/spec\/(0x[0-9a-fA-F]{64})$/.exec(url.pathname)?.[1];
    if (specHash !== undefined) {
      const bytes = chain ? await chain.spec(specHash) : undefined;
      if (!chain) return noChain(res);
      if (!bytes) return json(res, { error: `This node has no spec with hash ${specHash}.`, hints: ['Only the specs of jobs this node posted or knows are served here.'] }, 404);
      return void res.writeHead(200, { ...HEADERS, 'Content-Type': 'application/json' }).end(bytes);
    }
    if (url.pathname === '/api/events') return events(res);
    if (url.pathname === '/api/state') return json(res, observer.snapshot());
    // 204 when there is none: the node page asks for both on every load, and a 404 is a console error in a browser.
    if (url.pathname === '/api/job') return o.job ? json(res, o.job) : void res.writeHead(204, HEADERS).end();
    const part = /^\/api\/([a-z]+)$/.exec(url.pathname)?.[1];
    if (part !== undefined) {
      if (!(STATE_PARTS as readonly string[]).includes(part)) return json(res, { error: `No endpoint /api/${part}.`, hints: [`Endpoints: /api/state, /api/events, ${STATE_PARTS.map((p) => `/api/${p}`).join(', ')}`] }, 404);
      return json(res, observer.snapshot()[part as (typeof STATE_PARTS)[number]]);
    }
    return page(res, url.pathname === '/' ? 'dashboard.html' : url.pathname === '/node' ? 'node.html' : url.pathname.slice(1));
  }

  async function rpc(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return void res.writeHead(405, { ...HEADERS, Allow: 'POST' }).end();
    if (!chain) return noChain(res);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > MAX_RPC_BYTES) return json(res, { error: `A JSON-RPC request over ${MAX_RPC_BYTES} bytes is refused.` }, 413);
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return json(res, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'The request is not JSON.' } }, 400);
    }
    const refused = refusedCalls(body);
    if (refused.length) return json(res, refusal(body, refused));
    const answer = await forward(chain.rpcUrl, text).catch((error: Error) => ({ status: 502, body: JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32603, message: `The node's chain does not answer: ${error.message}` } }) }));
    res.writeHead(answer.status, { ...HEADERS, 'Content-Type': 'application/json' }).end(answer.body);
  }

  function events(res: ServerResponse): void {
    res.writeHead(200, { ...HEADERS, 'Content-Type': 'text/event-stream', Connection: 'keep-alive' });
    // The browser waits this long before it reconnects to a node that went away.
    res.write('retry: 1000\n\n');
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    send('snapshot', observer.snapshot());
    const off = observer.subscribe((u: ObserverUpdate) => (u.kind === 'state' ? send('state', u.state) : send('log', u.log)));
    streams.add(res);
    res.once('close', () => {
      off();
      streams.delete(res);
    });
  }

  async function page(res: ServerResponse, name: string): Promise<void> {
    const file = normalize(join(pagesDir, name));
    if (!file.startsWith(pagesDir) || !(extname(file) in TYPES)) return void res.writeHead(404, { ...HEADERS, 'Content-Type': 'text/plain' }).end(`No page ${name}.`);
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      const hint = name === 'dashboard.html' ? ' The pages are not built: run `npm run build`.' : '';
      return void res.writeHead(404, { ...HEADERS, 'Content-Type': 'text/plain' }).end(`No page ${name}.${hint}`);
    }
    res.writeHead(200, { ...HEADERS, 'Content-Type': TYPES[extname(file)] }).end(body);
  }

  return {
    url: `${origin}/?token=${o.token}`,
    origin,
    setChain(c) {
      chain = c;
    },
    async close() {
      clearInterval(heartbeat);
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

function same(a: string, b: string): boolean {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
}

function noChain(res: ServerResponse): void {
  json(res, { error: 'This node serves no chain to browser nodes.', hints: ['The devnet does (npm start); a node started with mycel node start has no chain.'] }, 404);
}

function json(res: ServerResponse, value: unknown, status = 200): void {
  res.writeHead(status, { ...HEADERS, 'Content-Type': 'application/json' }).end(JSON.stringify(value));
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function unauthorized(req: IncomingMessage, res: ServerResponse, url: URL, hint: string): void {
  const message = url.searchParams.has('token') ? 'This is not the node\'s control token.' : 'This dashboard needs the node\'s control token.';
  if (url.pathname.startsWith('/api/') || !(req.headers.accept ?? '').includes('text/html')) {
    return json(res, { error: message, hints: ['Send it as "Authorization: Bearer TOKEN", or open the dashboard URL the node printed.', hint] }, 401);
  }
  res.writeHead(401, { ...HEADERS, 'Content-Type': 'text/html; charset=utf-8' }).end(`<!doctype html>
<html lang="en"><meta charset="utf-8"><title>mycel: control token needed</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#1d2733}h1{font-size:1.5em}code{background:#eef1f4;padding:.1em .3em;border-radius:3px}</style>
<h1>401: ${escape(message)}</h1>
<p>A node's dashboard shows its jobs, accounts and logs, so it opens only with the node's control token.</p>
<p>What to do:</p>
<ol>
<li>Open the dashboard URL that the node printed when it started (it ends in <code>?token=…</code>).</li>
<li>${escape(hint)}</li>
<li>A node that restarted has a new token: take the URL it printed this time.</li>
</ol>
</html>`);
}
