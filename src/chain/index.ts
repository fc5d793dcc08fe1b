// The chain layer: anvil, clients, deployment, actions (one per file) and errors.
export * from './anvil.js';
export * from './clients.js';
export * from './deploy.js';
export * from './errors.js';
export { assertChain, type MycelWalletClient, type WriteReturnType } from './actions/send.js';
export * from './actions/approve.js';
export * from './actions/register.js';
export * from './actions/requestWithdraw.js';
export * from './actions/withdraw.js';
export * from './actions/getNode.js';
export * from './actions/postJob.js';
export * from './actions/claimJob.js';
export * from './actions/commitRoot.js';
export * from './actions/challenge.js';
export * from './actions/finalize.js';
export * from './actions/expire.js';
export * from './actions/getJob.js';
export * from './generated/index.js';
