/**
 * Verification: the dispute game from a run commitment down to one float32 instruction
 * (docs/verification.md), its referee, and the strategies that play it from checkpoints.
 */
export * from './machine/index.js';
export * from './game/types.js';
export * from './game/errors.js';
export { type InputSource, type OpStructure, type StepStructure, stepLeafCount } from './game/structure.js';
export { startGame, transition, expectedMove } from './game/transition.js';
export { encodeMove, encodePosition, positionHash } from './game/encoding.js';
export { describeMove, describeRuling, describeWhere } from './game/describe.js';
export { batchCommitment, CHUNK_ELEMENTS } from './game/commitments.js';
export { ruleInstruction, ruleState, refereeWork, type InstructionProof } from './referee.js';
export {
  INPUT_SOURCES, elementEntryOfOp, encodeDescriptor, inputDescriptors, makeOpRule, opProgram, opRuleOf, ruleFrom, ruleHash, ruleMismatch, ruleOpening,
  type InputDescriptor, type OpRule, type RuleOpening,
} from './game/op-rule.js';
export { executeStep, stepStructure, withOpHook, type StepExecution, type OpHook } from './strategy/execute.js';
export { replayParty, forge, type Party, type PartyOptions } from './strategy/party.js';
export { playGame, type GameResult, type PlayedMove } from './strategy/play.js';
export { rulesOf } from './strategy/rules.js';
export * as adversary from './strategy/adversary.js';
export { locateDivergence, sampleSteps, type Divergence } from './strategy/locate.js';
export { catchProbability, stepsForCatch, deterringProbability, anyOfCatch } from './sampling.js';
export { checkSampledSteps, type SampledCheck } from './sampled-check.js';
