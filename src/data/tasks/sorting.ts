import { DATA_STREAMS } from '../streams.js';
import { defineSequenceTask } from './sequence-task.js';

const sorted = (digits: string) => [...digits].sort().join('');

/** "s:31415=" -> "11345". The verifier checks order and that the digits are the prompt's, as a multiset. */
export const sorting = defineSequenceTask({
  name: 'sorting',
  tag: 's',
  stream: DATA_STREAMS.sorting,
  description: 'Sort a sequence of digits in ascending order.',
  answer: sorted,
  check(sequence, answer) {
    if (!/^\d*$/.test(answer)) return false;
    const inOrder = [...answer].every((d, i) => i === 0 || answer[i - 1] <= d);
    return inOrder && sorted(answer) === sorted(sequence);
  },
});
