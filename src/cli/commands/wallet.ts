import { readWallet } from '../../chain/wallet.js';
import { formatEther } from 'viem';
import { getBlockNumber } from 'viem/actions';
import { UsageError } from '../../platform/errors.js';
import { intFlag, type Command } from '../command.js';
import { WALLET_FLAGS, myc, walletContext } from '../wallet-context.js';

export const wallet: Command = {
  name: 'wallet',
  summary: 'an account\'s balances, node bond, stake locked in jobs, and earnings per job',
  usage: '--rpc URL (--contracts FILE | --market ADDR) (--key-file FILE | --address ADDR)',
  description: `
Reads the chain: ETH and MYC balances, the node bond in the registry (and its unbonding state), and
every job the account posted, claimed or challenged, with the tokens the market holds for it
(locked) and, once the job is settled, what it earned (+) or cost (-): a solver earns the reward,
plus the loser's unburned half-stake if it won a dispute; a loser loses its stake.

Subcommands send transactions with the account's key: wallet transfer, wallet stake, wallet unstake,
wallet withdraw.

Examples:
  mycel wallet --rpc http://127.0.0.1:8545 --contracts deployment.json --key-file solver.key
  mycel wallet --rpc https://sepolia.base.org --market 0x… --address 0x… --json`,
  flags: {
    ...WALLET_FLAGS,
    address: { type: 'string', value: 'ADDR', description: 'read this account instead of the key file\'s' },
    'from-block': { type: 'string', value: 'N', description: 'look for the account\'s jobs from this block (default 0)' },
  },
  async run({ args, flags, out }) {
    if (args.length > 0) throw new UsageError(`Unknown wallet subcommand "${args[0]}".`, { metaMessages: ['Subcommands: transfer, stake, unstake, withdraw (`mycel wallet --help`).'] });
    const ctx = await walletContext(flags, { write: false });
    const r = await readWallet(ctx.publicClient, { contracts: ctx.contracts, address: ctx.address, fromBlock: BigInt(intFlag(flags, 'from-block', 0, 0)) });
    const now = await getBlockNumber(ctx.publicClient, { cacheTime: 0 });
    const bond = !r.node.registered
      ? 'none (not registered as a node: mycel wallet stake AMOUNT)'
      : `${myc(r.node.stake)} MYC, ${r.node.unlockAt === 0n ? 'active' : r.node.unlockAt > now ? `unbonding until block ${r.node.unlockAt} (${r.node.unlockAt - now} blocks from now)` : 'unbonded: mycel wallet withdraw'}; ${r.node.activeJobs} open job(s)`;
    const settled = r.jobs.filter((j) => j.settled).length;
    const sign = (v: bigint) => `${v > 0n ? '+' : ''}${myc(v)}`;
    out.result(
      {
        address: r.address,
        chain_id: ctx.chainId,
        eth: formatEther(r.eth),
        tokens: myc(r.tokens),
        bond: { registered: r.node.registered, stake: myc(r.node.stake), unlock_block: Number(r.node.unlockAt), active_jobs: r.node.activeJobs },
        locked: myc(r.locked),
        earned: myc(r.earned),
        jobs: r.jobs.map((j) => ({ job_id: j.jobId.toString(), ...(j.disputeId === undefined ? {} : { dispute_id: j.disputeId.toString() }), role: j.role, phase: j.phase, locked: myc(j.locked), earned: myc(j.net), settled: j.settled })),
      },
      [
        `address  ${r.address} (chain ${ctx.chainId})`,
        `ETH      ${formatEther(r.eth)}`,
        `MYC      ${myc(r.tokens)}`,
        `bond     ${bond}`,
        `locked   ${myc(r.locked)} MYC held by the market for open jobs`,
        `earned   ${sign(r.earned)} MYC over ${settled} settled job(s)`,
        ...(r.jobs.length ? ['', ...r.jobs.map((j) => `  job ${String(j.jobId).padEnd(5)} ${(j.disputeId === undefined ? j.role : `${j.role} #${j.disputeId}`).padEnd(10)} ${j.phase.padEnd(9)} ${j.settled ? `${sign(j.net)} MYC` : `${myc(j.locked)} MYC locked`}`)] : []),
      ].join('\n'),
    );
  },
};
