import { getNode, requestWithdraw } from '../../chain/index.js';
import { UsageError } from '../../platform/errors.js';
import type { Command } from '../command.js';
import { WALLET_FLAGS, myc, walletContext } from '../wallet-context.js';

export const walletUnstake: Command = {
  name: 'wallet unstake',
  summary: 'start the unbonding delay of the node\'s bond (the node takes no new job from then on)',
  description: `
After the registry's unbonding delay (a number of blocks), and once the node holds no open job,
mycel wallet withdraw returns the bond.

Example:
  mycel wallet unstake --rpc URL --contracts deployment.json --key-file solver.key`,
  flags: WALLET_FLAGS,
  async run({ args, flags, out }) {
    if (args.length > 0) throw new UsageError('wallet unstake takes no arguments.');
    const ctx = await walletContext(flags, { write: true });
    const sent = await requestWithdraw(ctx.wallet!, { registry: ctx.contracts.registry });
    const node = await getNode(ctx.publicClient, { registry: ctx.contracts.registry, node: ctx.address });
    // The registry's unbonding delay is in blocks, like every deadline of the market and the game.
    out.result({ address: ctx.address, bond: myc(node.stake), unlock_block: Number(node.unlockAt), tx: sent.hash }, `unbonding ${myc(node.stake)} MYC; mycel wallet withdraw from block ${node.unlockAt} on (tx ${sent.hash})`);
  },
};
