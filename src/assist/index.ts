/**
 * The assist SDK: an app describes its state, actions and goal space (defineApp); the assistant believes, decides
 * and acts (createAssistant); episodes are recorded and content-addressed (episode.ts); the networks train on the
 * reproducible runtime (trainAssistant). Pure: no file system, so a page or a worker imports it as it is.
 */
export { defineApp, readGrid, cellXYZ, cellIndex, cellCount, type AppSpec, type AssistAction, type GridInput, type GridShape } from './app.js';
export { createAssistant, type Assistant, type AssistantOptions, type Observation, type StepResult } from './assistant.js';
export { decide, DEFAULT_REWARDS, type Decision, type Rewards } from './act.js';
export { believe, initModel, encodeModel, decodeModel, modelHash, DEFAULT_CONFIG, type AssistModel, type Belief, type ModelConfig } from './model.js';
export { trainAssistant, examplesOf, type TrainOptions, type TrainResult, type Example } from './train.js';
export { EpisodeRecorder, encodeEpisode, decodeEpisode, finalGrid, gridToBase64, gridFromBase64, EPISODE_FORMAT, type Episode, type EpisodeStep } from './episode.js';
export { encodeState, featureCount } from './features.js';
export * from './errors.js';
