// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MirroredToken} from "./MirroredToken.sol";

/// @title MirrorFactory
/// @notice Deploys the MirroredTokens of one gateway. The gateway creates its factory in its
/// constructor, so the mirror's creation code lives in the factory and not in the gateway's
/// runtime code (which would otherwise exceed the 24,576-byte limit of EIP-170).
contract MirrorFactory {
    /// @notice The gateway that created this factory; the only caller, and the mirrors' gateway.
    address public immutable gateway;

    error OnlyGateway(address caller);

    constructor() {
        gateway = msg.sender;
    }

    /// @notice Deploys a mirror whose minter is the gateway and whose issuer is `issuer`
    /// (address(0) = none: nobody can freeze its holders).
    function create(string calldata name, string calldata symbol, uint8 decimals, address issuer)
        external
        returns (address)
    {
        if (msg.sender != gateway) revert OnlyGateway(msg.sender);
        return address(new MirroredToken(name, symbol, decimals, gateway, issuer));
    }
}
