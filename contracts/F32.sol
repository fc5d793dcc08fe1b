// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/**
 * @title F32: IEEE 754 binary32 in integer arithmetic
 * @notice The contract side of mycel's scalar float32 machine. Every value is a `uint32` bit pattern. Results are
 * bit-exact with the TypeScript reference (`Math.fround(a op b)` for add/sub/mul/div/sqrt, `fmax`/`fmin` from
 * src/tensor/f32.ts): round to nearest, ties to even; subnormals are kept (no flush to zero); infinities follow
 * IEEE 754; every NaN result is the canonical quiet NaN 0x7fc00000, whatever the payload of the NaN operands.
 *
 * Method: each finite operand is unpacked to an integer significand `m` and biased exponent `e` with
 * value = m * 2^(e - 150) (subnormals: e = 1, no hidden bit). The operation is carried out exactly on uint256
 * integers (or with a sticky bit below the rounding position for div and sqrt) and rounded once by {_round}.
 *
 * Conversions: {toInt32} truncates toward zero and saturates (NaN -> 0, >= 2^31 -> 2^31 - 1, < -2^31 -> -2^31,
 * like WebAssembly's i32.trunc_sat_f32_s) so that a dispute step can always be executed; {toInt32Strict} reverts
 * with {F32ToInt32OutOfRange} instead, matching the tensor runtime's cast, which refuses such inputs.
 * {fromInt32} rounds to nearest even.
 */
library F32 {
    /// @notice The float32 `bits` is NaN or outside the int32 range (after truncation toward zero).
    error F32ToInt32OutOfRange(uint32 bits);

    uint32 internal constant CANONICAL_NAN = 0x7fc00000;
    uint32 internal constant POSITIVE_INFINITY = 0x7f800000;
    uint32 internal constant NEGATIVE_INFINITY = 0xff800000;
    uint32 internal constant SIGN_MASK = 0x80000000;

    uint256 private constant _ABS_MASK = 0x7fffffff;
    uint256 private constant _MANTISSA_MASK = 0x7fffff;
    uint256 private constant _HIDDEN_BIT = 0x800000;
    uint256 private constant _EXPONENT_MAX = 0xff;

    // ------------------------------------------------------------------ arithmetic

    /// @notice a + b, correctly rounded.
    function add(uint32 a, uint32 b) internal pure returns (uint32) {
        unchecked {
            // All arithmetic is on uint256 values below 2^50 (24-bit significands shifted by at most 25).
            uint256 ea = (uint256(a) >> 23) & _EXPONENT_MAX;
            uint256 eb = (uint256(b) >> 23) & _EXPONENT_MAX;
            if (ea == _EXPONENT_MAX || eb == _EXPONENT_MAX) return _addSpecial(a, b);
            if (uint256(a) & _ABS_MASK == 0) {
                // ±0 + ±0 is -0 only when both are -0; 0 + b is b exactly.
                return uint256(b) & _ABS_MASK == 0 ? a & b : b;
            }
            if (uint256(b) & _ABS_MASK == 0) return a;

            uint256 ma = uint256(a) & _MANTISSA_MASK;
            uint256 mb = uint256(b) & _MANTISSA_MASK;
            if (ea == 0) ea = 1;
            else ma |= _HIDDEN_BIT;
            if (eb == 0) eb = 1;
            else mb |= _HIDDEN_BIT;
            if (ea < eb) {
                (a, b) = (b, a);
                (ea, eb) = (eb, ea);
                (ma, mb) = (mb, ma);
            }

            uint256 d = ea - eb;
            // d >= 26: |b| < 2^(ea-152), below half an ulp of a and of the binade under a, so a +- b rounds
            // to a in round to nearest (a sticky bit would matter only for directed rounding).
            if (d > 25) return a;
            ma <<= d;
            int256 e = int256(eb);

            uint256 sign = uint256(a) >> 31;
            uint256 n;
            if ((a ^ b) & SIGN_MASK == 0) {
                n = ma + mb;
            } else if (ma > mb) {
                n = ma - mb;
            } else if (ma < mb) {
                n = mb - ma;
                sign ^= 1;
            } else {
                return 0; // x + (-x) is +0 in round to nearest
            }
            return _round(sign, n, e);
        }
    }

    /// @notice a - b, correctly rounded (a + (-b); a NaN b still gives the canonical NaN).
    function sub(uint32 a, uint32 b) internal pure returns (uint32) {
        return add(a, b ^ SIGN_MASK);
    }

    /// @notice a * b, correctly rounded.
    function mul(uint32 a, uint32 b) internal pure returns (uint32) {
        unchecked {
            // Significands are below 2^24, so the product is below 2^48; exponents are small ints.
            uint256 ea = (uint256(a) >> 23) & _EXPONENT_MAX;
            uint256 eb = (uint256(b) >> 23) & _EXPONENT_MAX;
            uint256 sign = (uint256(a) ^ uint256(b)) >> 31;
            if (ea == _EXPONENT_MAX || eb == _EXPONENT_MAX) {
                if (isNaN(a) || isNaN(b)) return CANONICAL_NAN;
                // inf * 0 is invalid; inf * x is inf.
                if (uint256(a) & _ABS_MASK == 0 || uint256(b) & _ABS_MASK == 0) return CANONICAL_NAN;
                return uint32((sign << 31) | POSITIVE_INFINITY);
            }
            if (uint256(a) & _ABS_MASK == 0 || uint256(b) & _ABS_MASK == 0) return uint32(sign << 31);

            uint256 ma = uint256(a) & _MANTISSA_MASK;
            uint256 mb = uint256(b) & _MANTISSA_MASK;
            if (ea == 0) ea = 1;
            else ma |= _HIDDEN_BIT;
            if (eb == 0) eb = 1;
            else mb |= _HIDDEN_BIT;
            // ma 2^(ea-150) * mb 2^(eb-150) = (ma mb) 2^((ea+eb-150) - 150)
            return _round(sign, ma * mb, int256(ea + eb) - 150);
        }
    }

    /**
     * @notice fma(a, b, c) = a * b + c rounded once (IEEE 754 fusedMultiplyAdd): the exact product and sum are
     * formed on integers and {_round} rounds them once.
     */
    function fma(uint32 a, uint32 b, uint32 c) internal pure returns (uint32) {
        unchecked {
            uint256 ea = (uint256(a) >> 23) & _EXPONENT_MAX;
            uint256 eb = (uint256(b) >> 23) & _EXPONENT_MAX;
            uint256 ec = (uint256(c) >> 23) & _EXPONENT_MAX;
            uint256 sp = (uint256(a) ^ uint256(b)) >> 31;
            if (ea == _EXPONENT_MAX || eb == _EXPONENT_MAX || ec == _EXPONENT_MAX) return _fmaSpecial(a, b, c, sp);
            // A zero product adds exactly (signed-zero rules included); a zero addend leaves the product's rounding.
            if (uint256(a) & _ABS_MASK == 0 || uint256(b) & _ABS_MASK == 0) return add(uint32(sp << 31), c);
            if (uint256(c) & _ABS_MASK == 0) return mul(a, b);

            uint256 ma = uint256(a) & _MANTISSA_MASK;
            uint256 mb = uint256(b) & _MANTISSA_MASK;
            uint256 mc = uint256(c) & _MANTISSA_MASK;
            if (ea == 0) ea = 1;
            else ma |= _HIDDEN_BIT;
            if (eb == 0) eb = 1;
            else mb |= _HIDDEN_BIT;
            if (ec == 0) ec = 1;
            else mc |= _HIDDEN_BIT;
            // In {_round}'s scale (n 2^(e - 150)): the product is (ma mb) at exponent ea + eb - 150 (below 2^48),
            // c is mc at exponent ec (below 2^24).
            int256 ep = int256(ea + eb) - 150;
            uint256 sc = uint256(c) >> 31;
            if (ep >= int256(ec)) return _alignedSum(sp, ma * mb, ep, sc, mc, int256(ec));
            return _alignedSum(sc, mc, int256(ec), sp, ma * mb, ep);
        }
    }

    /// @notice a / b, correctly rounded.
    function div(uint32 a, uint32 b) internal pure returns (uint32) {
        unchecked {
            // ma << 60 is below 2^84; the quotient and its doubling stay far below 2^256.
            uint256 sign = (uint256(a) ^ uint256(b)) >> 31;
            if (isNaN(a) || isNaN(b)) return CANONICAL_NAN;
            uint256 absA = uint256(a) & _ABS_MASK;
            uint256 absB = uint256(b) & _ABS_MASK;
            if (absA == POSITIVE_INFINITY) {
                return absB == POSITIVE_INFINITY ? CANONICAL_NAN : uint32((sign << 31) | POSITIVE_INFINITY);
            }
            if (absB == POSITIVE_INFINITY) return uint32(sign << 31);
            if (absB == 0) return absA == 0 ? CANONICAL_NAN : uint32((sign << 31) | POSITIVE_INFINITY);
            if (absA == 0) return uint32(sign << 31);

            uint256 ea = absA >> 23;
            uint256 eb = absB >> 23;
            uint256 ma = absA & _MANTISSA_MASK;
            uint256 mb = absB & _MANTISSA_MASK;
            if (ea == 0) ea = 1;
            else ma |= _HIDDEN_BIT;
            if (eb == 0) eb = 1;
            else mb |= _HIDDEN_BIT;
            // The quotient has at least 37 bits (ma >= 1, mb < 2^24), so the sticky bit in bit 0 lies below
            // the rounding position: n = 2q + sticky rounds exactly as 2 ma 2^60 / mb does.
            uint256 scaled = ma << 60;
            uint256 q = scaled / mb;
            uint256 n = (q << 1) | (scaled % mb == 0 ? 0 : 1);
            // ma/mb 2^(ea-eb) = n 2^(ea-eb-61) = n 2^((ea-eb+89) - 150)
            return _round(sign, n, int256(ea) - int256(eb) + 89);
        }
    }

    /// @notice sqrt(a), correctly rounded; sqrt(-0) = -0, sqrt of any other negative is NaN.
    function sqrt(uint32 a) internal pure returns (uint32) {
        unchecked {
            // m << 61 is below 2^86; its square root below 2^43.
            uint256 absA = uint256(a) & _ABS_MASK;
            if (absA == 0) return a;
            if (absA > POSITIVE_INFINITY) return CANONICAL_NAN;
            if (uint256(a) >> 31 == 1) return CANONICAL_NAN;
            if (absA == POSITIVE_INFINITY) return a;

            uint256 e = absA >> 23;
            uint256 m = absA & _MANTISSA_MASK;
            if (e == 0) e = 1;
            else m |= _HIDDEN_BIT;
            // value = m 2^t with t = e - 150; make t even so that the exponent halves exactly.
            int256 t = int256(e) - 150;
            if (e & 1 == 1) {
                m <<= 1;
                t -= 1;
            }
            uint256 big = m << 60;
            uint256 r = Math.sqrt(big);
            // r >= 2^30: the sticky bit is far below the rounding position (see div).
            uint256 n = (r << 1) | (r * r == big ? 0 : 1);
            // sqrt(m 2^t) = sqrt(big) 2^((t-60)/2) = n 2^((t-60)/2 - 1)
            return _round(0, n, (t - 60) / 2 + 149);
        }
    }

    /// @notice IEEE 754-2019 maximum: NaN if either is NaN (canonical), -0 < +0.
    function max(uint32 a, uint32 b) internal pure returns (uint32) {
        if (isNaN(a) || isNaN(b)) return CANONICAL_NAN;
        return _orderKey(a) >= _orderKey(b) ? a : b;
    }

    /// @notice IEEE 754-2019 minimum: NaN if either is NaN (canonical), -0 < +0.
    function min(uint32 a, uint32 b) internal pure returns (uint32) {
        if (isNaN(a) || isNaN(b)) return CANONICAL_NAN;
        return _orderKey(a) <= _orderKey(b) ? a : b;
    }

    // ------------------------------------------------------------------ comparisons (IEEE: NaN compares false)

    /// @notice True when a is NaN (any payload).
    function isNaN(uint32 a) internal pure returns (bool) {
        return uint256(a) & _ABS_MASK > POSITIVE_INFINITY;
    }

    /// @notice a == b: false if either is NaN; +0 == -0.
    function eq(uint32 a, uint32 b) internal pure returns (bool) {
        if (isNaN(a) || isNaN(b)) return false;
        return a == b || (uint256(a) | uint256(b)) & _ABS_MASK == 0;
    }

    /// @notice a < b: false if either is NaN; -0 < +0 is false.
    function lt(uint32 a, uint32 b) internal pure returns (bool) {
        if (isNaN(a) || isNaN(b)) return false;
        if ((uint256(a) | uint256(b)) & _ABS_MASK == 0) return false;
        return _orderKey(a) < _orderKey(b);
    }

    /// @notice a <= b: false if either is NaN; -0 <= +0 and +0 <= -0.
    function le(uint32 a, uint32 b) internal pure returns (bool) {
        if (isNaN(a) || isNaN(b)) return false;
        if ((uint256(a) | uint256(b)) & _ABS_MASK == 0) return true;
        return _orderKey(a) <= _orderKey(b);
    }

    // ------------------------------------------------------------------ conversions

    /// @notice int32 -> float32, round to nearest even (|x| > 2^24 may round).
    function fromInt32(int32 x) internal pure returns (uint32) {
        if (x == 0) return 0;
        unchecked {
            // -int256(x) cannot overflow: int256 holds -int32.min.
            if (x < 0) return _round(1, uint256(-int256(x)), 150);
            return _round(0, uint256(int256(x)), 150);
        }
    }

    /**
     * @notice float32 -> int32, truncating toward zero and saturating: NaN -> 0, x >= 2^31 -> 2^31 - 1,
     * x < -2^31 -> -2^31 (WebAssembly i32.trunc_sat_f32_s). Total, so a dispute step can always execute.
     */
    function toInt32(uint32 a) internal pure returns (int32) {
        if (isNaN(a)) return 0;
        (bool inRange, int32 v) = _truncate(a);
        if (inRange) return v;
        return uint256(a) >> 31 == 1 ? type(int32).min : type(int32).max;
    }

    /// @notice float32 -> int32 truncating toward zero; reverts with {F32ToInt32OutOfRange} for NaN or out of range.
    function toInt32Strict(uint32 a) internal pure returns (int32) {
        (bool inRange, int32 v) = _truncate(a);
        if (!inRange || isNaN(a)) revert F32ToInt32OutOfRange(a);
        return v;
    }

    // ------------------------------------------------------------------ internals

    /// @dev Truncation of a non-NaN value; inRange is false when |a| >= 2^31 (except exactly -2^31) or a is inf.
    function _truncate(uint32 a) private pure returns (bool inRange, int32 v) {
        unchecked {
            // Shifts below keep the magnitude below 2^31, so the int256 -> int32 narrowing is exact.
            uint256 e = (uint256(a) >> 23) & _EXPONENT_MAX;
            if (e < 127) return (true, 0); // |a| < 1, zeros and subnormals included
            if (e >= 158) {
                // 2^31 <= |a|: only -2^31 itself fits
                return (a == 0xcf000000, type(int32).min);
            }
            uint256 m = (uint256(a) & _MANTISSA_MASK) | _HIDDEN_BIT;
            uint256 mag = e >= 150 ? m << (e - 150) : m >> (150 - e);
            int256 s = int256(mag);
            return (true, int32(uint256(a) >> 31 == 1 ? -s : s));
        }
    }

    /// @dev add with an inf or NaN operand.
    function _addSpecial(uint32 a, uint32 b) private pure returns (uint32) {
        if (isNaN(a) || isNaN(b)) return CANONICAL_NAN;
        uint256 absA = uint256(a) & _ABS_MASK;
        uint256 absB = uint256(b) & _ABS_MASK;
        if (absA == POSITIVE_INFINITY && absB == POSITIVE_INFINITY) {
            return a == b ? a : CANONICAL_NAN; // inf - inf is invalid
        }
        return absA == POSITIVE_INFINITY ? a : b;
    }

    /**
     * @dev Rounds sBig big 2^(eBig - 150) + sSmall small 2^(eSmall - 150) (eBig >= eSmall, both nonzero, below
     * 2^48) once.
     */
    function _alignedSum(uint256 sBig, uint256 big, int256 eBig, uint256 sSmall, uint256 small, int256 eSmall)
        private
        pure
        returns (uint32)
    {
        unchecked {
            uint256 d = uint256(eBig - eSmall);
            int256 e = eSmall;
            if (d <= 200) {
                big <<= d; // exact: below 2^248
            } else {
                // small (below 2^(eSmall + 48)) is under one unit of big << 60 (d > 108): a sticky 1 there rounds
                // exactly as small does, the rounding position being at least 36 bits above it.
                big <<= 60;
                small = 1;
                e = eBig - 60;
            }
            if (sBig == sSmall) return _round(sBig, big + small, e);
            if (big > small) return _round(sBig, big - small, e);
            if (big < small) return _round(sSmall, small - big, e);
            return 0; // exact cancellation is +0 in round to nearest
        }
    }

    /// @dev fma with an inf or NaN operand; sp is the sign of a * b.
    function _fmaSpecial(uint32 a, uint32 b, uint32 c, uint256 sp) private pure returns (uint32) {
        if (isNaN(a) || isNaN(b) || isNaN(c)) return CANONICAL_NAN;
        uint256 absA = uint256(a) & _ABS_MASK;
        uint256 absB = uint256(b) & _ABS_MASK;
        if (absA == POSITIVE_INFINITY || absB == POSITIVE_INFINITY) {
            if (absA == 0 || absB == 0) return CANONICAL_NAN; // inf * 0 is invalid
            // an infinite product plus c: inf - inf is invalid
            return add(uint32((sp << 31) | POSITIVE_INFINITY), c);
        }
        return c; // finite product plus an infinite c
    }

    /// @dev A key that orders non-NaN floats by value with -0 < +0: a strictly increasing map to uint256.
    function _orderKey(uint32 a) private pure returns (uint256) {
        unchecked {
            // absolute values are below 2^31, so neither expression wraps.
            uint256 abs = uint256(a) & _ABS_MASK;
            return uint256(a) >> 31 == 1 ? _ABS_MASK - abs : 0x80000000 + abs;
        }
    }

    /**
     * @dev Rounds sign * n * 2^(e - 150) (n > 0, exact) to the nearest float32, ties to even, with gradual
     * underflow and overflow to infinity. The significand carry of a round-up runs into the exponent field, which
     * is what IEEE's encoding intends (2^24 - 1 rounding up becomes the next binade, the largest subnormal the
     * smallest normal, the largest finite value infinity).
     */
    function _round(uint256 sign, uint256 n, int256 e) private pure returns (uint32) {
        unchecked {
            // n < 2^250 for every caller (fma's aligned sum is the largest), so shifts stay below 256; exponents are small ints.
            uint256 len = Math.log2(n) + 1;
            int256 shift = int256(len) - 24;
            int256 exponent = e + shift;
            if (exponent < 1) {
                // subnormal range: the scale is fixed at 2^-149
                shift = 1 - e;
                exponent = 1;
            }
            uint256 m;
            if (shift <= 0) {
                m = n << uint256(-shift);
            } else {
                uint256 s = uint256(shift);
                if (s > len) return uint32(sign << 31); // below half the smallest subnormal
                m = n >> s;
                uint256 rest = n & ((1 << s) - 1);
                uint256 half = 1 << (s - 1);
                if (rest > half || (rest == half && m & 1 == 1)) ++m;
            }
            // exponent - 1 plus the hidden bit (when present) gives the biased exponent field
            uint256 magnitude = (uint256(exponent - 1) << 23) + m;
            if (magnitude >= POSITIVE_INFINITY) magnitude = POSITIVE_INFINITY;
            return uint32((sign << 31) | magnitude);
        }
    }
}
