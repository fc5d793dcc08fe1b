// The node layer: roles (submitter, solver, verifier), the job lifecycle, the on-chain dispute, the devnet.
export * from './context.js';
export * from './announce.js';
export * from './step-hashes.js';
export * from './dispute.js';
export * from './roles.js';
export * from './run.js';
export * from './devnet.js';
export * from './spawn.js';
export * from './join.js';
export { bootstrapAddr } from './p2p.js';
export * from './dashboard/index.js';
