/**
 * The tab's key: a secp256k1 private key kept in IndexedDB (this origin only), created on first visit. The person can
 * export it (hex, the same form as a node's key file) and import one, e.g. to move their node's identity and account
 * to another browser.
 */
import { privateKeyToAccount } from 'viem/accounts';

const DB = 'mycel';
const STORE = 'keys';
const ID = 'node';

function open(): Promise<IDBDatabase> {
  return new Promise((ok, fail) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => ok(req.result);
    req.onerror = () => fail(req.error);
  });
}

async function tx<T>(mode: IDBTransactionMode, run: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((ok, fail) => {
      const req = run(db.transaction(STORE, mode).objectStore(STORE));
      req.onsuccess = () => ok(req.result);
      req.onerror = () => fail(req.error);
    });
  } finally {
    db.close();
  }
}

export const toHex = (b: Uint8Array) => `0x${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`;

export class KeyImportError extends Error {
  constructor(why: string) {
    super(`That is not a key this page can use: ${why}. Paste the 0x-prefixed hex of a secp256k1 private key (64 hex digits), as exported here or as in a node's key file.`);
  }
}

/** Parses an exported key; throws KeyImportError naming what is wrong. */
export function parseKey(text: string): Uint8Array {
  const hex = text.trim().replace(/^0x/i, '');
  if (!/^[0-9a-f]*$/i.test(hex)) throw new KeyImportError('it has characters that are not hex digits');
  if (hex.length !== 64) throw new KeyImportError(`it has ${hex.length} hex digits, not 64`);
  const bytes = Uint8Array.from(hex.match(/../g)!, (b) => parseInt(b, 16));
  try {
    privateKeyToAccount(toHex(bytes) as `0x${string}`);
  } catch {
    throw new KeyImportError('it is outside the secp256k1 range');
  }
  return bytes;
}

/** The stored key, or a new one (stored before it is returned). */
export async function loadOrCreateKey(): Promise<{ key: Uint8Array; created: boolean }> {
  const stored = await tx<Uint8Array | undefined>('readonly', (s) => s.get(ID) as IDBRequest<Uint8Array | undefined>);
  if (stored) return { key: new Uint8Array(stored), created: false };
  let key: Uint8Array;
  // A random 32-byte string is a valid secp256k1 key but for a negligible chance; parseKey checks it anyway.
  do key = crypto.getRandomValues(new Uint8Array(32));
  while (!validKey(key));
  await saveKey(key);
  return { key, created: true };
}

export async function saveKey(key: Uint8Array): Promise<void> {
  await tx('readwrite', (s) => s.put(key, ID));
}

function validKey(key: Uint8Array): boolean {
  try {
    parseKey(toHex(key));
    return true;
  } catch {
    return false;
  }
}

export const addressOf = (key: Uint8Array) => privateKeyToAccount(toHex(key) as `0x${string}`).address;
