import { approve, getNode, publicKeyOf, register } from '../../chain/index.js';
import { UsageError } from '../../platform/errors.js';
import type { Command } from '../command.js';
import { WALLET_FLAGS, myc, tokenAmount, walletContext } from '../wallet-context.js';

export const walletStake: Command = {
  name: 'wallet stake',
  summary: 'bond MYC in the node registry: register the key file\'s account as a node',
  usage: '<amount>',
  description: `
The registry takes one bond per node (at least its minimum) and has no top-up: to change it, unstake,
withdraw after the unbonding delay, and stake again. The node's public key is published with it (its
libp2p identity). Job stakes are separate: the market takes them per job when the node claims or
challenges.

Example:
  mycel wallet stake 100 --rpc URL --contracts deployment.json --key-file solver.key`,
  flags: WALLET_FLAGS,
  async run({ args, flags, out }) {
    if (args.length !== 1) throw new UsageError('wallet stake takes one amount of tokens.', { metaMessages: ['Example: mycel wallet stake 100 --rpc URL --contracts FILE --key-file FILE'] });
    const amount = tokenAmount(args[0], 'The bond');
    const ctx = await walletContext(flags, { write: true });
    const node = await getNode(ctx.publicClient, { registry: ctx.contracts.registry, node: ctx.address });
    if (node.registered) {
      throw new UsageError(`${ctx.address} is already a node with a bond of ${myc(node.stake)} MYC; the registry has no top-up.`, {
        metaMessages: ['To change the bond: mycel wallet unstake, then mycel wallet withdraw after the unbonding delay, then stake again.'],
      });
    }
    const approved = await approve(ctx.wallet!, { token: ctx.contracts.token, spender: ctx.contracts.registry, amount });
    const registered = await register(ctx.wallet!, { registry: ctx.contracts.registry, stake: amount, publicKey: publicKeyOf(ctx.privateKey!) });
    out.result(
      { address: ctx.address, bond: myc(amount), tx: registered.hash, gas: Number(approved.gasUsed + registered.gasUsed) },
      `${ctx.address} is a node with a bond of ${myc(amount)} MYC (tx ${registered.hash})`,
    );
  },
};
