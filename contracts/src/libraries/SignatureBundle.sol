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
            // Walks the signatures [p, end) and the ascending members [mp, mEnd) together.
            // buf holds the ecrecover input (digest already stored at buf).
            function walk(mp, mEnd, buf, p, end) -> c, x, y, mask {
                let previous := 0
                for { let i := 0 } lt(p, end) {
                    p := add(p, 65)
                    i := add(i, 1)
                } {
                    {
                        let s := calldataload(add(p, 32))
                        let v := byte(0, calldataload(add(p, 64)))
                        // s <= secp256k1n / 2 and v in {27, 28}
                        if or(
                            gt(s, 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0),
                            iszero(or(eq(v, 27), eq(v, 28)))
                        ) {
                            c := 2
                            x := i
                            leave
                        }
                        mstore(add(buf, 0x20), v)
                        mstore(add(buf, 0x40), calldataload(p))
                        mstore(add(buf, 0x60), s)
                    }
                    mstore(0x00, 0)
                    // A failed call to the precompile means out of gas, not a bad signature:
                    // revert, so that a short gas limit can never make a batch skip valid items.
                    if iszero(staticcall(gas(), 1, buf, 0x80, 0x00, 0x20)) { revert(0, 0) }
                    let signer := mload(0x00)
                    if iszero(signer) {
                        c := 2
                        x := i
                        leave
                    }
                    if iszero(gt(signer, previous)) {
                        c := 3
                        x := i
                        leave
                    }
                    previous := signer
                    let w := 0
                    for {} lt(mp, mEnd) { mp := add(mp, 0x20) } {
                        w := mload(mp)
                        if iszero(lt(and(w, 0xffffffffffffffffffffffffffffffffffffffff), signer)) { break }
                    }
                    if or(eq(mp, mEnd), iszero(eq(and(w, 0xffffffffffffffffffffffffffffffffffffffff), signer))) {
                        c := 4
                        x := i
                        y := signer
                        leave
                    }
                    mask := or(mask, shl(and(shr(160, w), 0xff), 1))
                    mp := add(mp, 0x20)
                }
            }
            function run(setData, thr, minJ, dig, off, len) -> c, x, y {
                if or(iszero(len), mod(len, 65)) {
                    c := 1
                    x := len
                    leave
                }
                let members := mload(0x40)
                let mEnd := add(members, sub(extcodesize(setData), 1))
                extcodecopy(setData, members, 1, sub(mEnd, members))
                mstore(mEnd, dig)
                let mask := 0
                c, x, y, mask := walk(members, mEnd, mEnd, off, add(off, len))
                if c { leave }
                let count := div(len, 65)
                if lt(count, thr) {
                    c := 5
                    x := count
                    y := thr
                    leave
                }
                let k := 0
                for {} mask { k := add(k, 1) } { mask := and(mask, sub(mask, 1)) }
                if lt(k, minJ) {
                    c := 6
                    x := k
                    y := minJ
                }
            }
            code, a, b := run(data, threshold, minJurisdictions, digest, signatures.offset, signatures.length)
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
