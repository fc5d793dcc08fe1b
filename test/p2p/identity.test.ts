import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, recoverAddress, sha256 } from 'viem';
import { privateKeyToAccount, publicKeyToAddress } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { KeyFileError } from '../../src/p2p/errors.js';
import { loadIdentity } from '../../src/p2p/identity.js';
import { tempDir } from './helpers.js';

describe('identity: one secp256k1 key is the PeerId and the Ethereum address', () => {
  it('creates the key file with mode 0600 and loads the same identity again', async () => {
    const path = join(await tempDir(), 'keys', 'key.secp256k1');
    const created = await loadIdentity(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const loaded = await loadIdentity(path);
    expect(loaded.peerId.toString()).toBe(created.peerId.toString());
    expect(loaded.address).toBe(created.address);
    expect(created.peerId.type).toBe('secp256k1');
    // The key file is an Ethereum private key: viem derives the same address from it.
    expect(privateKeyToAccount((await readFile(path, 'utf8')).trim() as `0x${string}`).address).toBe(created.address);
  });

  it('a signature made with the libp2p key recovers to the Ethereum address', async () => {
    const { privateKey, address } = await loadIdentity(join(await tempDir(), 'k'));
    const message = new TextEncoder().encode('mycel: checkpoint 42 commits to root 0xabc');
    const der = await privateKey.sign(message); // libp2p signs sha256(message), DER-encoded
    expect(await privateKey.publicKey.verify(message, der)).toBe(true);
    const sig = secp256k1.Signature.fromBytes(der, 'der');
    const hash = sha256(message);
    // DER carries no recovery bit: exactly one of the two candidates is our address.
    const recovered = await Promise.all(
      [0, 1].map((bit) => recoverAddress({ hash, signature: bytesToHex(sig.addRecoveryBit(bit).toBytes('recovered').slice(1)) + (bit ? '1c' : '1b') as `0x${string}` })),
    );
    expect(recovered.filter((a) => a === address)).toHaveLength(1);
    expect(publicKeyToAddress(bytesToHex(secp256k1.Point.fromBytes(privateKey.publicKey.raw).toBytes(false)))).toBe(address);
  });

  it('refuses unreadable, malformed and world-readable key files with a hint', async () => {
    const dir = await tempDir();
    await expect(loadIdentity(join(dir, 'missing'), { create: false })).rejects.toBeInstanceOf(KeyFileError);
    await writeFile(join(dir, 'bad'), 'not a key', { mode: 0o600 });
    await expect(loadIdentity(join(dir, 'bad'))).rejects.toThrow(/32-byte hex/);
    await writeFile(join(dir, 'open'), `0x${'11'.repeat(32)}`, { mode: 0o644 });
    await chmod(join(dir, 'open'), 0o644);
    await expect(loadIdentity(join(dir, 'open'))).rejects.toThrow(/chmod 600/);
    if (process.getuid?.() !== 0) {
      await writeFile(join(dir, 'locked'), `0x${'11'.repeat(32)}`, { mode: 0o000 });
      await expect(loadIdentity(join(dir, 'locked'))).rejects.toThrow(/not readable/);
    }
    const error = await loadIdentity(join(dir, 'bad')).catch((e: KeyFileError) => e);
    expect((error as KeyFileError).metaMessages.length).toBeGreaterThan(0);
  });
});
