import { intFlag, type Command } from '../command.js';
import { formatSummary, runDevnet } from '../../node/index.js';

export const devnet: Command = {
  name: 'devnet',
  summary: 'the whole network on one machine: anvil, contracts, a submitter, two solvers (one cheats) and a verifier',
  usage: '[--steps N] [--cheat-at T] [--json]',
  description: `
Starts anvil, deploys the token, registry, job market and the real DisputeGame, funds four accounts from
anvil's dev keys, and runs the scenario: job A (a small GPT sorting digits) goes to the honest solver,
is left unchallenged and is paid after the challenge window; job B goes to a solver that flips one bit
at a random step: the verifier re-executes it, challenges, and the dispute is played on chain move by
move until the one-step proof; the cheater loses its stake (half burned, half to the verifier) and the
submitter is refunded. Progress goes to stderr; the summary (balances before and after, gas per action,
time, where the trained model is and its libp2p blob CID) to stdout. Each node runs a libp2p node on
127.0.0.1: the job spec reaches the solvers and the verifier as a blob by CID, and the honest solver's
model reaches the submitter the same way. Ctrl-C stops anvil and every node.

Examples:
  mycel devnet
  mycel devnet --steps 10 --json`,
  flags: {
    steps: { type: 'string', value: 'N', description: 'training steps of each job (default 40)' },
    'cheat-at': { type: 'string', value: 'T', description: 'the step the cheater cheats at (default: random)' },
    window: { type: 'string', value: 'S', description: 'challenge window in seconds (default 20)' },
    dir: { type: 'string', value: 'DIR', description: 'where the nodes keep their data (default: a new temp dir)' },
  },
  async run({ flags, out, signal }) {
    const steps = intFlag(flags, 'steps', 40, 1, 100_000);
    const cheatAt = flags['cheat-at'] === undefined ? undefined : intFlag(flags, 'cheat-at', 1, 1, steps);
    const started = performance.now();
    const summary = await runDevnet({
      steps,
      ...(cheatAt === undefined ? {} : { cheatAt }),
      challengeWindow: intFlag(flags, 'window', 20, 1, 86_400),
      ...(typeof flags.dir === 'string' ? { dir: flags.dir } : {}),
      signal,
      onEvent: (e) => {
        const at = `${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s`;
        if (e.type === 'log') out.log(`${at}  ${e.node.padEnd(15)} ${e.text}`);
        else if (e.type === 'tx' && e.action.startsWith('dispute')) out.log(`${at}  ${e.node.padEnd(15)} ${e.action} (gas ${e.gas})`);
      },
    });
    out.result(summary, formatSummary(summary));
  },
};
