/**
 * Blobs on disk under <dataDir>/blobs: `<cid>.data` + `<cid>.manifest` once complete and verified;
 * `<cid>.part` + `<cid>.have` (the indexes of verified chunks) while a transfer is under way, so a
 * transfer interrupted by a crash or Ctrl-C resumes where it stopped. Nothing is named `.data` before
 * every chunk has been verified (write to a temp file, verify, rename): chunks this process verified in memory
 * on arrival and then wrote are trusted; chunks listed in a `.have` file from an earlier run are re-read and
 * re-verified, since the part file may have been damaged meanwhile.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { CID } from 'multiformats/cid';
import type { Uint8ArrayList } from 'uint8arraylist';
import { BLOB_CHUNK_BYTES } from '../constants.js';
import { chunkCount, chunkLength, chunkMatches, decodeManifest, encodeManifest, sha256Bytes, type Manifest } from './manifest.js';

export type Progress = (done: number, total: number) => void;

/**
 * Complete blobs kept open for reading at once. A node serves every blob it ever published or fetched: without a
 * bound it kept a file descriptor per blob for as long as it ran (thousands over weeks, past the process's limit).
 */
export const MAX_OPEN_BLOBS = 64;

/** An open read handle, with the reads in flight on it (an evicted handle is closed once they are done). */
type ReadHandle = { file: Promise<FileHandle>; reads: number; evicted: boolean };

export class BlobStore {
  /** Read handles by CID, least recently used first. */
  private readonly handles = new Map<string, ReadHandle>();

  constructor(readonly dir: string) {}

  private path(cid: CID | string, ext: string): string {
    return join(this.dir, `${cid.toString()}.${ext}`);
  }

  async has(cid: CID): Promise<boolean> {
    return (await stat(this.path(cid, 'data')).catch(() => undefined)) !== undefined;
  }

  async manifestBytes(cid: CID): Promise<Uint8Array | undefined> {
    return readFile(this.path(cid, 'manifest')).catch(() => undefined);
  }

  /** Reads one chunk of a complete blob (undefined if we do not hold it). */
  async readChunk(cid: CID, manifest: Manifest, index: number): Promise<Uint8Array | undefined> {
    // One open handle per recently read blob (no stat per chunk); a blob we do not hold fails to open and is not cached.
    const key = cid.toString();
    let handle = this.handles.get(key);
    if (handle) this.handles.delete(key); // re-inserted below as the most recently used
    else handle = { file: open(this.path(cid, 'data'), 'r'), reads: 0, evicted: false };
    this.handles.set(key, handle);
    this.evictOver(MAX_OPEN_BLOBS);
    handle.reads++;
    try {
      let fh: FileHandle;
      try {
        fh = await handle.file;
      } catch {
        if (this.handles.get(key) === handle) this.handles.delete(key);
        return undefined;
      }
      const length = chunkLength(manifest, index);
      const buffer = Buffer.allocUnsafe(length);
      const { bytesRead } = await fh.read(buffer, 0, length, index * manifest.chunkSize);
      return bytesRead === length ? buffer : undefined;
    } finally {
      handle.reads--;
      if (handle.evicted && handle.reads === 0) void closeHandle(handle);
    }
  }

  /** Read handles open now (for tests and metrics). */
  get openHandles(): number {
    return this.handles.size;
  }

  /** Closes the least recently used read handles beyond `max` (each once its reads in flight are done). */
  private evictOver(max: number): void {
    for (const [key, handle] of this.handles) {
      if (this.handles.size <= max) break;
      this.handles.delete(key);
      handle.evicted = true;
      if (handle.reads === 0) void closeHandle(handle);
    }
  }

  /** Imports a local file: hashes it chunk by chunk while copying it into the store. */
  async importFile(file: string, onProgress?: Progress): Promise<{ cid: CID; manifest: Manifest }> {
    await mkdir(this.dir, { recursive: true });
    const { size } = await stat(file);
    const tmp = join(this.dir, `import-${process.pid}-${Date.now()}.tmp`);
    const out = await open(tmp, 'w');
    const hashes = new Uint8Array(Math.ceil(size / BLOB_CHUNK_BYTES) * 32);
    try {
      let index = 0;
      let pending: Buffer = Buffer.alloc(0);
      const flush = async (chunk: Buffer): Promise<void> => {
        hashes.set(sha256Bytes(chunk), index * 32);
        await out.write(chunk, 0, chunk.byteLength, index * BLOB_CHUNK_BYTES);
        index++;
        onProgress?.(Math.min(size, index * BLOB_CHUNK_BYTES), size);
      };
      for await (const piece of createReadStream(file, { highWaterMark: BLOB_CHUNK_BYTES })) {
        pending = pending.byteLength ? Buffer.concat([pending, piece as Buffer]) : (piece as Buffer);
        while (pending.byteLength >= BLOB_CHUNK_BYTES) {
          await flush(pending.subarray(0, BLOB_CHUNK_BYTES));
          pending = pending.subarray(BLOB_CHUNK_BYTES);
        }
      }
      if (pending.byteLength) await flush(pending);
    } finally {
      await out.close();
    }
    const manifest = { size, chunkSize: BLOB_CHUNK_BYTES, hashes };
    const { bytes, cid } = encodeManifest(manifest);
    await writeFile(this.path(cid, 'manifest'), bytes);
    await rename(tmp, this.path(cid, 'data'));
    return { cid, manifest };
  }

