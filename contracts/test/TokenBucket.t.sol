// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";

import {TokenBucket} from "../src/libraries/TokenBucket.sol";

/// @notice The packed governor word: compact amounts, refill, consumption.
contract TokenBucketTest is Test {
    function testFuzz_encode_exactRoundTripOrRefusal(uint256 value) public pure {
        (uint32 packed, bool exact) = TokenBucket.encode(value);
        if (exact) assertEq(TokenBucket.decode(packed), value);
        else assertTrue(value >= 1 << 24 && value % 10 != 0 || _hasNoShortForm(value));
    }

    function testFuzz_encode_acceptsEveryMantissaTimesPowerOfTen(uint24 mantissa, uint8 exponent) public pure {
        exponent = uint8(bound(exponent, 0, 50));
        uint256 value = uint256(mantissa) * 10 ** exponent;
        (uint32 packed, bool exact) = TokenBucket.encode(value);
        assertTrue(exact);
        assertEq(TokenBucket.decode(packed), value);
    }

    function testFuzz_take_neverExceedsCapacityPlusRefill(uint24 c, uint24 r, uint32 elapsed, uint256 amount) public pure {
        vm.assume(c > 0);
        uint256 word = TokenBucket.configure(0, uint32(uint256(c) << 8), uint32(uint256(r) << 8), 0, 1_000);
        // drain it, then wait and take as much as allowed
        (bool ok, uint256 next) = TokenBucket.take(word, c, 1_000);
        assertTrue(ok);
        uint256 now_ = 1_000 + uint256(elapsed);
        amount = bound(amount, 1, uint256(c) * 2);
        (ok, next) = TokenBucket.take(next, amount, now_);
        uint256 allowed = uint256(elapsed) * r;
        if (allowed > c) allowed = c;
        assertEq(ok, amount <= allowed);
        if (ok) assertEq(TokenBucket.availableAt(next, now_), allowed - amount);
        assertLe(TokenBucket.availableAt(next, now_ + 10 ** 6), c);
    }

    function test_tag_isKeptByConfigureAndTake() public pure {
        uint256 word = TokenBucket.withTag(0, 1030);
        word = TokenBucket.configure(word, 1000 << 8, 1 << 8, 0, 5);
        (, word) = TokenBucket.take(word, 10, 6);
        assertEq(TokenBucket.tagOf(word), 1030);
        assertEq(TokenBucket.capacityOf(word), 1000);
    }

    function _hasNoShortForm(uint256 value) private pure returns (bool) {
        while (value >= 1 << 24) {
            if (value % 10 != 0) return true;
            value /= 10;
        }
        return false;
    }
}
