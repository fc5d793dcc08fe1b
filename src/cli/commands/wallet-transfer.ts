import { getAddress, isAddress, type Address } from 'viem';
import { send } from '../../chain/actions/send.js';
import { MycelTokenAbi } from '../../chain/generated/MycelToken.js';
import { UsageError } from '../../platform/errors.js';
import type { Command } from '../command.js';
import { WALLET_FLAGS, myc, tokenAmount, walletContext } from '../wallet-context.js';

export const walletTransfer: Command = {
  name: 'wallet transfer',
  summary: 'send MYC tokens from the key file\'s account to another address',
  usage: '<to address> <amount>',
  description: `
Example:
  mycel wallet transfer 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 100 --rpc URL --contracts deployment.json --key-file me.key`,
  flags: WALLET_FLAGS,
  async run({ args, flags, out }) {
    if (args.length !== 2) throw new UsageError('wallet transfer takes an address and an amount.', { metaMessages: ['Example: mycel wallet transfer 0x… 25 --rpc URL --contracts FILE --key-file FILE'] });
    const [to, value] = args;
    if (!isAddress(to)) throw new UsageError(`The recipient must be a 0x address, got "${to}".`);
    const amount = tokenAmount(value, 'The amount');
    const ctx = await walletContext(flags, { write: true });
    const sent = await send<boolean>(ctx.wallet!, { address: ctx.contracts.token, abi: MycelTokenAbi, functionName: 'transfer', args: [getAddress(to) as Address, amount] });
    out.result({ from: ctx.address, to: getAddress(to), amount: myc(amount), tx: sent.hash, gas: Number(sent.gasUsed) }, `sent ${myc(amount)} MYC to ${getAddress(to)} (tx ${sent.hash})`);
  },
};
