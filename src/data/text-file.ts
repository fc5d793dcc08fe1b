/**
 * The one place src/data/ touches the file system; everything else takes strings or bytes. node:fs
 * is imported on first use so that importing src/data/ stays safe in a browser.
 */
import { TextFileReadError } from './errors.js';
import { decodeUtf8Strict } from './utf8.js';

/** Reads a UTF-8 text file; throws InvalidUtf8Error (with the byte offset) when it is not UTF-8. */
export async function loadTextFile(path: string): Promise<string> {
  return (await loadTextFileBytes(path)).text;
}

/** The text and the exact bytes it was decoded from (a job spec pins the bytes' hash). */
export async function loadTextFileBytes(path: string): Promise<{ text: string; bytes: Uint8Array }> {
  const { readFile } = await import('node:fs/promises');
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new TextFileReadError({ path, cause });
  }
  return { text: decodeUtf8Strict(bytes, path), bytes };
}
