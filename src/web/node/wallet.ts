/**
 * Who signs the tab's chain writes: the wallet the browser has (EIP-1193, `window.ethereum`), where it has one, else
 * the tab's own key (IndexedDB). With a wallet, transactions go to the wallet (viem's custom transport: it signs and
 * sends them through its own node) and the tab never holds the account's key; reads still go through the node that
 * served the page (POST /rpc). The tab's key stays its libp2p identity either way.
 */
import { createWalletClient, custom, type Address, type Chain, type EIP1193Provider, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { publicKeyOf } from '../../chain/actions/register.js';
import type { MycelWalletClient } from '../../chain/actions/send.js';
import { createClients } from '../../chain/clients.js';

export type ChainSigner = {
  kind: 'wallet' | 'key';
  account: Address;
  wallet: MycelWalletClient;
  /** The key's public key, published with the node bond (a wallet's is not known: the bond goes without one). */
  publicKey?: Hex;
};

/** A wallet that is on another chain than the node's: the person must switch it. */
export class WalletChainError extends Error {
  override name = 'WalletChainError';
}

const POLL_MS = 100;

/**
 * A wallet on another chain is asked to switch to the node's (EIP-3326 wallet_switchEthereumChain; the person
 * approves it in the wallet). Refused, or not supported, nothing is sent: the error names the chain to switch to.
 */
async function onNodesChain(ethereum: EIP1193Provider, want: number): Promise<void> {
  const chainId = Number(await ethereum.request({ method: 'eth_chainId' }));
  if (chainId === want) return;
  const fix = `switch the wallet to chain ${want} (the node's), then reload`;
  try {
    await ethereum.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: `0x${want.toString(16)}` }] });
  } catch (error) {
    throw new WalletChainError(`The wallet is on chain ${chainId} and did not switch to the node's chain ${want} (${String((error as Error)?.message ?? error)}): ${fix}.`);
  }
  const now = Number(await ethereum.request({ method: 'eth_chainId' }));
  if (now !== want) throw new WalletChainError(`The wallet is on chain ${now} after it was asked to switch to the node's chain ${want}: ${fix}.`);
}

export async function chainSigner(o: { key: Uint8Array; chain: Chain; rpcUrl: string; ethereum?: EIP1193Provider }): Promise<ChainSigner> {
  if (o.ethereum) {
    const [account] = (await o.ethereum.request({ method: 'eth_requestAccounts' })) as Address[];
    if (!account) throw new Error('The wallet gave no account: unlock it and allow this page to see one, then reload.');
    await onNodesChain(o.ethereum, o.chain.id);
    // retryCount 0: a method the wallet does not support must fail at once, not look like a hang (DEPENDENCIES.md).
    const wallet = createWalletClient({ account, chain: o.chain, transport: custom(o.ethereum, { retryCount: 0 }), pollingInterval: POLL_MS });
    return { kind: 'wallet', account, wallet: wallet as unknown as MycelWalletClient };
  }
  const privateKey = `0x${[...o.key].map((b) => b.toString(16).padStart(2, '0')).join('')}` as Hex;
  const { walletClient } = createClients({ rpcUrl: o.rpcUrl, chainId: o.chain.id, account: privateKeyToAccount(privateKey) });
  return { kind: 'key', account: walletClient.account.address, wallet: walletClient as unknown as MycelWalletClient, publicKey: publicKeyOf(privateKey) };
}
