// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {F32} from "../F32.sol";

/**
 * @title F32Harness: F32's operations as external pure functions, for tests and benchmarks
 * @notice The batch entry points run one operation over whole arrays in a single eth_call and also return the gas
 * spent inside the F32 calls alone (measured with gasleft() around each call, so calldata decoding, the loop
 * and the result array are excluded; the gasleft() reads and the subtraction are included: see {gasOverhead}).
 */
contract F32Harness {
    /// @notice The operand arrays of a batch have different lengths.
    error F32HarnessLengthMismatch(uint256 a, uint256 b);

    enum Binary { Add, Sub, Mul, Div, Min, Max }
    enum Compare { Eq, Lt, Le }

    function add(uint32 a, uint32 b) external pure returns (uint32) { return F32.add(a, b); }
    function sub(uint32 a, uint32 b) external pure returns (uint32) { return F32.sub(a, b); }
    function mul(uint32 a, uint32 b) external pure returns (uint32) { return F32.mul(a, b); }
    function div(uint32 a, uint32 b) external pure returns (uint32) { return F32.div(a, b); }
    function fma(uint32 a, uint32 b, uint32 c) external pure returns (uint32) { return F32.fma(a, b, c); }
    function sqrt(uint32 a) external pure returns (uint32) { return F32.sqrt(a); }
    function min(uint32 a, uint32 b) external pure returns (uint32) { return F32.min(a, b); }
    function max(uint32 a, uint32 b) external pure returns (uint32) { return F32.max(a, b); }
    function eq(uint32 a, uint32 b) external pure returns (bool) { return F32.eq(a, b); }
    function lt(uint32 a, uint32 b) external pure returns (bool) { return F32.lt(a, b); }
    function le(uint32 a, uint32 b) external pure returns (bool) { return F32.le(a, b); }
    function fromInt32(int32 x) external pure returns (uint32) { return F32.fromInt32(x); }
    function toInt32(uint32 a) external pure returns (int32) { return F32.toInt32(a); }
    function toInt32Strict(uint32 a) external pure returns (int32) { return F32.toInt32Strict(a); }

    /// @notice op(a[i], b[i]) for every i, and the gas spent in the operation.
    function binaryBatch(Binary op, uint32[] calldata a, uint32[] calldata b)
        external
        view
        returns (uint32[] memory out, uint256 gasUsed)
    {
        if (a.length != b.length) revert F32HarnessLengthMismatch(a.length, b.length);
        function(uint32, uint32) pure returns (uint32) f = _binary(op);
        out = new uint32[](a.length);
        for (uint256 i = 0; i < a.length; ++i) {
            (uint32 x, uint32 y) = (a[i], b[i]);
            uint256 before = gasleft();
            uint32 r = f(x, y);
            gasUsed += before - gasleft();
            out[i] = r;
        }
    }

    /// @notice The comparison op(a[i], b[i]) for every i, and the gas spent in the comparison.
    function compareBatch(Compare op, uint32[] calldata a, uint32[] calldata b)
        external
        view
        returns (bool[] memory out, uint256 gasUsed)
    {
        if (a.length != b.length) revert F32HarnessLengthMismatch(a.length, b.length);
        function(uint32, uint32) pure returns (bool) f =
            op == Compare.Eq ? F32.eq : op == Compare.Lt ? F32.lt : F32.le;
        out = new bool[](a.length);
        for (uint256 i = 0; i < a.length; ++i) {
            (uint32 x, uint32 y) = (a[i], b[i]);
            uint256 before = gasleft();
            bool r = f(x, y);
            gasUsed += before - gasleft();
            out[i] = r;
        }
    }

    /// @notice fma(a[i], b[i], c[i]) for every i, and the gas spent in fma.
    function fmaBatch(uint32[] calldata a, uint32[] calldata b, uint32[] calldata c)
        external
        view
        returns (uint32[] memory out, uint256 gasUsed)
    {
        if (a.length != b.length) revert F32HarnessLengthMismatch(a.length, b.length);
        if (a.length != c.length) revert F32HarnessLengthMismatch(a.length, c.length);
        out = new uint32[](a.length);
        for (uint256 i = 0; i < a.length; ++i) {
            (uint32 x, uint32 y, uint32 z) = (a[i], b[i], c[i]);
            uint256 before = gasleft();
            uint32 r = F32.fma(x, y, z);
            gasUsed += before - gasleft();
            out[i] = r;
        }
    }

    /// @notice sqrt(a[i]) for every i, and the gas spent in sqrt.
    function sqrtBatch(uint32[] calldata a) external view returns (uint32[] memory out, uint256 gasUsed) {
        out = new uint32[](a.length);
        for (uint256 i = 0; i < a.length; ++i) {
            uint32 v = a[i];
            uint256 before = gasleft();
            uint32 r = F32.sqrt(v);
            gasUsed += before - gasleft();
            out[i] = r;
        }
    }

    /// @notice Saturating toInt32(a[i]) for every i, and the gas spent in the conversion.
    function toInt32Batch(uint32[] calldata a) external view returns (int32[] memory out, uint256 gasUsed) {
        out = new int32[](a.length);
        for (uint256 i = 0; i < a.length; ++i) {
            uint32 v = a[i];
            uint256 before = gasleft();
            int32 r = F32.toInt32(v);
            gasUsed += before - gasleft();
            out[i] = r;
        }
    }

    /// @notice fromInt32(x[i]) for every i, and the gas spent in the conversion.
    function fromInt32Batch(int32[] calldata x) external view returns (uint32[] memory out, uint256 gasUsed) {
        out = new uint32[](x.length);
        for (uint256 i = 0; i < x.length; ++i) {
            int32 v = x[i];
            uint256 before = gasleft();
            uint32 r = F32.fromInt32(v);
            gasUsed += before - gasleft();
            out[i] = r;
        }
    }

    /// @notice The gas the measurement itself adds to each operation (two gasleft() reads and the arithmetic).
    function gasOverhead() external view returns (uint256 gasUsed) {
        uint256 before = gasleft();
        gasUsed = before - gasleft();
    }

    function _binary(Binary op) private pure returns (function(uint32, uint32) pure returns (uint32)) {
        if (op == Binary.Add) return F32.add;
        if (op == Binary.Sub) return F32.sub;
        if (op == Binary.Mul) return F32.mul;
        if (op == Binary.Div) return F32.div;
        if (op == Binary.Min) return F32.min;
        return F32.max;
    }
}
