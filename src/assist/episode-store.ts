/**
 * Episodes on disk, content-addressed: <dir>/<sha256>.json. Node only (not exported from assist/index.ts, which
 * pages import). Loading checks every file against its name and its own replay (decodeEpisode): a corrupted file is
 * skipped and reported, never loaded, and the others load.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeEpisode, encodeEpisode, type Episode } from './episode.js';

const NAME = /^([0-9a-f]{64})\.json$/;

/** Writes the episode under its hash (atomically: a temporary file, then a rename) and returns the hash. */
export async function saveEpisode(dir: string, episode: Episode): Promise<string> {
  const { id, bytes } = encodeEpisode(episode);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${id}.${process.pid}.tmp`);
  await writeFile(tmp, bytes);
  await rename(tmp, join(dir, `${id}.json`));
  return id;
}

export type LoadedEpisodes = { episodes: { id: string; episode: Episode }[]; skipped: { id: string; reason: string }[] };

/** Every episode in `dir` (none if it does not exist), in name order; corrupt ones in `skipped` with the reason. */
export async function loadEpisodes(dir: string): Promise<LoadedEpisodes> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { episodes: [], skipped: [] };
    throw e;
  }
  const out: LoadedEpisodes = { episodes: [], skipped: [] };
  for (const name of names) {
    const id = NAME.exec(name)?.[1];
    if (!id) continue;
    try {
      out.episodes.push({ id, episode: decodeEpisode(id, new Uint8Array(await readFile(join(dir, name)))) });
    } catch (e) {
      out.skipped.push({ id, reason: (e as Error & { shortMessage?: string }).shortMessage ?? (e as Error).message });
    }
  }
  return out;
}
