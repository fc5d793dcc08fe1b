/**
 * The chain as a browser node reaches it through the node that served its page: JSON-RPC forwarded to the node's RPC
 * URL, limited to reading the chain and sending transactions the tab signed itself. Everything else is refused:
 * eth_sendTransaction would spend from accounts the RPC node holds unlocked (anvil's), and anvil_* / debug_* change or
 * expose the chain. Requests are size-capped; a batch is checked call by call.
 */
const ALLOWED = new Set([
  'eth_chainId', 'net_version', 'eth_blockNumber', 'eth_getBlockByNumber', 'eth_getBlockByHash', 'eth_call', 'eth_estimateGas',
  'eth_gasPrice', 'eth_maxPriorityFeePerGas', 'eth_feeHistory', 'eth_getBalance', 'eth_getCode', 'eth_getStorageAt',
  'eth_getTransactionCount', 'eth_getTransactionByHash', 'eth_getTransactionReceipt', 'eth_getLogs', 'eth_sendRawTransaction',
]);
export const MAX_RPC_BYTES = 1 << 20;

type Call = { jsonrpc?: string; id?: unknown; method?: unknown };

/** The calls in a request body that may not pass, with what is wrong (empty: forward it). */
export function refusedCalls(body: unknown): string[] {
  const calls: Call[] = Array.isArray(body) ? body : [body as Call];
  if (calls.length === 0 || calls.some((c) => typeof c !== 'object' || c === null)) return ['the body is not a JSON-RPC call or batch'];
  return calls.filter((c) => typeof c.method !== 'string' || !ALLOWED.has(c.method)).map((c) => `${String(c.method)} is not served to browser nodes (they read the chain and send transactions they signed: ${[...ALLOWED].join(', ')})`);
}

/** A JSON-RPC error answer for each call of a refused request, so that the client's error names the reason. */
export function refusal(body: unknown, reasons: string[]): unknown {
  const calls: Call[] = Array.isArray(body) ? body : [body as Call];
  const answers = calls.map((c) => ({ jsonrpc: '2.0', id: (c as Call | null)?.id ?? null, error: { code: -32601, message: reasons.join('; ') } }));
  return Array.isArray(body) ? answers : answers[0];
}

/** Forwards an allowed request to the RPC URL and returns its status and body. */
export async function forward(rpcUrl: string, body: string): Promise<{ status: number; body: string }> {
  const res = await fetch(rpcUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body, signal: AbortSignal.timeout(30_000) });
  return { status: res.status, body: await res.text() };
}
