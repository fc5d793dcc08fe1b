/**
 * Debian's Chromium driven by playwright-core for the page tests: a browser, a tab that records console errors and
 * page errors, and screenshots saved under test-artifacts/ (gitignored) for a person to look at.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM_PATH } from '../engines/engines.js';

export const ARTIFACTS = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'test-artifacts');

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH}: run \`bash scripts/install-test-deps.sh\` once`);
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A tab whose console errors and uncaught page errors are collected in `errors`. */
export async function openTab(browser: Browser, viewport = { width: 1400, height: 1000 }): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console.error: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.stack ?? e.message}`));
  return { page, errors };
}

export async function screenshot(page: Page, folder: string, name: string): Promise<string> {
  const path = join(ARTIFACTS, folder, `${name}.png`);
  await mkdir(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage: true });
  return path;
}
