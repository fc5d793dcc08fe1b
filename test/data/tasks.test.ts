import { describe, expect, it } from 'vitest';
import {
  TASKS,
  TASK_ALPHABET,
  TASK_NAMES,
  TaskConfigError,
  TaskPromptError,
  UnknownTaskError,
  getTask,
  type TaskDefinition,
} from '../../src/data/index.js';

const tasks = TASK_NAMES.map((name) => [name, TASKS[name] as TaskDefinition] as const);

/** Wrong answers a model might give: off by one, an extra or missing digit, junk. */
function corruptions(answer: string): string[] {
  const last = answer.at(-1)!;
  const bumped = answer.slice(0, -1) + (/\d/.test(last) ? String((Number(last) + 1) % 10) : 'x');
  return [bumped, answer + '0', answer.slice(1), 'x', ''].filter((c) => c !== answer);
}

describe.each(tasks)('task %s', (name, task) => {
  it('generated answers verify with reward 1; corrupted answers get 0', () => {
    for (let index = 0; index < 200; index++) {
      const { prompt, answer } = task.generate(11, index);
      expect(task.verify(prompt, answer)).toBe(1);
      expect(task.verify(prompt, ` ${answer}\nanything after the end marker`)).toBe(1);
      for (const wrong of corruptions(answer)) {
        if (name === 'sorting' && [...wrong].sort().join('') === answer) continue;
        expect(task.verify(prompt, wrong), `${prompt}${wrong}`).toBe(0);
      }
    }
  });

  it('uses only its alphabet (and TASK_ALPHABET covers it)', () => {
    for (let index = 0; index < 100; index++) {
      const { prompt, answer } = task.generate(3, index);
      for (const c of prompt + answer) {
        expect(task.alphabet).toContain(c);
        expect(TASK_ALPHABET).toContain(c);
      }
    }
  });

  it('is a pure function of (config, seed, index)', () => {
    const forward = Array.from({ length: 20 }, (_, i) => task.generate(5, i));
    const backward = Array.from({ length: 20 }, (_, i) => task.generate(5, 19 - i)).reverse();
    expect(backward).toEqual(forward);
    expect(task.generate(5, 1_000_000_007)).toEqual(task.generate(5, 1_000_000_007));
    const otherSeed = Array.from({ length: 20 }, (_, i) => task.generate(6, i));
    expect(otherSeed).not.toEqual(forward);
  });

  it('rejects knobs out of range, unknown knobs, and bad indices', () => {
    const [knob, [min]] = Object.entries(task.ranges)[0];
    expect(() => task.generate(1, 0, { [knob]: min - 1 })).toThrow(TaskConfigError);
    expect(() => task.generate(1, 0, { [knob]: min + 0.5 })).toThrow(TaskConfigError);
    expect(() => task.generate(1, 0, { nonsense: 1 } as never)).toThrow(/one of the knobs/);
    expect(() => task.generate(1, -1)).toThrow(TaskConfigError);
  });

  it('throws TaskPromptError for a prompt it did not generate', () => {
    expect(() => task.verify('hello', '1')).toThrow(TaskPromptError);
  });
});

describe('task specifics', () => {
  it('difficulty knobs change the examples', () => {
    const { prompt } = TASKS.addition.generate(1, 0, { digits: 12 });
    expect(prompt.length).toBeGreaterThan(15);
    expect(TASKS.addition.verify('99999999999999999999+1=', '100000000000000000000')).toBe(1);
    expect(TASKS.sorting.generate(1, 0, { length: 9 }).answer).toHaveLength(9);
    expect(TASKS.modular.generate(1, 0, { modulus: 13 }).prompt).toMatch(/%13=$/);
  });

  it('verifiers check the meaning, not the stored string', () => {
    expect(TASKS.addition.verify('12+30=', '42')).toBe(1);
    expect(TASKS.addition.verify('12+30=', '042')).toBe(0); // not canonical
    expect(TASKS.sorting.verify('s:3141=', '1134')).toBe(1);
    expect(TASKS.sorting.verify('s:3141=', '1234')).toBe(0); // ordered, wrong multiset
    expect(TASKS.sorting.verify('s:3141=', '1143')).toBe(0); // right multiset, wrong order
    expect(TASKS.modular.verify('(2-5)%7=', '4')).toBe(1);
    expect(TASKS.brackets.verify('b:([]{})=', '1')).toBe(1);
    expect(TASKS.brackets.verify('b:([)]=', '0')).toBe(1);
    expect(TASKS.counting.verify('n1:31415=', '2')).toBe(1);
    expect(TASKS.parity.verify('p:10110=', '1')).toBe(1);
  });

  it('brackets are balanced about half the time', () => {
    const ones = Array.from({ length: 400 }, (_, i) => TASKS.brackets.generate(2, i).answer).filter((a) => a === '1').length;
    expect(ones).toBeGreaterThan(150);
    expect(ones).toBeLessThan(250);
  });

  it('getTask looks up by name and names the choices otherwise', () => {
    expect(getTask('parity')).toBe(TASKS.parity);
    expect(() => getTask('division')).toThrow(UnknownTaskError);
    expect(() => getTask('division')).toThrow(/addition/);
  });

  it('examples are pinned: a change to generation is a change to the data', () => {
    expect(TASKS.addition.generate(0, 0)).toMatchInlineSnapshot(`
      {
        "answer": "1154",
        "prompt": "448+706=",
      }
    `);
    expect(TASKS.brackets.generate(0, 0)).toMatchInlineSnapshot(`
      {
        "answer": "1",
        "prompt": "b:[(()())]=",
      }
    `);
  });
});
