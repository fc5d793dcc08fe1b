/**
 * Checking a peer's rollout. The cheap checks run on every rollout (before gossip forwards it): the
 * round, the author, the signature, every seed, the question and answer regenerated from the question
 * seed, every token among the ids the rollout program samples, every reward recomputed by the task's
 * verifier (what the program's reward is on those ids). Re-execution (the expensive check) runs the
 * rollout program's generation for a sample of the peer's questions with its policy blob and compares
 * the tokens.
 */
import type { Tokenizer } from '../data/index.js';
import type { SapoConfig } from './sapo-config.js';
import { swarmTask } from './sapo-config.js';
import { rolloutSignatureValid, type Rollout, type RolloutGroup } from './rollout-message.js';
import { authorAddress, rolloutQuestion, rolloutSeed, roundBeacon, seedNumber, uniformRow } from './rollout-seeds.js';
import { completionIds, generateRollouts, promptFits, rolloutInputs, rolloutLayout } from './rollout-program.js';
import type { Policy } from './rollout-policy.js';

/** The kinds of rejection, each logged with a reason that names the offending part. */
export type RejectKind =
  | 'wrong-round'
  | 'wrong-author'
  | 'bad-signature'
  | 'wrong-seed'
  | 'forged-question'
  | 'inflated-reward'
  | 'bad-completion'
  | 'unknown-policy'
  | 'bad-policy-blob'
  | 'not-reproduced'
  | 'dropped-peer'
  | 'duplicate'
  | 'malformed';

export type Verdict = { ok: true } | { ok: false; kind: RejectKind; reason: string };

const reject = (kind: RejectKind, reason: string): Verdict => ({ ok: false, kind, reason });

/** The recomputed reward of a completion: the task's verifier on the regenerated question. */
export function rewardOf(config: SapoConfig, tokenizer: Tokenizer, task: string, prompt: string, tokens: readonly number[]): number {
  const entry = swarmTask(config, task)!;
  return entry.task.verify(prompt, tokenizer.decode(Int32Array.from(tokens)));
}

/**
 * Everything about a rollout that needs no model: `from` is the gossip signer it came from (undefined
 * when it did not come over gossip), `round` the round the receiver is in.
 */
export function checkRollout(config: SapoConfig, tokenizer: Tokenizer, rollout: Rollout, { round, from }: { round: number; from?: string }): Verdict {
  if (rollout.round !== round) return reject('wrong-round', `rollout of round ${rollout.round} received in round ${round}`);
  if (from !== undefined && from !== rollout.node) return reject('wrong-author', `rollout of ${rollout.node} published by ${from}`);
  if (!rolloutSignatureValid(rollout)) return reject('bad-signature', `the signature is not ${rollout.node}'s`);
  const beacon = roundBeacon(config.swarmId, rollout.round);
  const author = authorAddress(rollout.node);
  const allowed = new Set(completionIds(config, tokenizer));
  const seen = new Set<number>();
  if (rollout.groups.length > config.own) return reject('bad-completion', `${rollout.groups.length} questions, the swarm asks ${config.own} per node`);
  for (const g of rollout.groups) {
    if (seen.has(g.index)) return reject('duplicate', `question ${g.index} appears twice`);
    seen.add(g.index);
    const verdict = checkGroup(config, tokenizer, { beacon, author, allowed }, g);
    if (!verdict.ok) return verdict;
  }
  return { ok: true };
}

/** `allowed`: the ids a completion may hold (the program's sampled ids without END, which ends it). */
function checkGroup(config: SapoConfig, tokenizer: Tokenizer, { beacon, author, allowed }: { beacon: Uint8Array; author: Uint8Array; allowed: ReadonlySet<number> }, g: RolloutGroup): Verdict {
  const where = `question ${g.index}`;
  if (g.index >= config.own) return reject('wrong-seed', `${where}: index beyond the ${config.own} questions per node`);
  const seed = rolloutSeed(beacon, author, g.index);
  if (g.taskSeed !== seedNumber(seed)) return reject('wrong-seed', `${where}: task seed ${g.taskSeed}, H(beacon, author, index) gives ${seedNumber(seed)}`);
  const question = rolloutQuestion(seed, g.task, config);
  if (!question) return reject('forged-question', `${where}: task "${g.task}" is not one of the swarm's`);
  if (g.prompt !== question.prompt || g.answer !== question.answer) {
    return reject('forged-question', `${where}: "${g.prompt}" -> "${g.answer}", the seed gives "${question.prompt}" -> "${question.answer}"`);
  }
  if (g.completions.length !== config.completions) return reject('bad-completion', `${where}: ${g.completions.length} completions, the swarm uses ${config.completions}`);
  for (const [k, c] of g.completions.entries()) {
    if (c.seed !== uniformRow(k)) return reject('wrong-seed', `${where}, completion ${k}: sampling seed ${c.seed}, its uniforms are row ${uniformRow(k)} of the question seed`);
    if (c.tokens.length > config.maxTokens) return reject('bad-completion', `${where}, completion ${k}: ${c.tokens.length} tokens, at most ${config.maxTokens}`);
    if (c.tokens.some((t) => !allowed.has(t))) return reject('bad-completion', `${where}, completion ${k}: a token id outside the swarm's tasks' characters`);
    const reward = rewardOf(config, tokenizer, g.task, question.prompt, c.tokens);
    if (c.reward !== reward) return reject('inflated-reward', `${where}, completion ${k}: claims reward ${c.reward}, the verifier gives ${reward}`);
  }
  return { ok: true };
}

/**
 * Re-executes `groups` of `rollout` (already through checkRollout) with the peer's policy: the rollout program's
 * generation of each question, compared token by token.
 */
export function reexecute(config: SapoConfig, policy: Policy, rollout: Pick<Rollout, 'node' | 'round'>, groups: readonly RolloutGroup[]): Verdict {
  const { model, tokenizer } = policy.program;
  const layout = rolloutLayout(config, model.config.contextLength);
  const tooLong = groups.find((g) => !promptFits(tokenizer.encode(g.prompt).length, layout));
  if (tooLong) return reject('not-reproduced', `question ${tooLong.index}: the policy ${policy.hash.slice(0, 12)} has no room for ${config.maxTokens} tokens after its prompt, so it did not generate it`);
  const beacon = roundBeacon(config.swarmId, rollout.round);
  const author = authorAddress(rollout.node);
  const replayed = generateRollouts(model, policy.state.params, groups.map((g) => rolloutInputs(g, rolloutSeed(beacon, author, g.index), tokenizer, layout)), config, tokenizer);
  for (const [q, g] of groups.entries()) {
    for (const [k, c] of g.completions.entries()) {
      const mine = replayed[q].completions[k];
      if (mine.length !== c.tokens.length || mine.some((t, i) => t !== c.tokens[i])) {
        return reject('not-reproduced', `question ${g.index}, completion ${k}: the policy ${policy.hash.slice(0, 12)} generates [${[...mine].join(',')}], the rollout says [${c.tokens.join(',')}]`);
      }
    }
  }
  return { ok: true };
}
