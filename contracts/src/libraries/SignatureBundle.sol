// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBridgeCommon} from "../interfaces/IBridge.sol";

/// @title SignatureBundle
/// @notice Checks a bundle of 65-byte (r, s, v) signatures, ordered by strictly ascending signer
/// address, against a validator set stored by {ValidatorSetData}.
/// @dev Returns an error code instead of reverting so the caller can fall back to the previous set
/// during its grace period. Members and signers are both ascending, so membership is one merge walk.
library SignatureBundle {
    uint256 internal constant OK = 0;
    uint256 internal constant ERR_LENGTH = 1;
    uint256 internal constant ERR_SIGNATURE = 2;
    uint256 internal constant ERR_NOT_ASCENDING = 3;
    uint256 internal constant ERR_NOT_MEMBER = 4;
    uint256 internal constant ERR_THRESHOLD = 5;
    uint256 internal constant ERR_JURISDICTIONS = 6;

    /// @notice Checks `signatures` over `digest` against the set in `data`.
    /// @return code OK or one of the ERR_* codes; `a` and `b` are the matching error's arguments.
    function check(address data, uint256 threshold, uint256 minJurisdictions, bytes32 digest, bytes calldata signatures)
        internal
        view
        returns (uint256 code, uint256 a, uint256 b)
    {
        assembly ("memory-safe") {
            // One flat loop (no Yul functions: their stack shuffling cost ~100 gas a signature).
            // Memory past the free pointer, never allocated: [members][sentinel][ecrecover input].
            // Members and signers are both ascending, so membership is one merge walk; the
            // sentinel (all ones) stops that walk without a bounds check in its inner loop.
            let len := signatures.length
            for {} 1 {} {
                if or(iszero(len), mod(len, 65)) {
                    code := 1
                    a := len
                    break
                }
                let off := signatures.offset
                let members := mload(0x40)
                let size := sub(extcodesize(data), 1)
                extcodecopy(data, members, 1, size)
                let mEnd := add(members, size)
                mstore(mEnd, not(0))
                let buf := add(mEnd, 0x20)
                mstore(buf, digest)
                let mp := members
                let previous := 0
                let mask := 0
                for {
                    let p := off
                    let end := add(off, len)
                } lt(p, end) { p := add(p, 65) } {
                    let s := calldataload(add(p, 32))
                    let v := byte(0, calldataload(add(p, 64)))
                    // s <= secp256k1n / 2 and v in {27, 28}
                    if or(
                        gt(s, 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0),
                        iszero(or(eq(v, 27), eq(v, 28)))
                    ) {
                        code := 2
                        a := div(sub(p, off), 65)
                        break
                    }
                    mstore(add(buf, 0x20), v)
                    mstore(add(buf, 0x40), calldataload(p))
                    mstore(add(buf, 0x60), s)
                    mstore(0x00, 0)
                    // A failed call to the precompile means out of gas, not a bad signature:
                    // revert, so that a short gas limit can never make a batch skip valid items.
                    if iszero(staticcall(gas(), 1, buf, 0x80, 0x00, 0x20)) { revert(0, 0) }
                    let signer := mload(0x00)
                    if iszero(signer) {
                        code := 2
                        a := div(sub(p, off), 65)
                        break
                    }
                    if iszero(gt(signer, previous)) {
                        code := 3
                        a := div(sub(p, off), 65)
                        break
                    }
                    previous := signer
                    // member words hold the address in bits 0..159: shifted left by 96 they
                    // compare as addresses, with the jurisdiction bits shifted out
                    let key := shl(96, signer)
                    let w := mload(mp)
                    for {} lt(shl(96, w), key) {} {
                        mp := add(mp, 0x20)
                        w := mload(mp)
                    }
                    if or(iszero(lt(mp, mEnd)), iszero(eq(shl(96, w), key))) {
                        code := 4
                        a := div(sub(p, off), 65)
                        b := signer
                        break
                    }
                    mask := or(mask, shl(and(shr(160, w), 0xff), 1))
                    mp := add(mp, 0x20)
                }
                if code { break }
                let count := div(len, 65)
                if lt(count, threshold) {
                    code := 5
                    a := count
                    b := threshold
                    break
                }
                let k := 0
                for {} mask { k := add(k, 1) } { mask := and(mask, sub(mask, 1)) }
                if lt(k, minJurisdictions) {
                    code := 6
                    a := k
                    b := minJurisdictions
                }
                break
            }
        }
    }

    /// @notice The selector of the custom error matching a non-OK `code` from {check}, and how
    /// many of (a, b) it takes.
    function errorOf(uint256 code) internal pure returns (bytes4 selector, uint256 argc) {
        if (code == ERR_LENGTH) return (IBridgeCommon.InvalidSignaturesLength.selector, 1);
        if (code == ERR_SIGNATURE) return (IBridgeCommon.InvalidSignature.selector, 1);
        if (code == ERR_NOT_ASCENDING) return (IBridgeCommon.SignersNotAscending.selector, 1);
        if (code == ERR_NOT_MEMBER) return (IBridgeCommon.SignerNotMember.selector, 2);
        if (code == ERR_THRESHOLD) return (IBridgeCommon.BelowThreshold.selector, 2);
        return (IBridgeCommon.TooFewJurisdictions.selector, 2);
    }

    /// @notice Reverts with the custom error matching a non-OK `code` from {check}.
    function revertWith(uint256 code, uint256 a, uint256 b) internal pure {
        if (code == ERR_LENGTH) revert IBridgeCommon.InvalidSignaturesLength(a);
        if (code == ERR_SIGNATURE) revert IBridgeCommon.InvalidSignature(a);
        if (code == ERR_NOT_ASCENDING) revert IBridgeCommon.SignersNotAscending(a);
        if (code == ERR_NOT_MEMBER) revert IBridgeCommon.SignerNotMember(a, address(uint160(b)));
        if (code == ERR_THRESHOLD) revert IBridgeCommon.BelowThreshold(a, b);
        revert IBridgeCommon.TooFewJurisdictions(a, b);
    }
}
