// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/IAccessControlDefaultAdminRules.sol";

import {IBridgeVault} from "../../src/interfaces/IBridge.sol";

/// @notice What the tests call on a deployed BridgeVault: its public interface plus the getters
/// of its constants and roles. The tests deploy the vault from its artifact and never import
/// BridgeVault.sol: everything importing it is compiled in the vault's runs = 1 profile, and with
/// the whole suite in that one compilation solcjs 0.8.28 crashed ("memory access out of bounds").
interface IVault is IBridgeVault, IAccessControlDefaultAdminRules {
    function DEFAULT_ADMIN_ROLE() external view returns (bytes32);
    function PAUSER_ROLE() external view returns (bytes32);
    function RELEASE_TYPEHASH() external view returns (bytes32);
    function CANCEL_TYPEHASH() external view returns (bytes32);
    function REFUND_TYPEHASH() external view returns (bytes32);
    function RELEASE_ROOT_TYPEHASH() external view returns (bytes32);
    function VALIDATOR_SET_UPDATE_TYPEHASH() external view returns (bytes32);
    function DELAY_PARAMETER() external view returns (bytes32);
    function GRACE_PERIOD_PARAMETER() external view returns (bytes32);
    function NATIVE_PAYOUT_GAS() external view returns (uint256);
    function adminModule() external view returns (address);
    function validatorSetFactory() external view returns (address);
    function pendingGovernorOf(address token)
        external
        view
        returns (uint256 capacity, uint256 refillPerSecond, uint256 largeTransferThreshold, uint64 effectiveAt);
    function pendingParameterOf(bytes32 parameter) external view returns (uint64 value, uint64 effectiveAt);
}
