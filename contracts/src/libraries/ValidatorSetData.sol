// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBridgeCommon} from "../interfaces/IBridge.sol";

/// @title ValidatorSetData
/// @notice Stores a validator set as the code of a data contract (the SSTORE2 pattern) so that a
/// signature check reads the whole set with one cold account access instead of one cold SLOAD per
/// signer.
/// @dev Data contract code: one 0x00 byte (STOP, so calling it does nothing), then one 32-byte word
/// per member in strictly ascending address order:
///   bits   0..159  member address
///   bits 160..167  jurisdiction index (0..31, dense, in order of first appearance)
///   bits 168..183  jurisdiction code (two upper-case ASCII letters, e.g. 0x484b = "HK")
library ValidatorSetData {
    uint256 internal constant MAX_MEMBERS = 32;

    /// @notice Validates a set against every rule and deploys its data contract.
    /// @return data Address of the data contract.
    function create(address[] memory members, bytes2[] memory jurisdictions, uint8 threshold, uint8 minJurisdictions)
        internal
        returns (address data)
    {
        bytes memory runtime = encode(members, jurisdictions, threshold, minJurisdictions);
        // Initcode: PUSH2 len DUP1 PUSH1 0x0a RETURNDATASIZE CODECOPY RETURNDATASIZE RETURN, then the code.
        bytes memory initcode = abi.encodePacked(hex"61", uint16(runtime.length), hex"80600a3d393df3", runtime);
        assembly ("memory-safe") {
            data := create(0, add(initcode, 0x20), mload(initcode))
        }
        if (data == address(0)) revert IBridgeCommon.InvalidValidatorSet();
    }

    /// @notice Checks the set rules and returns the data contract's code.
    function encode(address[] memory members, bytes2[] memory jurisdictions, uint8 threshold, uint8 minJurisdictions)
        internal
        pure
        returns (bytes memory runtime)
    {
        uint256 n = members.length;
        if (n == 0 || n > MAX_MEMBERS) revert IBridgeCommon.InvalidValidatorSetSize(n);
        if (jurisdictions.length != n) revert IBridgeCommon.JurisdictionsLengthMismatch(n, jurisdictions.length);
        runtime = new bytes(1 + 32 * n);
        bytes2[] memory distinct = new bytes2[](n);
        uint256 distinctCount;
        address previous;
        for (uint256 i; i < n; ++i) {
            address member = members[i];
            if (member == address(0)) revert IBridgeCommon.ZeroMember(i);
            if (i != 0) {
                if (member == previous) revert IBridgeCommon.DuplicateMember(i, member);
                if (member < previous) revert IBridgeCommon.MembersNotAscending(i);
            }
            bytes2 code = jurisdictions[i];
            if (!_isJurisdictionCode(code)) revert IBridgeCommon.InvalidJurisdictionCode(i, code);
            uint256 index;
            while (index < distinctCount && distinct[index] != code) ++index;
            if (index == distinctCount) distinct[distinctCount++] = code;
            uint256 word = uint256(uint160(member)) | (index << 160) | (uint256(uint16(code)) << 168);
            assembly ("memory-safe") {
                mstore(add(add(runtime, 0x21), shl(5, i)), word)
            }
            previous = member;
        }
        uint256 minimum = (2 * n) / 3 + 1;
        if (threshold < minimum) revert IBridgeCommon.ThresholdTooLow(threshold, minimum);
        if (threshold > n) revert IBridgeCommon.ThresholdTooHigh(threshold, n);
        if (minJurisdictions == 0 || minJurisdictions > distinctCount) {
            revert IBridgeCommon.InvalidMinJurisdictions(minJurisdictions, distinctCount);
        }
    }

    /// @notice Reads a set back from its data contract.
    function read(address data) internal view returns (address[] memory members, bytes2[] memory jurisdictions) {
        uint256 n = (data.code.length - 1) / 32;
        members = new address[](n);
        jurisdictions = new bytes2[](n);
        bytes memory words = new bytes(32 * n);
        assembly ("memory-safe") {
            extcodecopy(data, add(words, 0x20), 1, mload(words))
        }
        for (uint256 i; i < n; ++i) {
            uint256 word;
            assembly ("memory-safe") {
                word := mload(add(add(words, 0x20), shl(5, i)))
            }
            members[i] = address(uint160(word));
            jurisdictions[i] = bytes2(uint16(word >> 168));
        }
    }

    function _isJurisdictionCode(bytes2 code) private pure returns (bool) {
        uint8 a = uint8(code[0]);
        uint8 b = uint8(code[1]);
        return a >= 0x41 && a <= 0x5a && b >= 0x41 && b <= 0x5a;
    }
}
