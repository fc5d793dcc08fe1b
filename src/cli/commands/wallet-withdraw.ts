import { getNode, withdraw } from '../../chain/index.js';
import { UsageError } from '../../platform/errors.js';
import type { Command } from '../command.js';
import { WALLET_FLAGS, myc, walletContext } from '../wallet-context.js';

export const walletWithdraw: Command = {
  name: 'wallet withdraw',
  summary: 'return the node\'s bond to its account once the unbonding delay has passed',
  description: `
Example:
  mycel wallet withdraw --rpc URL --contracts deployment.json --key-file solver.key`,
  flags: WALLET_FLAGS,
  async run({ args, flags, out }) {
    if (args.length > 0) throw new UsageError('wallet withdraw takes no arguments.');
    const ctx = await walletContext(flags, { write: true });
    const before = await getNode(ctx.publicClient, { registry: ctx.contracts.registry, node: ctx.address });
    const sent = await withdraw(ctx.wallet!, { registry: ctx.contracts.registry });
    out.result({ address: ctx.address, returned: myc(before.stake), tx: sent.hash }, `withdrew the bond: ${myc(before.stake)} MYC back to ${ctx.address} (tx ${sent.hash})`);
  },
};
