/**
 * Debian's Chromium driven by playwright-core for the page tests: a browser, a tab that records console errors and
 * page errors, and screenshots saved under test-artifacts/ (gitignored) for a person to look at.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CHROMIUM_PATH } from '../engines/engines.js';

export const ARTIFACTS = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'test-artifacts');

/** `extraArgs`: more Chromium switches (e.g. V8 flags that take a feature away, to test a fallback). */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH}: run \`bash scripts/install-test-deps.sh\` once`);
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extraArgs],
  });
}

/** A tab whose console errors and uncaught page errors are collected in `errors`. */
export async function openTab(browser: Browser, viewport = { width: 1400, height: 1000 }): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport });
  return { page, errors: watchErrors(page) };
}

/** The page's console errors and uncaught exceptions, collected as they happen (a test expects none). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console.error: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.stack ?? e.message}`));
  return errors;
}

export async function screenshot(page: Page, folder: string, name: string): Promise<string> {
  const path = join(ARTIFACTS, folder, `${name}.png`);
  await mkdir(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * An EIP-1193 wallet in every page of `context`: a real provider object backed by anvil's JSON-RPC. Every request goes
 * to anvil, which signs eth_sendTransaction (and eth_sign) for its unlocked dev account as a wallet signs with its
 * key; the wallet shows pages one account. `sent` lists the `from` of each transaction it was asked to send.
 */
export async function injectWallet(context: BrowserContext, rpcUrl: string, account: string, o: { chainId?: number; switches?: boolean } = {}): Promise<{ sent: string[]; switchedTo: string[] }> {
  const sent: string[] = [];
  const switchedTo: string[] = [];
  // `chainId`: the wallet starts on that chain (it answers eth_chainId with it, and refuses to send) until it is asked
  // to switch to the RPC's chain, which it does if `switches`, else refuses as a person who declines (4001).
  let onChain = o.chainId;
  await context.exposeBinding('__walletRpc', async (_source, body: string) => {
    const { method, params } = JSON.parse(body) as { method: string; params?: unknown[] };
    const answer = (result: unknown) => JSON.stringify({ jsonrpc: '2.0', id: 1, result });
    const refuse = (message: string) => JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code: 4001, message } });
    if (method === 'eth_requestAccounts' || method === 'eth_accounts') return answer([account]);
    if (method === 'wallet_switchEthereumChain') {
      const to = (params![0] as { chainId: string }).chainId;
      switchedTo.push(to);
      if (!o.switches) return refuse('User rejected the request.');
      onChain = undefined;
      return answer(null);
    }
    if (onChain !== undefined && method === 'eth_chainId') return answer(`0x${onChain.toString(16)}`);
    if (onChain !== undefined && method === 'eth_sendTransaction') return refuse(`the wallet is on chain ${onChain}`);
    if (method === 'eth_sendTransaction') sent.push((params![0] as { from: string }).from);
    const res = await fetch(rpcUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: params ?? [] }) });
    return res.text();
  });
  await context.addInitScript(() => {
    const rpc = (window as unknown as { __walletRpc(body: string): Promise<string> }).__walletRpc;
    (window as unknown as { ethereum: unknown }).ethereum = {
      async request({ method, params }: { method: string; params?: unknown[] }) {
        const answer = JSON.parse(await rpc(JSON.stringify({ method, params }))) as { result?: unknown; error?: { code: number; message: string } };
        if (answer.error) throw Object.assign(new Error(answer.error.message), { code: answer.error.code });
        return answer.result;
      },
      on() {},
      removeListener() {},
    };
  });
  return { sent, switchedTo };
}
