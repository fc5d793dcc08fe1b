import { isAddress, type Address } from 'viem';
import { getBlockNumber } from 'viem/actions';
import { read } from '../../chain/actions/send.js';
import { connect } from '../../chain/clients.js';
import { JobMarketAbi } from '../../chain/generated/JobMarket.js';
import { UsageError } from '../../platform/errors.js';
import type { Command } from '../command.js';

export const chainStatus: Command = {
  name: 'chain status',
  summary: 'chain id and block number of an EVM node, and the job count of a market',
  usage: '--rpc URL [--market ADDRESS] [--json]',
  description: `
Examples:
  mycel chain status --rpc http://127.0.0.1:8545
  mycel chain status --rpc http://127.0.0.1:8545 --market 0x… --json`,
  flags: {
    rpc: { type: 'string', value: 'URL', description: 'EVM JSON-RPC URL' },
    market: { type: 'string', value: 'ADDRESS', description: 'a JobMarket: also show its job count' },
  },
  async run({ args, flags, out }) {
    if (args.length > 0) throw new UsageError('chain status takes no arguments.');
    if (typeof flags.rpc !== 'string') throw new UsageError('chain status needs --rpc URL.');
    const market = typeof flags.market === 'string' ? flags.market : undefined;
    if (market !== undefined && !isAddress(market)) throw new UsageError(`--market must be a 0x-prefixed 20-byte address, got "${market}".`);
    const { publicClient, chainId } = await connect({ rpcUrl: flags.rpc });
    const blockNumber = await getBlockNumber(publicClient, { cacheTime: 0 });
    const jobCount =
      market === undefined
        ? undefined
        : await read<bigint>(publicClient, { address: market as Address, abi: JobMarketAbi, functionName: 'jobCount', args: [] });
    out.result(
      { rpc_url: flags.rpc, chain_id: chainId, block_number: Number(blockNumber), ...(jobCount === undefined ? {} : { market, job_count: Number(jobCount) }) },
      [`chain id      ${chainId}`, `block number  ${blockNumber}`, ...(jobCount === undefined ? [] : [`jobs          ${jobCount} (market ${market})`])].join('\n'),
    );
  },
};
