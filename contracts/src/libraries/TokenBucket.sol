// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title TokenBucket
/// @notice The governor of one token packed into ONE storage word, so that a governed release
/// reads and writes a single slot (on the gateway the same word also carries the mirror's
/// source chain, so registration, source chain and bucket cost one cold SLOAD together).
/// @dev Word layout (bit ranges):
///     0..95   available      what may execute at once at `updatedAt` (exact token units)
///    96..127  updatedAt      unix seconds of the last refill, modulo 2^32 (elapsed time is
///                            taken modulo 2^32 too, so the word stays right past 2106)
///   128..159  capacity       compact amount (see below); 0 = no governor for this token
///   160..191  refillPerSecond compact amount
///   192..223  threshold      compact amount; transfers of at least this are delayed (0 = none)
///   224..254  tag            31 bits the owning contract uses (the gateway: the mirror's source chain)
///   255       paused         the token is paused on its own (setTokenPaused)
/// A compact amount is `mantissa << 8 | exponent`, worth mantissa * 10^exponent, with a 24-bit
/// mantissa: limits such as 1,500,000 HKD (1.5e12 base units) are exact; a value that is not
/// exactly representable is refused by `encode` (never rounded).
library TokenBucket {
    uint256 private constant AVAILABLE_MASK = (1 << 96) - 1;
    uint256 private constant MANTISSA_LIMIT = 1 << 24;

    /// @notice The compact form of `value`; `exact` is false when no 24-bit mantissa and
    /// power of ten give exactly `value`.
    function encode(uint256 value) internal pure returns (uint32 packed, bool exact) {
        uint256 exponent;
        while (value >= MANTISSA_LIMIT) {
            if (value % 10 != 0) return (0, false);
            value /= 10;
            ++exponent;
        }
        return (uint32((value << 8) | exponent), true);
    }

    /// @notice The amount a compact value stands for.
    /// @dev With the EXP opcode, unchecked: every compact value a bridge stores comes from
    /// `encode`, so mantissa * 10^exponent is exactly the uint256 it encoded and cannot overflow
    /// (Solidity's checked `10 ** e` is a loop that cost a release about 3 x 200 gas).
    function decode(uint256 packed) internal pure returns (uint256 value) {
        assembly ("memory-safe") {
            value := mul(and(shr(8, packed), 0xffffff), exp(10, and(packed, 0xff)))
        }
    }

    function capacityOf(uint256 word) internal pure returns (uint256) {
        return decode(uint32(word >> 128));
    }

    function refillOf(uint256 word) internal pure returns (uint256) {
        return decode(uint32(word >> 160));
    }

    function thresholdOf(uint256 word) internal pure returns (uint256) {
        return decode(uint32(word >> 192));
    }

    function tagOf(uint256 word) internal pure returns (uint32) {
        return uint32(word >> 224) & 0x7fffffff;
    }

    /// @notice The word with `tag` (below 2^31) replaced; the paused bit is kept.
    function withTag(uint256 word, uint32 tag) internal pure returns (uint256) {
        return (word & ~(uint256(0x7fffffff) << 224)) | (uint256(tag & 0x7fffffff) << 224);
    }

    function isPaused(uint256 word) internal pure returns (bool) {
        return word >> 255 != 0;
    }

    /// @notice The word with the paused bit set or cleared.
    function withPaused(uint256 word, bool paused) internal pure returns (uint256) {
        return paused ? word | (1 << 255) : word & ~uint256(1 << 255);
    }

    /// @notice What is available at `now`: min(capacity, available + elapsed * refill).
    function availableAt(uint256 word, uint256 now_) internal pure returns (uint256 available) {
        uint256 capacity = capacityOf(word);
        uint32 elapsed;
        unchecked {
            elapsed = uint32(now_) - uint32(word >> 96);
        }
        available = (word & AVAILABLE_MASK) + uint256(elapsed) * refillOf(word);
        if (available > capacity) available = capacity;
    }

    /// @notice Whether `amount` executes at once (no governor, or below the threshold and within
    /// what is available), and the word after consuming it.
    function take(uint256 word, uint256 amount, uint256 now_) internal pure returns (bool ok, uint256 next) {
        if (uint32(word >> 128) == 0) return (true, word);
        uint256 threshold = thresholdOf(word);
        if (threshold != 0 && amount >= threshold) return (false, word);
        uint256 available = availableAt(word, now_);
        if (amount > available) return (false, word);
        unchecked {
            next = (word & ~uint256(type(uint128).max)) | (uint256(uint32(now_)) << 96) | (available - amount);
        }
        return (true, next);
    }

    /// @notice The word with a new configuration (compact values) from `now`: the old rule refills
    /// up to now first, a token that had no governor starts full, and available never exceeds
    /// the new capacity. The tag and the paused bit are kept.
    function configure(uint256 word, uint32 capacity, uint32 refill, uint32 threshold, uint256 now_)
        internal
        pure
        returns (uint256)
    {
        uint256 newCapacity = decode(capacity);
        uint256 available = uint32(word >> 128) == 0 ? newCapacity : availableAt(word, now_);
        if (available > newCapacity) available = newCapacity;
        return available | (uint256(uint32(now_)) << 96) | (uint256(capacity) << 128) | (uint256(refill) << 160)
            | (uint256(threshold) << 192) | ((word >> 224) << 224);
    }
}
