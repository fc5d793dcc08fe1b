// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {F32} from "./F32.sol";

/**
 * @title MachineStep: one instruction of mycel's element machine, bit-exact with src/verify/machine
 * @notice The contract side of `execute` (src/verify/machine/execute.ts; semantics written down in isa.ts) and of
 * `encodeState` / `stateHashOf` (state.ts). A state is 137 bytes, big-endian: pc u32, steps u32, halted u8, then
 * r0..r31 as u32; its hash is SHA-256 of those bytes (the precompile). An instruction is 8 bytes: opcode u8, d u8,
 * a u8, b u8, imm u32 big-endian (encoding.ts). Registers are untyped 32-bit words: float ops read them as IEEE
 * binary32 through {F32}, integer ops as two's-complement int32 with wrapping.
 *
 * A `load` does not read memory here: its word is an input that the caller has proven (OneStepReferee opens it
 * against a tensor commitment). Faults mirror the TypeScript machine: {MachinePcOutOfRange} for a pc outside the
 * program (MachineFaultError), {MachineBadOpcode} and {MachineBadRegister} for an instruction that decodeProgram
 * rejects (ProgramDecodeError). A halted state is its own successor (nothing changes, not even the step count).
 */
library MachineStep {
    /// @notice The pc is outside a program of `instructions` instructions (TS: MachineFaultError).
    error MachinePcOutOfRange(uint32 pc, uint256 instructions);
    /// @notice The opcode is not one of isa.ts's OPCODE (TS: ProgramDecodeError "unknown opcode").
    error MachineBadOpcode(uint8 opcode);
    /// @notice A register operand is r32 or above (TS: ProgramDecodeError "a register number above r31").
    error MachineBadRegister(uint8 opcode, uint256 register);
    /// @notice An encoded state is not STATE_BYTES long, or its halted byte is neither 0 nor 1.
    error MachineBadState(uint256 length, uint8 halted);
    /// @notice A program's byte length is not a multiple of 8.
    error MachineBadProgram(uint256 length);

    uint256 internal constant STATE_BYTES = 137;
    uint256 internal constant INSTRUCTION_BYTES = 8;
    uint256 internal constant REGISTER_COUNT = 32;

    // Opcodes (isa.ts OPCODE): never renumber.
    uint8 internal constant HALT = 0x00;
    uint8 internal constant JNZ = 0x01;
    uint8 internal constant CONST = 0x10;
    uint8 internal constant LOAD = 0x11;
    uint8 internal constant SELECT = 0x12;
    uint8 internal constant FADD = 0x20;
    uint8 internal constant FSUB = 0x21;
    uint8 internal constant FMUL = 0x22;
    uint8 internal constant FDIV = 0x23;
    uint8 internal constant FSQRT = 0x24;
    uint8 internal constant FMIN = 0x25;
    uint8 internal constant FMAX = 0x26;
    uint8 internal constant FFMA = 0x27;
    uint8 internal constant FEQ = 0x30;
    uint8 internal constant FLT = 0x31;
    uint8 internal constant FLE = 0x32;
    uint8 internal constant FTOI = 0x40;
    uint8 internal constant ITOF = 0x41;
    uint8 internal constant IADD = 0x50;
    uint8 internal constant ISUB = 0x51;
    uint8 internal constant IMUL = 0x52;
    uint8 internal constant IAND = 0x53;
    uint8 internal constant IOR = 0x54;
    uint8 internal constant IXOR = 0x55;
    uint8 internal constant SHL = 0x56;
    uint8 internal constant SHR_S = 0x57;
    uint8 internal constant SHR_U = 0x58;
    uint8 internal constant IEQ = 0x59;
    uint8 internal constant ILT = 0x5a;
    uint8 internal constant ILE = 0x5b;
    uint8 internal constant DIVU = 0x5c;
    uint8 internal constant REMU = 0x5d;

    /// @notice A decoded machine state (state.ts MachineState).
    struct State {
        uint32 pc;
        uint32 steps;
        bool halted;
        uint32[32] r;
    }

    /// @notice A decoded instruction (isa.ts Instruction).
    struct Instruction {
        uint8 op;
        uint8 d;
        uint8 a;
        uint8 b;
        uint32 imm;
    }

    // ------------------------------------------------------------------ state encoding

    /// @notice Decodes encodeState's 137 bytes.
    function decode(bytes memory encoded) internal pure returns (State memory s) {
        if (encoded.length != STATE_BYTES) revert MachineBadState(encoded.length, 0);
        uint256 head;
        assembly ("memory-safe") {
            head := mload(add(encoded, 32))
        }
        uint8 halted = uint8(head >> 184);
        if (halted > 1) revert MachineBadState(encoded.length, halted);
        s.pc = uint32(head >> 224);
        s.steps = uint32(head >> 192);
        s.halted = halted == 1;
        uint32[32] memory r = s.r;
        assembly ("memory-safe") {
            let p := add(encoded, 41)
            for { let i := 0 } lt(i, 32) { i := add(i, 1) } {
                mstore(add(r, shl(5, i)), shr(224, mload(add(p, shl(2, i)))))
            }
        }
    }

    /// @notice encodeState: pc, steps, halted, r0..r31, big-endian (137 bytes).
    function encode(State memory s) internal pure returns (bytes memory out) {
        uint32[32] memory r = s.r;
        out = abi.encodePacked(s.pc, s.steps, s.halted, bytes32(0), bytes32(0), bytes32(0), bytes32(0));
        // abi.encodePacked pads array elements to 32 bytes, so the registers are packed by hand.
        assembly ("memory-safe") {
            let p := add(out, 41)
            for { let i := 0 } lt(i, 32) { i := add(i, 1) } {
                let at := add(p, shl(2, i))
                // Read-modify-write keeps the bytes after the 4 written ones (this never runs past `out`'s end
                // by more than the 28 bytes the last register's word spans, all in memory already allocated).
                mstore(at, or(shl(224, mload(add(r, shl(5, i)))), shr(32, shl(32, mload(at)))))
            }
        }
    }

    /**
     * @notice stateHashOf(initialState(index)) (state.ts): where element `index` of an op starts, pc 0, 0 steps, not
     * halted, r0 = index (INDEX_REGISTER) and r1..r31 = 0. The bisection's first agreed state.
     */
    function initialStateHash(uint32 index) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes9(0), index, bytes32(0), bytes32(0), bytes32(0), bytes28(0)));
    }

    /// @notice stateHashOf: SHA-256 of the encoded state.
    function hash(State memory s) internal pure returns (bytes32) {
        return sha256(encode(s));
    }

    // ------------------------------------------------------------------ instructions

    /// @notice Decodes 8 instruction bytes and checks them as decodeProgram does.
    function decodeInstruction(bytes8 raw) internal pure returns (Instruction memory ins) {
        uint64 w = uint64(raw);
        ins = Instruction(uint8(w >> 56), uint8(w >> 48), uint8(w >> 40), uint8(w >> 32), uint32(w));
        uint8 op = ins.op;
        if (!_known(op)) revert MachineBadOpcode(op);
        if (ins.d >= REGISTER_COUNT) revert MachineBadRegister(op, ins.d);
        if (ins.a >= REGISTER_COUNT) revert MachineBadRegister(op, ins.a);
        // load's b is an input number, not a register; select's and ffma's imm is their third register.
        if (op != LOAD && ins.b >= REGISTER_COUNT) revert MachineBadRegister(op, ins.b);
        if ((op == SELECT || op == FFMA) && ins.imm >= REGISTER_COUNT) revert MachineBadRegister(op, ins.imm);
    }

    /// @notice The instruction at `pc` of an encoded program; reverts {MachinePcOutOfRange} outside it.
    function fetch(bytes memory program, uint32 index) internal pure returns (bytes8 raw) {
        if (program.length % INSTRUCTION_BYTES != 0) revert MachineBadProgram(program.length);
        uint256 count = program.length / INSTRUCTION_BYTES;
        if (index >= count) revert MachinePcOutOfRange(index, count);
        bytes32 word;
        assembly ("memory-safe") {
            word := mload(add(add(program, 32), shl(3, index)))
        }
        raw = bytes8(word);
    }

    /// @notice machine.ts step(program, state, memory) with the loaded word given: the whole program is at hand.
    function stepProgram(State memory s, bytes memory program, uint32 loaded) internal pure {
        if (s.halted) return;
        execute(s, decodeInstruction(fetch(program, s.pc)), loaded);
    }

    /**
     * @notice execute.ts: advances `s` in place by the instruction `ins` (the one at s.pc). `loaded` is the word a
     * `load` reads (memory[ins.b][r[ins.a] + ins.imm], proven by the caller); other instructions ignore it.
     */
    function execute(State memory s, Instruction memory ins, uint32 loaded) internal pure {
        if (s.halted) return;
        uint32[32] memory r = s.r;
        uint8 op = ins.op;
        uint32 x = r[ins.a];
        uint32 y = op == LOAD ? 0 : r[ins.b];
        uint32 next;
        unchecked {
            next = s.pc + 1;
        }
        uint32 v;
        bool write = true;
        if (op < FADD) {
            if (op == HALT) {
                s.halted = true;
                next = s.pc;
                write = false;
            } else if (op == JNZ) {
                if (x != 0) next = ins.imm;
                write = false;
            } else if (op == CONST) {
                v = ins.imm;
            } else if (op == LOAD) {
                v = loaded;
            } else {
                v = x != 0 ? y : r[ins.imm];
            }
        } else if (op < FEQ) {
            if (op == FADD) v = F32.add(x, y);
            else if (op == FSUB) v = F32.sub(x, y);
            else if (op == FMUL) v = F32.mul(x, y);
            else if (op == FDIV) v = F32.div(x, y);
            else if (op == FSQRT) v = F32.sqrt(x);
            else if (op == FMIN) v = F32.min(x, y);
            else if (op == FMAX) v = F32.max(x, y);
            else v = F32.fma(x, y, r[ins.imm]);
        } else if (op < FTOI) {
            bool c = op == FEQ ? F32.eq(x, y) : op == FLT ? F32.lt(x, y) : F32.le(x, y);
            v = c ? 1 : 0;
        } else if (op < IADD) {
            v = op == FTOI ? uint32(int32(F32.toInt32(x))) : F32.fromInt32(int32(x));
        } else {
            v = _integer(op, x, y);
        }
        if (write) r[ins.d] = v;
        s.pc = next;
        unchecked {
            s.steps += 1;
        }
    }

    function _integer(uint8 op, uint32 x, uint32 y) private pure returns (uint32) {
        unchecked {
            if (op == IADD) return x + y;
            if (op == ISUB) return x - y;
            if (op == IMUL) return x * y;
            if (op == IAND) return x & y;
            if (op == IOR) return x | y;
            if (op == IXOR) return x ^ y;
            if (op == SHL) return x << (y & 31);
            if (op == SHR_S) return uint32(int32(x) >> (y & 31));
            if (op == SHR_U) return x >> (y & 31);
            if (op == IEQ) return x == y ? 1 : 0;
            if (op == ILT) return int32(x) < int32(y) ? 1 : 0;
            if (op == ILE) return int32(x) <= int32(y) ? 1 : 0;
            // Division by zero as RISC-V (isa.ts): no fault, all ones for divu, the dividend for remu.
            if (op == DIVU) return y == 0 ? type(uint32).max : x / y;
            return y == 0 ? x : x % y;
        }
    }

    function _known(uint8 op) private pure returns (bool) {
        if (op <= JNZ) return true;
        if (op >= CONST && op <= SELECT) return true;
        if (op >= FADD && op <= FFMA) return true;
        if (op >= FEQ && op <= FLE) return true;
        if (op == FTOI || op == ITOF) return true;
        return op >= IADD && op <= REMU;
    }
}
