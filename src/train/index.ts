/** Training: job specs, the deterministic program, runs with checkpoints and commitments. */
export * from './spec.js';
export * from './errors.js';
export { buildProgram, INIT_STREAM, type TrainProgram, type StepResult } from './program.js';
export { stateHash, stateDigest, type TrainState } from './state.js';
export { encodeCheckpoint, decodeCheckpoint, CHECKPOINT_FORMAT, type CheckpointInfo } from './checkpoint.js';
export { Store, writeAtomic, type RunRecord } from './store.js';
export { runJob, replayToStep, loadCheckpointState, type RunOptions, type RunResult, type StepReport } from './runner.js';
export { runCommitment } from './commitment.js';
export { merkleRoot, merkleProof, rootFromProof, leafHash, nodeHash, splitOf, type Hash } from './merkle.js';
export { fromHex } from './hex.js';
export { generate, generateIds, generateBatch, SAMPLE_STREAM, type GenerateOptions, type GenerateBatchOptions } from './generate.js';
export { completionLogProbs, type Completion, type CompletionLogProbs } from './logprob.js';
export { evaluateTask, EVAL_SEED_OFFSET, type EvalResult } from './evaluate.js';
export { PRESETS, PRESET_NAMES, type PresetName } from './presets.js';
export { estimateMemory, type MemoryEstimate } from './memory.js';
export { tensorCommitment, commitmentFromChunkRoot, chunkLeaves, CHUNK_ELEMENTS } from './tensor-commitment.js';
export { stateLeaves, stateTensors, tensorLeaf, namedLeaf, headerLeaf } from './state.js';
export { createStateHasher, type StateHasher } from './state-hasher.js';
