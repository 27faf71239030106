// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ValidatorSetData} from "./libraries/ValidatorSetData.sol";

/// @title ValidatorSetFactory
/// @notice Checks a validator set against every rule and deploys its data contract
/// ({ValidatorSetData}). Each bridge contract creates one in its constructor so that the rule
/// checks live outside its runtime code (EIP-170 limits that to 24,576 bytes). Anyone may call it:
/// a bridge trusts only the data contracts it asked for itself.
contract ValidatorSetFactory {
    /// @notice Validates the set and deploys its data contract; reverts with the rule it breaks.
    function create(address[] calldata members, bytes2[] calldata jurisdictions, uint8 threshold, uint8 minJurisdictions)
        external
        returns (address)
    {
        return ValidatorSetData.create(members, jurisdictions, threshold, minJurisdictions);
    }
}
