import { describe, expect, it } from 'vitest';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from 'viem';
import { publicKeyToAddress } from 'viem/accounts';
import { blobCid, DatasetError, packDataset, unpackDataset } from '../../src/assist/dataset.js';
import { encodeEpisode } from '../../src/assist/index.js';
import { housesOf } from '../../src/assist/blocks/houses.js';
import { playSession } from '../../src/assist/blocks/session.js';
import { PEOPLE } from '../../src/assist/blocks/users.js';

const key = new Uint8Array(32).fill(7);
const other = new Uint8Array(32).fill(9);
const episodes = housesOf('test').slice(0, 3).map((house, i) => playSession({ house, person: PEOPLE[0], seed: i, horizon: 10 }).episode);

describe('the dataset blob', () => {
  it('round-trips: the same episodes, signed by the person', () => {
    const { cid, bytes, signer, ids } = packDataset(episodes, key);
    expect(signer).toBe(publicKeyToAddress(bytesToHex(secp256k1.getPublicKey(key, false))));
    expect(ids).toEqual(episodes.map((e) => encodeEpisode(e).id).sort());
    const back = unpackDataset(cid, bytes);
    expect(back.signer).toBe(signer);
    expect(back.episodes.map((e) => e.id)).toEqual(ids);
    const byId = new Map(back.episodes.map((e) => [e.id, e.episode]));
    for (const e of episodes) expect(byId.get(encodeEpisode(e).id)).toEqual(e);
    // Content-addressed: the same episodes in another order give the same blob.
    expect(packDataset([...episodes].reverse(), key).cid).toBe(cid);
  });

  it('refuses bytes that do not match the CID', () => {
    const { cid, bytes } = packDataset(episodes, key);
    const bad = bytes.slice();
    bad[bad.length - 3] ^= 1;
    expect(() => unpackDataset(cid, bad)).toThrow(DatasetError);
    expect(() => unpackDataset(cid, bad)).toThrow('not ' + cid);
  });

  it('refuses a blob whose signature is not over its episodes, or whose signer is someone else', () => {
    const { bytes } = packDataset(episodes, key);
    const stored = JSON.parse(new TextDecoder().decode(bytes));
    // An episode dropped after signing: a new CID, but the signature no longer covers the ids.
    const dropped = new TextEncoder().encode(JSON.stringify({ ...stored, episodes: stored.episodes.slice(1) }));
    expect(() => unpackDataset(blobCid(dropped), dropped)).toThrow("signature is not its public key's");
    // Someone else's valid signature, claimed under the person's address.
    const theirs = JSON.parse(new TextDecoder().decode(packDataset(episodes, other).bytes));
    const claimed = new TextEncoder().encode(JSON.stringify({ ...theirs, signer: stored.signer }));
    expect(() => unpackDataset(blobCid(claimed), claimed)).toThrow('is not the address of its public key');
  });

  it('refuses an episode inside that does not match its id', () => {
    const { bytes } = packDataset(episodes, key);
    const stored = JSON.parse(new TextDecoder().decode(bytes));
    const ep = JSON.parse(Buffer.from(stored.episodes[0].bytes, 'base64').toString());
    ep.person = 'mallory';
    stored.episodes[0].bytes = Buffer.from(JSON.stringify(ep)).toString('base64');
    const forged = new TextEncoder().encode(JSON.stringify(stored));
    expect(() => unpackDataset(blobCid(forged), forged)).toThrow('is corrupt: its bytes hash to');
  });
});
