import { DATA_STREAMS } from '../streams.js';
import { defineSequenceTask } from './sequence-task.js';

/** "c:31415=" -> "31415". */
export const copying = defineSequenceTask({
  name: 'copying',
  tag: 'c',
  stream: DATA_STREAMS.copying,
  description: 'Repeat a sequence of digits.',
  answer: (sequence) => sequence,
  check: (sequence, answer) => answer === sequence,
});
