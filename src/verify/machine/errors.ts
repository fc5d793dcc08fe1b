import { MycelError } from '../../platform/errors.js';

/** The machine cannot execute the next instruction: pc or a load address out of range. */
export class MachineFaultError extends MycelError {
  override name = 'MachineFaultError';
  constructor(pc: number, why: string) {
    super(`Element machine fault at pc ${pc}: ${why}.`, {
      metaMessages: ['Element programs from elementProgram() never fault; check the program and the memory it was run with.'],
    });
  }
}

/** Bytes that are not a canonical program. */
export class ProgramDecodeError extends MycelError {
  override name = 'ProgramDecodeError';
  constructor(at: number, why: string) {
    super(`Cannot decode element program at byte ${at}: ${why}.`);
  }
}

/** A program ran past its step budget without halting. */
export class StepLimitError extends MycelError {
  override name = 'StepLimitError';
  constructor(maxSteps: number) {
    super(`Element program did not halt within ${maxSteps} steps.`, { metaMessages: ['Pass a larger maxSteps to run().'] });
  }
}

/** An op invocation that has no element program (an unknown op or attributes out of range). */
export class ElementProgramError extends MycelError {
  override name = 'ElementProgramError';
  constructor(op: string, why: string) {
    super(`No element program for ${op}: ${why}.`);
  }
}
