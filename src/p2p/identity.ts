/**
 * One secp256k1 key is both the node's libp2p identity (PeerId) and its Ethereum address, so the chain can
 * tell which peer did what. The key file holds the 32-byte private key as 0x-hex (the same form an Ethereum
 * wallet exports), created with mode 0600.
 */
import { readFile, writeFile, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { privateKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { PeerId, PrivateKey, PublicKey } from '@libp2p/interface';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, type Address } from 'viem';
import { publicKeyToAddress } from 'viem/accounts';
import { KeyFileError } from './errors.js';

export type Identity = { privateKey: PrivateKey; peerId: PeerId; address: Address };

const KEY_HEX = /^(0x)?[0-9a-fA-F]{64}$/;

/** The Ethereum address of a libp2p secp256k1 public key (keccak of the uncompressed point). */
export function ethereumAddressOf(publicKey: PublicKey): Address {
  if (publicKey.type !== 'secp256k1') throw new TypeError(`an Ethereum address needs a secp256k1 key, got ${publicKey.type}`);
  const uncompressed = secp256k1.Point.fromBytes(publicKey.raw).toBytes(false);
  return publicKeyToAddress(bytesToHex(uncompressed));
}

export function identityFromRaw(raw: Uint8Array): Identity {
  const privateKey = privateKeyFromRaw(raw);
  if (privateKey.type !== 'secp256k1') throw new TypeError('expected a 32-byte secp256k1 key');
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey), address: ethereumAddressOf(privateKey.publicKey) };
}

/** Reads the key file, or creates it (0600, never overwriting) when it does not exist and `create` is set. */
export async function loadIdentity(path: string, { create = true } = {}): Promise<Identity> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && create) return createIdentity(path);
    throw new KeyFileError(path, code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'it is not readable' : String(code ?? error), error);
  }
  const hex = text.trim();
  if (!KEY_HEX.test(hex)) throw new KeyFileError(path, 'it does not hold a 32-byte hex secp256k1 private key');
  const raw = Uint8Array.from(Buffer.from(hex.replace(/^0x/, ''), 'hex'));
  if (!secp256k1.utils.isValidSecretKey(raw)) throw new KeyFileError(path, 'the key is outside the secp256k1 range');
  const mode = (await stat(path)).mode & 0o077;
  if (mode !== 0 && process.platform !== 'win32') {
    throw new KeyFileError(path, `it is readable by other users (mode ${((await stat(path)).mode & 0o777).toString(8)}); run chmod 600 on it`);
  }
  return identityFromRaw(raw);
}

async function createIdentity(path: string): Promise<Identity> {
  let raw: Uint8Array;
  do raw = Uint8Array.from(randomBytes(32));
  while (!secp256k1.utils.isValidSecretKey(raw));
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    // 'wx': fail rather than overwrite a key that appeared meanwhile; losing a key loses an on-chain identity.
    await writeFile(path, `0x${Buffer.from(raw).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadIdentity(path, { create: false });
    throw new KeyFileError(path, 'it could not be created', error);
  }
  return identityFromRaw(raw);
}
