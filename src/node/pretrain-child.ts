/**
 * Pre-trains the devnet swarm's starting policy in its own process (devnet-policy.ts starts it with MYCEL_PRETRAIN:
 * JSON {file, id}), so that the devnet's process stays free to serve libp2p and the chain meanwhile. Writes the
 * checkpoint to `file` through a temporary file and a rename: a devnet stopped half-way leaves no partial policy.
 */
import { rename, writeFile } from 'node:fs/promises';
import { configureKernels } from '../tensor/index.js';
import { encodeCheckpoint, stateHash } from '../train/index.js';
import { pretrainPolicy } from '../swarm/sapo-policy.js';
import { devnetPolicyProgram } from './devnet-policy.js';

async function main() {
  const job = JSON.parse(process.env.MYCEL_PRETRAIN ?? 'null') as { file: string; id: string } | null;
  if (!job) throw new Error('MYCEL_PRETRAIN is not set: this entry is started by `mycel devnet`.');
  // One thread: the other core belongs to the market's node processes.
  configureKernels({ threads: 1 });
  const program = devnetPolicyProgram();
  if (program.id !== job.id) throw new Error(`this build's devnet policy job is ${program.id}, the devnet asked for ${job.id}: rebuild (npm run build)`);
  const state = pretrainPolicy(program);
  const tmp = `${job.file}.${process.pid}.tmp`;
  await writeFile(tmp, encodeCheckpoint(state, { jobId: program.id, spec: program.spec, tokenizer: program.tokenizer.toJSON(), stateHash: stateHash(state) }));
  await rename(tmp, job.file);
}

main().catch((error: Error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});