  async manifest(cid: CID): Promise<Manifest | undefined> {
    const bytes = await this.manifestBytes(cid);
    return bytes && decodeManifest(cid, bytes);
  }

  /** Opens (or resumes) a partial transfer. */
  async beginPartial(cid: CID, manifestBytes: Uint8Array, manifest: Manifest): Promise<PartialBlob> {
    await mkdir(this.dir, { recursive: true });
    const have = new Set<number>();
    const saved = await readFile(this.path(cid, 'have'), 'utf8').catch(() => undefined);
    const partExists = (await stat(this.path(cid, 'part')).catch(() => undefined)) !== undefined;
    if (saved && partExists) {
      for (const i of JSON.parse(saved) as number[]) if (Number.isInteger(i) && i >= 0 && i < chunkCount(manifest)) have.add(i);
    }
    const handle = await open(this.path(cid, 'part'), partExists ? 'r+' : 'w+');
    return new PartialBlob(this, cid, manifestBytes, manifest, handle, have);
  }

  /** Deletes a blob (complete or partial) and closes its cached handle. */
  async remove(cid: CID): Promise<void> {
    const key = cid.toString();
    const handle = this.handles.get(key);
    this.handles.delete(key);
    if (handle) await closeHandle(handle);
    const paths = this.paths(cid);
    await Promise.all(Object.values(paths).map((p) => rm(p, { force: true })));
  }

  /** @internal used by PartialBlob */
  paths(cid: CID): { data: string; manifest: string; part: string; have: string } {
    return { data: this.path(cid, 'data'), manifest: this.path(cid, 'manifest'), part: this.path(cid, 'part'), have: this.path(cid, 'have') };
  }

  async close(): Promise<void> {
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(handles.map(closeHandle));
  }
}

/** A transfer in progress: writes verified chunks at their offsets and records which ones it has. */
export class PartialBlob {
  private dirty = false;
  private closed = false;
  /** Chunks verified in memory by this process before they were written (not re-read by complete()). */
  private readonly verifiedHere = new Set<number>();

  constructor(
    private readonly store: BlobStore,
    readonly cid: CID,
    private readonly manifestBytes: Uint8Array,
    readonly manifest: Manifest,
    private readonly handle: FileHandle,
    readonly have: Set<number>,
  ) {}

  missing(): number[] {
    const out: number[] = [];
    for (let i = 0; i < chunkCount(this.manifest); i++) if (!this.have.has(i)) out.push(i);
    return out;
  }

  bytesHave(): number {
    let n = 0;
    for (const i of this.have) n += chunkLength(this.manifest, i);
    return n;
  }

  /** Writes a chunk that has already been verified against the manifest. */
  async write(index: number, data: Uint8Array | Uint8ArrayList): Promise<void> {
    const position = index * this.manifest.chunkSize;
    if (data instanceof Uint8Array) await this.handle.write(data, 0, data.byteLength, position);
    else {
      // The frames as they arrived, in one writev (pwritev): no copy into a single buffer.
      const pieces = [...data];
      let written = 0;
      while (written < data.byteLength) {
        const { bytesWritten } = await this.handle.writev(written === 0 ? pieces : [data.subarray(written)], position + written);
        if (bytesWritten <= 0) throw new Error('short write to the part file');
        written += bytesWritten;
      }
    }
    this.have.add(index);
    this.verifiedHere.add(index);
    this.dirty = true;
  }

  /** Persists the list of chunks we have (called periodically and on shutdown), so a restart resumes. */
  async flush(): Promise<void> {
    if (!this.dirty || this.closed) return;
    this.dirty = false;
    await this.handle.sync();
    await writeFile(this.store.paths(this.cid).have, JSON.stringify([...this.have]));
  }

  /**
   * Re-reads and re-verifies every chunk this process did not verify itself (those resumed from an earlier
   * run's `.have` list), then renames the part file into place. Returns false (and forgets the bad chunks) if
   * anything does not match, e.g. a part file damaged on disk.
   */
  async complete(): Promise<boolean> {
    const { manifest } = this;
    for (let i = 0; i < chunkCount(manifest); i++) {
      if (this.verifiedHere.has(i)) continue;
      const buffer = Buffer.allocUnsafe(chunkLength(manifest, i));
      await this.handle.read(buffer, 0, buffer.byteLength, i * manifest.chunkSize);
      if (!chunkMatches(manifest, i, buffer)) this.have.delete(i);
    }
    if (this.have.size !== chunkCount(manifest)) {
      this.dirty = true;
      await this.flush();
      return false;
    }
    this.dirty = false;
    this.closed = true;
    try {
      await this.handle.truncate(manifest.size);
    } finally {
      await this.handle.close(); // closed even if the truncate failed: close() does nothing once `closed` is set
    }
    const paths = this.store.paths(this.cid);
    await writeFile(paths.manifest, this.manifestBytes);
    await rename(paths.part, paths.data);
    await rm(paths.have, { force: true });
    return true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush().catch(() => undefined);
    this.closed = true;
    await this.handle.close().catch(() => undefined);
  }
}

async function closeHandle(handle: ReadHandle): Promise<void> {
  await (await handle.file.catch(() => undefined))?.close().catch(() => undefined);
}
