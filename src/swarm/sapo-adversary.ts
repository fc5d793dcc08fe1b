/**
 * Hostile swarm peers, for tests and the poisoned bench setting: each kind turns an honest rollout
 * (or its policy blob) into the attack named in the issue, signed with the hostile node's own key, as
 * a real attacker would sign it. Receivers must reject each one and stay up.
 */
import { randomWords } from '../tensor/index.js';
import type { Tokenizer } from '../data/index.js';
import { signRollout, type Rollout } from './rollout-message.js';
import { rewardOf } from './rollout-check.js';
import { completionIds } from './rollout-program.js';
import type { SapoConfig } from './sapo-config.js';
import type { PolicyBlob } from './rollout-policy.js';

export const HOSTILE_KINDS = ['wrong-seed', 'forged-question', 'inflated-reward', 'unknown-policy', 'bad-policy-blob', 'wrong-policy-hash', 'not-reproduced', 'replay', 'oversized', 'poisoned'] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];

/** What a hostile node sends this round: a rollout (or raw bytes), and the blob it serves under its claimed CID. */
export type HostileOutput = { rollout?: Rollout; bytes?: Uint8Array; blobs?: [cid: string, bytes: Uint8Array][] };

/** The swarm's `config` and `tokenizer`: what a cheat that must pass the cheap checks needs (the ids, the rewards). */
export type HostileContext = { key: Uint8Array; blob: PolicyBlob; previous?: Rollout; maxBytes: number; config: SapoConfig; tokenizer: Tokenizer };

const resign = (r: Rollout, key: Uint8Array): Rollout => {
  const { sig: _sig, ...body } = r;
  return signRollout(body, key);
};

export function corrupt(kind: HostileKind, honest: Rollout, ctx: HostileContext): HostileOutput {
  const groups = honest.groups.map((g) => ({ ...g, completions: g.completions.map((c) => ({ ...c, tokens: [...c.tokens] })) }));
  const edited = (patch: Partial<Rollout>) => ({ rollout: resign({ ...honest, groups, ...patch }, ctx.key) });
  switch (kind) {
    case 'wrong-seed':
      groups[0].completions[0].seed += 1;
      return edited({});
    case 'forged-question':
      groups[0].answer = `${groups[0].answer}1`;
      return edited({});
    case 'inflated-reward':
      // (An attack only where some completion earned 0: a test's policy must not be perfect.)
      for (const g of groups) for (const c of g.completions) c.reward = 1;
      return edited({});
    case 'unknown-policy':
      return edited({ policy: hexOf(randomWords({ seed: honest.round, stream: 9, offset: 0 }, 8)), cid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy' });
    case 'bad-policy-blob': {
      // Serves other bytes under its policy's CID (one weight changed).
      const bytes = ctx.blob.bytes.slice();
      bytes[bytes.length - 1] ^= 1;
      return { ...edited({}), blobs: [[ctx.blob.cid, bytes]] };
    }
    case 'wrong-policy-hash':
      // A genuine blob under its true CID, claimed as another state (say, a better policy it does not have).
      return edited({ policy: hexOf(randomWords({ seed: honest.round, stream: 10, offset: 0 }, 8)) });
    case 'not-reproduced':
      // Another first token among the ids a completion may hold, with the rewards the tokens really earn: only
      // re-execution can tell. (With --rpc, its commit lists these groups: a rollout dispute refutes them.)
      {
        const ids = completionIds(ctx.config, ctx.tokenizer);
        for (const g of groups) {
          for (const c of g.completions) {
            c.tokens = [ids[(ids.indexOf(c.tokens[0] ?? -1) + 1) % ids.length]!, ...c.tokens.slice(1)];
            c.reward = rewardOf(ctx.config, ctx.tokenizer, g.task, g.prompt, c.tokens);
          }
        }
      }
      return edited({});
    case 'replay':
      return { rollout: ctx.previous ?? honest };
    case 'oversized': {
      const bytes = new Uint8Array(ctx.maxBytes + 1);
      bytes[0] = 1;
      return { bytes };
    }
    case 'poisoned':
      // Forged answers and every reward 1: what a peer that wants its rollouts to dominate sends.
      for (const g of groups) {
        g.answer = `9${g.answer}`;
        for (const c of g.completions) c.reward = 1;
      }
      return edited({});
  }
}

function hexOf(words: Uint32Array): string {
  return [...words].map((w) => w.toString(16).padStart(8, '0')).join('');
}
