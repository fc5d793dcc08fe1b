/** Why a move was rejected (the position is unchanged) or a game could not start. */
import { MycelError } from '../../platform/errors.js';

export class MalformedMoveError extends MycelError {
  override name = 'MalformedMoveError';
  constructor(kind: string, why: string) {
    super(`Malformed ${kind} move: ${why}.`, { metaMessages: ['Build moves with the strategy functions (src/verify/strategy) or check the field named above.'] });
  }
}

export class OutOfTurnError extends MycelError {
  override name = 'OutOfTurnError';
  constructor(by: string, turn: string, expected: string) {
    super(`It is not ${by}'s move: the game waits for ${turn} to send ${expected}.`, { metaMessages: ['Wait for the other party, or claim a timeout after the deadline.'] });
  }
}

export class InvalidProofError extends MycelError {
  override name = 'InvalidProofError';
  constructor(what: string) {
    super(`Proof does not verify: ${what}.`, { metaMessages: ['Send the Merkle path of the leaf against the root you committed (merkleProof in src/train/merkle.ts).'] });
  }
}

export class WrongMoveError extends MycelError {
  override name = 'WrongMoveError';
  constructor(kind: string, level: string, phase: string, expected: string) {
    super(`A ${kind} move is not allowed at ${level}/${phase}.`, { metaMessages: [`Send ${expected}.`] });
  }
}

export class DeadlineError extends MycelError {
  override name = 'DeadlineError';
  constructor(now: number, deadline: number, late: boolean) {
    super(late ? `The deadline ${deadline} has passed (now ${now}).` : `No timeout yet: the deadline is ${deadline}, now ${now}.`, {
      metaMessages: [late ? 'The party to move has lost: send a timeout move.' : 'Claim the timeout after the deadline.'],
    });
  }
}

export class GameOverError extends MycelError {
  override name = 'GameOverError';
  constructor() {
    super('The game is over: a ruling has been made.', { metaMessages: ['Read position.ruling.'] });
  }
}

export class UnknownJobError extends MycelError {
  override name = 'UnknownJobError';
  constructor(what: string) {
    super(`Unknown job or commitment ${what}.`, { metaMessages: ['Pass a job id or run commitment of a run in the store: mycel inspect lists them.'] });
  }
}

export class NoDisagreementError extends MycelError {
  override name = 'NoDisagreementError';
  constructor(what: string) {
    super(`Nothing to dispute: ${what}.`, { metaMessages: ['A dispute needs two run commitments of the same job that differ.'] });
  }
}
