// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title FeeOnTransferToken
/// @notice An ERC-20 that burns `feeBps` / 10,000 of every transfer (mints and burns excepted),
/// for devnets and tests: the receiver gets less than was sent. Anyone can mint. NOT for production.
contract FeeOnTransferToken is ERC20 {
    uint8 private immutable _decimals;
    uint16 public immutable feeBps;

    error FeeTooHigh(uint16 feeBps);

    constructor(string memory name_, string memory symbol_, uint8 decimals_, uint16 feeBps_) ERC20(name_, symbol_) {
        if (feeBps_ > 10_000) revert FeeTooHigh(feeBps_);
        _decimals = decimals_;
        feeBps = feeBps_;
    }

    /// @notice Mints `amount` to `to` (unrestricted: test token).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) {
            super._update(from, to, value);
            return;
        }
        uint256 fee = (value * feeBps) / 10_000;
        super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}
