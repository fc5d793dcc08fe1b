// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/**
 * @title MycelToken: the stake and reward token of the mycel network
 * @notice A plain ERC-20 with EIP-2612 permit (approve by signature, so a job can be posted in one transaction)
 * and burn (the JobMarket burns part of a dispute loser's stake). The whole supply is minted once, in the
 * constructor, to `holder`. There is no owner, no mint after deployment, no pause and no blocklist: nobody can
 * move anybody's tokens except through the holder's own transfer, approve or permit.
 */
contract MycelToken is ERC20, ERC20Permit, ERC20Burnable {
    /**
     * @param name_ ERC-20 name, also the EIP-712 domain name that permit signatures commit to.
     * @param symbol_ ERC-20 symbol.
     * @param holder Receives the whole supply.
     * @param supply Total supply in base units (18 decimals).
     */
    constructor(string memory name_, string memory symbol_, address holder, uint256 supply)
        ERC20(name_, symbol_)
        ERC20Permit(name_)
    {
        _mint(holder, supply);
    }
}
