// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

import {IVault} from "./IVault.sol";
import {Release} from "../../src/interfaces/IBridge.sol";

/// @notice ERC-20 whose transfer hooks call back into the vault (lock or unlock) once armed.
contract ReentrantToken is ERC20 {
    IVault public vault;
    bytes public payload;
    bool public armed;
    bytes public lastRevert;

    constructor() ERC20("Reentrant", "RE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function arm(IVault vault_, bytes calldata payload_) external {
        vault = vault_;
        payload = payload_;
        armed = true;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (armed) {
            armed = false;
            (bool ok, bytes memory ret) = address(vault).call(payload);
            if (!ok) {
                // bubble the vault's error so the test can see which guard fired
                assembly {
                    revert(add(ret, 0x20), mload(ret))
                }
            }
        }
    }
}

/// @notice Native recipient that reverts until told to accept.
contract RevertingReceiver {
    bool public accept;

    function setAccept(bool accept_) external {
        accept = accept_;
    }

    receive() external payable {
        require(accept, "no thanks");
    }
}

/// @notice Native recipient that tries to unlock again from its receive hook.
contract ReentrantReceiver {
    IVault public vault;
    Release public pending;
    bytes public sigs;
    bool public tried;
    bytes public reentryError;

    function arm(IVault vault_, Release calldata r, bytes calldata s) external {
        vault = vault_;
        pending = r;
        sigs = s;
    }

    receive() external payable {
        if (!tried) {
            tried = true;
            try vault.unlock(pending, sigs) {}
            catch (bytes memory err) {
                reentryError = err;
            }
        }
    }
}

/// @notice ERC-20 that, once broken, returns false instead of moving tokens.
contract FalseReturningToken is ERC20 {
    bool public broken;

    constructor() ERC20("False", "F") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setBroken(bool broken_) external {
        broken = broken_;
    }

    function transfer(address to, uint256 value) public override returns (bool) {
        return broken ? false : super.transfer(to, value);
    }

    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        return broken ? false : super.transferFrom(from, to, value);
    }
}
