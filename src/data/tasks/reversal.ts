import { DATA_STREAMS } from '../streams.js';
import { defineSequenceTask } from './sequence-task.js';

const reversed = (digits: string) => [...digits].reverse().join('');

/** "r:31415=" -> "51413". */
export const reversal = defineSequenceTask({
  name: 'reversal',
  tag: 'r',
  stream: DATA_STREAMS.reversal,
  description: 'Write a sequence of digits backwards.',
  answer: reversed,
  check: (sequence, answer) => answer === reversed(sequence),
});
