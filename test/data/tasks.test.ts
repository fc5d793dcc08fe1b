import { describe, expect, it } from 'vitest';
import {
  TASKS,
  TASK_ALPHABET,
  TASK_NAMES,
  TaskConfigError,
  TaskPromptError,
  UnknownTaskError,
  getTask,
  seedFromDigest,
  MIX_TASKS,
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
    expect(TASKS.radix.verify('[2]1011:[7]=', '14')).toBe(1);
    expect(TASKS.radix.verify('[2]1011:[7]=', '11')).toBe(0); // the value in base 10, not 7
    expect(TASKS.radix.verify('[2]1011:[7]=', '014')).toBe(0); // not canonical
    expect(TASKS.radix.verify('[10]0:[3]=', '0')).toBe(1);
    expect(() => TASKS.radix.verify('[2]1021:[7]=', '1')).toThrow(TaskPromptError); // 2 is no binary digit
    expect(() => TASKS.radix.verify('[16]10:[7]=', '1')).toThrow(TaskPromptError);
    expect(TASKS.arithmetic.verify('3+4*2-5=', '6')).toBe(1);
    expect(TASKS.arithmetic.verify('3+4*2-5=', '9')).toBe(0); // left to right, not precedence
    expect(TASKS.arithmetic.verify('2-3*3=', '-7')).toBe(1);
    expect(TASKS.arithmetic.verify('2-3*3=', '-07')).toBe(0);
    expect(TASKS.arithmetic.verify('5-5=', '0')).toBe(1);
    expect(TASKS.arithmetic.verify('5-5=', '-0')).toBe(0);
    expect(TASKS.arithmetic.verify('2*3*4-1-1=', '22')).toBe(1);
  });

  it('radix and arithmetic cover their knobs', () => {
    const examples = Array.from({ length: 300 }, (_, i) => TASKS.radix.generate(4, i, { maxBase: 4 }));
    const bases = new Set(examples.flatMap(({ prompt }) => [...prompt.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]))));
    expect([...bases].sort()).toEqual([2, 3, 4]);
    expect(examples.every(({ prompt }) => !/^\[(\d+)\]\d+:\[\1\]=$/.test(prompt))).toBe(true); // the bases differ
    const chains = Array.from({ length: 300 }, (_, i) => TASKS.arithmetic.generate(4, i, { terms: 5, digits: 2 }));
    expect(chains.every(({ prompt }) => prompt.split(/[-+*]/).length === 5)).toBe(true);
    expect(chains.some(({ answer }) => answer.startsWith('-'))).toBe(true);
    for (const op of ['+', '-', '*']) expect(chains.some(({ prompt }) => prompt.includes(op))).toBe(true);
  });

  it('mix draws each enabled task and scores it with that task\'s verifier', () => {
    const kinds = (tasks: number) => {
      const seen = new Set<string>();
      for (let i = 0; i < 200; i++) {
        const { prompt, answer } = TASKS.mix.generate(9, i, { tasks });
        const entry = MIX_TASKS.find(({ task }) => { try { task.verify(prompt, answer); return true; } catch { return false; } })!;
        expect(entry.task.verify(prompt, answer)).toBe(1);
        seen.add(prompt.startsWith('[') ? 'radix' : prompt.startsWith('(') ? 'modular' : /^\d+\+\d+=$/.test(prompt) ? 'addition' : 'arithmetic');
      }
      return [...seen].sort();
    };
    expect(kinds(15)).toEqual(['addition', 'arithmetic', 'modular', 'radix']);
    expect(kinds(0b0100)).toEqual(['radix']);
    expect(kinds(0b1001)).toEqual(['addition', 'modular']);
    expect(TASKS.mix.verify('[2]1011:[7]=', '14')).toBe(1);
    expect(TASKS.mix.verify('3+4*2-5=', '6')).toBe(1);
    expect(TASKS.mix.verify('(5*6)%10=', '1')).toBe(0);
    expect(() => TASKS.mix.verify('p:101=', '0')).toThrow(TaskPromptError); // parity is not in the mix
  });

  it('seedFromDigest takes a digest\'s first 53 bits, so a task example is regenerable from a hash', () => {
    const digest = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
    const seed = seedFromDigest(digest);
    expect(Number.isSafeInteger(seed)).toBe(true);
    expect(seed).toBe(Number(BigInt('0x' + Buffer.from(digest.subarray(0, 8)).toString('hex')) >> 11n));
    expect(seedFromDigest(new Uint8Array(7))).toBe(0);
    expect(TASKS.arithmetic.generate(seed, 0)).toEqual(TASKS.arithmetic.generate(seedFromDigest(digest.slice()), 0));
    expect(() => seedFromDigest(new Uint8Array(3))).toThrow(/at least 7 bytes/);
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
    expect([TASKS.radix.generate(0, 0), TASKS.arithmetic.generate(0, 0)]).toMatchInlineSnapshot(`
      [
        {
          "answer": "305",
          "prompt": "[3]21022:[8]=",
        },
        {
          "answer": "5",
          "prompt": "8+3-6=",
        },
      ]
    `);
    expect(TASKS.brackets.generate(0, 0)).toMatchInlineSnapshot(`
      {
        "answer": "1",
        "prompt": "b:[(()())]=",
      }
    `);
  });
});
