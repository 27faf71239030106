// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @notice The MirroredToken as it was before the issuer role (commit d99f6fc), kept verbatim
/// bar its name: the baseline the freeze tests compare a mirror without issuer against (same
/// storage reads, same gas within the cost of one immutable check).
contract PlainMirroredToken is ERC20, ERC20Permit {
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

    function mint(address to, uint256 amount) external onlyGateway returns (bool) {
        _mint(to, amount);
        return true;
    }

    function burn(address from, uint256 amount) external onlyGateway {
        _burn(from, amount);
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }
}
