/** Neural-network building blocks on the reproducible runtime: modules, losses, optimizers, safetensors. */
export { getParam, joinName, mapParams, parameterCount, prefixed, type Module, type Params } from './params.js';
export { linear, type LinearConfig } from './linear.js';
export { embedding, type EmbeddingConfig } from './embedding.js';
export { layerNorm, type LayerNormConfig } from './layer-norm.js';
export { causalSelfAttention, type AttentionConfig } from './attention.js';
export { mlp, type MlpConfig } from './mlp.js';
export { transformerBlock, type BlockConfig } from './block.js';
export { gpt, GPT_PRESETS, type Gpt, type GptConfig, keepCacheRows, type KvCache } from './gpt.js';
export { mlpClassifier, type MlpClassifierConfig } from './mlp-classifier.js';
export { crossEntropy, mseLoss } from './losses.js';
export { valueAndGrad, type ValueAndGrad } from './grad.js';
export type { OptState, Optimizer } from './optimizer.js';
export { sgd, type SgdConfig } from './sgd.js';
export { adamw, type AdamWConfig } from './adamw.js';
export { clipGradNorm } from './clip.js';
export { warmupCosine, type WarmupCosineConfig } from './schedule.js';
export { saveSafetensors, loadSafetensors, type Metadata } from './safetensors.js';
export * from './errors.js';
