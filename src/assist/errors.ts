import { MycelError } from '../platform/errors.js';

/** An app handed the SDK a state field of the wrong shape or with values out of range. */
export class StateShapeError extends MycelError {
  override name = 'StateShapeError';
  constructor(field: string, expected: string, got: string) {
    super(`state.${field} must be ${expected}, got ${got}.`, {
      metaMessages: [`Give state.${field} exactly as the app was defined (defineApp), e.g. a flat array in row-major order or nested arrays.`],
    });
  }
}

/** An app definition the SDK cannot work with. */
export class AppSpecError extends MycelError {
  override name = 'AppSpecError';
}

/** A stored episode that does not hash to its name, does not parse, or whose states do not follow from its actions. */
export class EpisodeCorruptError extends MycelError {
  override name = 'EpisodeCorruptError';
  constructor(id: string, why: string) {
    super(`Episode ${id} is corrupt: ${why}.`, { metaMessages: ['It was skipped, not loaded; the other episodes are intact. Delete the file, or restore it from a copy.'] });
  }
}

/** A model blob that is not an assistant model for this app. */
export class ModelFormatError extends MycelError {
  override name = 'ModelFormatError';
}
