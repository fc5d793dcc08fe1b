/**
 * The running node's local control endpoint, so that `mycel node peers` and `mycel blob put/get` can talk
 * to the daemon started by `mycel node start`. HTTP on 127.0.0.1 (never another interface), a random
 * bearer token, and both written to `<dataDir>/control.json` with mode 0600: only the user who owns the
 * data directory can drive the node. Long operations stream NDJSON progress lines, then a result line.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { MycelError } from '../platform/errors.js';
import { CONTROL_FILE } from './constants.js';
import { NodeNotRunningError } from './errors.js';
import type { MycelNode } from './node.js';

const MAX_BODY_BYTES = 64 * 1024;
const BODIES = {
  '/blob/put': z.object({ path: z.string() }).strict(),
  '/blob/get': z.object({ cid: z.string(), out: z.string().optional(), timeoutMs: z.number().int().positive().optional() }).strict(),
};

export type ControlEvent = { progress?: { done: number; total: number }; result?: unknown; error?: { name: string; message: string; hints: string[] } };

export async function startControl(node: MycelNode, dataDir: string): Promise<{ url: string; token: string; close(): Promise<void> }> {
  const token = randomBytes(24).toString('hex');
  const server = createServer((req, res) => void handle(node, token, req, res));
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', () => ok()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const file = join(dataDir, CONTROL_FILE);
  await writeFile(file, JSON.stringify({ url, token, pid: process.pid, peerId: node.peerId.toString() }), { mode: 0o600 });
  return {
    url,
    // The node's dashboard opens with the same token.
    token,
    async close() {
      await rm(file, { force: true });
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

async function handle(node: MycelNode, token: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const send = (event: ControlEvent): void => void res.write(`${JSON.stringify(event)}\n`);
  const auth = Buffer.from(req.headers.authorization ?? '');
  const want = Buffer.from(`Bearer ${token}`);
  if (auth.length !== want.length || !timingSafeEqual(auth, want)) {
    res.writeHead(401).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  try {
    const url = req.url ?? '/';
    if (req.method === 'GET' && url === '/info') send({ result: { peerId: node.peerId.toString(), address: node.address, multiaddrs: node.multiaddrs() } });
    else if (req.method === 'GET' && url === '/peers') send({ result: node.peers() });
    else if (req.method === 'POST' && (url === '/blob/put' || url === '/blob/get')) {
      const body = BODIES[url].parse(JSON.parse(await readBody(req)));
      const onProgress = (done: number, total: number): void => send({ progress: { done, total } });
      if ('path' in body) send({ result: await node.putFile(resolve(body.path), onProgress) });
      else {
        // The caller hung up (Ctrl-C on `mycel blob get`): stop the transfer; its progress is kept for a resume.
        const caller = new AbortController();
        res.once('close', () => !res.writableFinished && caller.abort(new Error('caller went away')));
        const stats = await node.fetch(body.cid, { onProgress, timeoutMs: body.timeoutMs, signal: caller.signal });
        if (body.out) await node.exportBlob(body.cid, resolve(body.out));
        send({ result: { cid: body.cid, out: body.out, ...stats } });
      }
    } else send({ error: { name: 'NotFound', message: `No control route ${req.method} ${url}.`, hints: [] } });
  } catch (error) {
    const e = error as MycelError;
    send({ error: { name: e.name, message: e.shortMessage ?? e.message, hints: e instanceof MycelError ? [...e.metaMessages, ...(e.details ? [e.details] : [])] : [] } });
  }
  res.end();
}

async function readBody(req: IncomingMessage): Promise<string> {
  let size = 0;
  const parts: Buffer[] = [];
  for await (const part of req) {
    size += (part as Buffer).byteLength;
    if (size > MAX_BODY_BYTES) throw new MycelError('Control request too large.');
    parts.push(part as Buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}

export class ControlError extends MycelError {
  override name: string;
  constructor(name: string, message: string, hints: string[]) {
    super(message, { metaMessages: hints });
    this.name = name;
  }
}

/** Calls the running node's control endpoint; `onProgress` sees progress lines; returns the result. */
export async function callControl<T>(dataDir: string, path: string, body?: unknown, onProgress?: (done: number, total: number) => void): Promise<T> {
  let info: { url: string; token: string };
  try {
    info = JSON.parse(await readFile(join(resolve(dataDir), CONTROL_FILE), 'utf8')) as typeof info;
  } catch (error) {
    throw new NodeNotRunningError(resolve(dataDir), error);
  }
  let res: Response;
  try {
    res = await fetch(`${info.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${info.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    // A control file left behind by a node that was killed (kill -9) points at nothing.
    throw new NodeNotRunningError(resolve(dataDir), error);
  }
  if (!res.ok || !res.body) throw new NodeNotRunningError(resolve(dataDir), new Error(`HTTP ${res.status}`));
  let buffered = '';
  const decoder = new TextDecoder();
  for await (const piece of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(piece, { stream: true });
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const event = JSON.parse(buffered.slice(0, nl)) as ControlEvent;
      buffered = buffered.slice(nl + 1);
      if (event.progress) onProgress?.(event.progress.done, event.progress.total);
      if (event.error) throw new ControlError(event.error.name, event.error.message, event.error.hints);
      if ('result' in event) return event.result as T;
    }
  }
  throw new NodeNotRunningError(resolve(dataDir), new Error('the node closed the connection'));
}
