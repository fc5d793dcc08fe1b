import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidUtf8Error, TextFileReadError, decodeUtf8Strict, firstInvalidUtf8Offset, loadTextFile } from '../../src/data/index.js';

const dir = mkdtempSync(join(tmpdir(), 'mycel-data-'));
const bytes = (...parts: (string | number[])[]) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...new TextEncoder().encode(p)] : p)));

describe('UTF-8 validation', () => {
  it.each([
    ['a lone continuation byte', bytes('ok', [0x80]), 2],
    ['a Latin-1 é', bytes('caf', [0xe9], ' au lait'), 3],
    ['an overlong "/"', bytes('ab', [0xc0, 0xaf]), 2],
    ['an encoded surrogate', bytes('😀', [0xed, 0xa0, 0x80]), 4],
    ['a code point above U+10FFFF', bytes([0xf4, 0x90, 0x80, 0x80]), 0],
    ['a truncated sequence at the end', bytes('中', [0xe4, 0xb8]), 3],
    ['a sequence cut by ASCII', bytes([0xe4, 0x41, 0x41]), 0],
  ])('finds the offset of %s', (_, input, offset) => {
    expect(firstInvalidUtf8Offset(input)).toBe(offset);
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(input)).toThrow();
  });

  it('accepts valid UTF-8, and agrees with TextDecoder on it', () => {
    const text = '\u0000 ascii é 中 😀 \u{10ffff} \uffff';
    expect(firstInvalidUtf8Offset(new TextEncoder().encode(text))).toBe(-1);
    expect(decodeUtf8Strict(new TextEncoder().encode(text))).toBe(text);
  });
});

describe('loadTextFile', () => {
  it('reads a UTF-8 file', async () => {
    const path = join(dir, 'good.txt');
    writeFileSync(path, 'To be, or not to be 🎭\n');
    expect(await loadTextFile(path)).toBe('To be, or not to be 🎭\n');
  });

  it('names the byte offset, the line and the fix for a non-UTF-8 file', async () => {
    const path = join(dir, 'latin1.txt');
    writeFileSync(path, bytes('first line\n', 'caf', [0xe9], '\n'));
    const error = await loadTextFile(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidUtf8Error);
    expect((error as InvalidUtf8Error).offset).toBe(14);
    expect((error as InvalidUtf8Error).shortMessage).toContain('byte offset 14 (line 2)');
    expect((error as InvalidUtf8Error).message).toContain('iconv');
  });

  it('says when the file cannot be read', async () => {
    await expect(loadTextFile(join(dir, 'missing.txt'))).rejects.toThrow(TextFileReadError);
  });
});
