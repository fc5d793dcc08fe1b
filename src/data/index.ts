/** Training data: tokenizers, procedural tasks with verifiable answers, and text windows. */
export { PAD_ID, END_ID, FIRST_BYTE_ID, FIRST_LEARNED_ID, type Tokenizer, type TokenizerJson, type CharTokenizerJson, type BpeTokenizerJson } from './tokenizer.js';
export { CharTokenizer } from './char-tokenizer.js';
export { BpeTokenizer } from './bpe-tokenizer.js';
export { MAX_BPE_VOCAB } from './bpe-train.js';
export { tokenizerFromJSON } from './tokenizer-json.js';
export * from './tasks/index.js';
export { taskBatch, taskExamplesForStep, textWindowBatch, textWindowStarts, type TokenBatch, type TaskBatchOptions, type TextBatchOptions } from './batch.js';
export { decodeUtf8Strict, firstInvalidUtf8Offset } from './utf8.js';
export { loadTextFile, loadTextFileBytes } from './text-file.js';
export { DATA_STREAMS } from './streams.js';
export * from './errors.js';
