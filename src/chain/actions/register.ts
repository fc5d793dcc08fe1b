import type { Address, Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { NodeRegistryAbi } from '../generated/NodeRegistry.js';
import { send, type MycelWalletClient, type WriteReturnType } from './send.js';

export type RegisterParameters = {
  registry: Address;
  /** Bond in token base units; approve the registry for it first. */
  stake: bigint;
  /** The 64-byte uncompressed key (no 0x04 prefix) of the sending account, or omit. See {@link publicKeyOf}. */
  publicKey?: Hex;
};
export type RegisterReturnType = WriteReturnType;

/**
 * Registers the client's account as a node with a bond, optionally publishing its public key (the PeerId's key).
 * @example await register(walletClient, { registry, stake: 100n * 10n ** 18n, publicKey: publicKeyOf(privateKey) })
 */
export async function register(client: MycelWalletClient, params: RegisterParameters): Promise<RegisterReturnType> {
  const { result: _, ...rest } = await send(client, {
    address: params.registry,
    abi: NodeRegistryAbi,
    functionName: 'register',
    args: [params.stake, params.publicKey ?? '0x'],
  });
  return rest;
}

/** The 64-byte uncompressed secp256k1 public key (x ‖ y) of a private key, as NodeRegistry.register takes it. */
export function publicKeyOf(privateKey: Hex): Hex {
  // viem gives 0x04 ‖ x ‖ y; the registry takes x ‖ y, whose keccak256's last 20 bytes are the address.
  return `0x${privateKeyToAccount(privateKey).publicKey.slice(4)}`;
}
