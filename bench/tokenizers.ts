// `npm run bench -- tokenizers [--json] [--file PATH] [--vocab N,N]`: BPE training time, encode and
// decode throughput and compression on a text file (default: ../shared/data/tinyshakespeare.txt),
// beside the character tokenizer on the same text (the anchor).
import { performance } from 'node:perf_hooks';
import { BpeTokenizer, CharTokenizer, loadTextFile } from '../src/data/index.js';
import { makeReporter } from './report.js';

const flag = (args: readonly string[], name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};

const timed = <T>(f: () => T): [T, number] => {
  const start = performance.now();
  const value = f();
  return [value, performance.now() - start];
};

export async function run(args: string[]): Promise<void> {
  const report = makeReporter(args);
  const file = flag(args, '--file') ?? new URL('../../shared/data/tinyshakespeare.txt', import.meta.url).pathname;
  const vocabs = (flag(args, '--vocab') ?? '512,1024,4096').split(',').map(Number);
  const text = await loadTextFile(file);
  const bytes = new TextEncoder().encode(text).length;
  const mb = bytes / 1e6;

  const char = CharTokenizer.fromText(text);
  const [charIds, charEncodeMs] = timed(() => char.encode(text));
  report({ tokenizer: 'char', vocab: char.vocabSize, trainMs: 0, encodeMBps: mb / (charEncodeMs / 1e3), tokens: charIds.length, bytesPerToken: bytes / charIds.length });

  for (const vocabSize of vocabs) {
    const [bpe, trainMs] = timed(() => BpeTokenizer.train(text, { vocabSize }));
    const [ids, encodeMs] = timed(() => bpe.encode(text));
    const [back, decodeMs] = timed(() => bpe.decode(ids));
    report({
      tokenizer: 'bpe',
      vocab: bpe.vocabSize,
      trainMs,
      encodeMBps: mb / (encodeMs / 1e3),
      decodeMBps: mb / (decodeMs / 1e3),
      tokens: ids.length,
      bytesPerToken: bytes / ids.length,
      roundTrip: back === text,
    });
  }
}
