/** Rebuilds a tokenizer from its toJSON() form (as a checkpoint stores it). */
import { BpeTokenizer } from './bpe-tokenizer.js';
import { CharTokenizer } from './char-tokenizer.js';
import { TokenizerFormatError } from './errors.js';
import type { Tokenizer, TokenizerJson } from './tokenizer.js';

export function tokenizerFromJSON(json: unknown): Tokenizer {
  if (typeof json !== 'object' || json === null) throw new TokenizerFormatError('expected an object');
  const { kind, version } = json as Partial<TokenizerJson>;
  if (version !== 1) throw new TokenizerFormatError(`unsupported version ${JSON.stringify(version)} (this build reads version 1)`);
  if (kind === 'char') return CharTokenizer.fromJSON(json as TokenizerJson & { kind: 'char' });
  if (kind === 'bpe') return BpeTokenizer.fromJSON(json as TokenizerJson & { kind: 'bpe' });
  throw new TokenizerFormatError(`unknown kind ${JSON.stringify(kind)} (expected "char" or "bpe")`);
}
