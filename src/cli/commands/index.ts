import type { Command } from '../command.js';
import { demo } from './demo.js';
import { blobGet } from './blob-get.js';
import { blobPut } from './blob-put.js';
import { nodePeers } from './node-peers.js';
import { nodeStart } from './node-start.js';
import { nodeRun } from './node-run.js';
import { nodeStop } from './node-stop.js';
import { nodeStatus } from './node-status.js';
import { train } from './train.js';
import { swarmTrain } from './swarm-train.js';
import { evalCommand } from './eval.js';
import { sample } from './sample.js';
import { inspect } from './inspect.js';
import { verify } from './verify.js';
import { dispute } from './dispute.js';
import { devnet } from './devnet.js';
import { chainDeploy } from './chain-deploy.js';
import { chainStatus } from './chain-status.js';
import { wallet } from './wallet.js';
import { walletTransfer } from './wallet-transfer.js';
import { walletStake } from './wallet-stake.js';
import { walletUnstake } from './wallet-unstake.js';
import { walletWithdraw } from './wallet-withdraw.js';
import { swarmStart } from './swarm-start.js';
import { swarmLocal } from './swarm-local.js';

/** Every `mycel` command, in the order `mycel --help` lists them. One file per command. */
export const COMMANDS: readonly Command[] = [demo, train, evalCommand, sample, inspect, verify, dispute, devnet, chainDeploy, chainStatus, wallet, walletTransfer, walletStake, walletUnstake, walletWithdraw, nodeStart, nodeStop, nodeStatus, nodeRun, nodePeers, blobPut, blobGet, swarmTrain, swarmStart, swarmLocal];
