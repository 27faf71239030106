// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title MirroredToken
/// @notice The Ethereum representation of a token locked in the Conflux eSpace vault. Only the
/// gateway named at deployment can mint and burn; it has the source token's decimals.
contract MirroredToken is ERC20, ERC20Permit {
    /// @notice The gateway that mints and burns this token (immutable: checking it reads no storage).
    address public immutable gateway;
    uint8 private immutable _decimals;

    error OnlyGateway(address caller);

    constructor(string memory name_, string memory symbol_, uint8 decimals_, address gateway_)
        ERC20(name_, symbol_)
        ERC20Permit(name_)
    {
        gateway = gateway_;
        _decimals = decimals_;
    }

    modifier onlyGateway() {
        if (msg.sender != gateway) revert OnlyGateway(msg.sender);
        _;
    }

    /// @notice Mints `amount` to `to`; gateway only.
    /// @return Always true (a call that expects return data skips the caller's EXTCODESIZE check).
    function mint(address to, uint256 amount) external onlyGateway returns (bool) {
        _mint(to, amount);
        return true;
    }

    /// @notice Burns `amount` from `from` without allowance; gateway only (the gateway burns only
    /// from its own caller).
    function burn(address from, uint256 amount) external onlyGateway {
        _burn(from, amount);
    }

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _decimals;
    }
}
