/** The element-level machine of the dispute game (docs/architecture.md and docs/verification.md): ISA, state, and one program per primitive. */
export { OPCODE, REGISTER_COUNT, type Instruction, type Memory, type Opcode, type Program } from './isa.js';
export { INSTRUCTION_BYTES, decodeProgram, encodeProgram } from './encoding.js';
export { INDEX_REGISTER, STATE_BYTES, encodeState, initialState, stateHashOf, type MachineState } from './state.js';
export { DEFAULT_MAX_STEPS, run, runTo, step, stepInstruction, type RunResult } from './machine.js';
export { elementEntryOf, elementProgram, programOf, type ElementEntry } from './element-program.js';
export { instructionProof, programRoot } from './program-root.js';
export { ElementProgramError, MachineFaultError, ProgramDecodeError, StepLimitError } from './errors.js';
